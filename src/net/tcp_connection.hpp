// One accepted TCP connection: reads bytes into the broker's Connection and
// writes what it sends, batching everything queued during one handler into
// one scatter-gather write.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "broker/connection.hpp"
#include "broker/interfaces.hpp"

namespace allscene::net {

class TcpConnection final : public broker::Transport,
                            public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(boost::asio::ip::tcp::socket socket, broker::Shard& shard, broker::PeerInfo peer);
  ~TcpConnection() override;

  void start();

  // broker::Transport
  void send(std::span<const std::uint8_t> bytes) override;
  void send_publish(std::span<const std::uint8_t> header,
                    const broker::MessagePtr& message) override;
  void close() override;
  std::size_t buffered_bytes() const override { return buffered_; }

 private:
  // A run of bytes in the output buffer, or a shared payload.
  struct Segment {
    std::size_t offset = 0;
    std::size_t size = 0;
    broker::MessagePtr payload;
  };
  struct Output {
    std::vector<std::uint8_t> bytes;
    std::vector<Segment> segments;
    bool empty() const { return segments.empty(); }
    void clear() {
      bytes.clear();
      segments.clear();
    }
    void append(std::span<const std::uint8_t> data);
  };
  void account(std::size_t added);

  void read();
  void on_readable();
  void schedule_write();
  void write();
  void shutdown();

  boost::asio::ip::tcp::socket socket_;
  broker::Shard& shard_;
  std::optional<broker::Connection> connection_;
  // Bytes of a packet not yet complete. Idle connections hold no read
  // buffer: data is read into one buffer per event loop (see on_readable).
  std::vector<std::uint8_t> partial_;
  Output pending_;
  Output writing_;
  bool write_scheduled_ = false;
  bool write_active_ = false;
  bool closing_ = false;
  bool shut_ = false;
  std::size_t buffered_ = 0;  // pending_ + writing_, payloads included
};

}  // namespace allscene::net
