// One accepted connection over any of the streams in streams.hpp: reads
// bytes into the broker's Connection and writes what it sends, batching
// everything queued during one handler into one write (scatter-gather
// where the stream allows). Streams with a handshake (TLS, WebSocket) run
// it first, bounded by kHandshakeTimeout; the broker sees the connection
// only once it is done.
//
// Threading: every call happens on the loop that accepted the connection.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "broker/connection.hpp"
#include "broker/interfaces.hpp"
#include "net/socket.hpp"

namespace allscene::net {

struct ListenerContext;

inline constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

template <typename Stream>
class StreamConnection final : public broker::Transport,
                               public std::enable_shared_from_this<StreamConnection<Stream>> {
 public:
  StreamConnection(broker::Shard& shard, broker::PeerInfo peer, Socket socket,
                   std::shared_ptr<const ListenerContext> listener);
  ~StreamConnection() override;
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;

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

  // For logs: "listener address" (streams with a handshake; TCP logs nothing).
  std::string_view who() const {
    if constexpr (Stream::kHandshake) {
      return who_;
    } else {
      return {};
    }
  }
  void on_handshake(const boost::system::error_code& ec, std::string_view why);
  void read();
  void on_readable();                                                                 // kReadiness
  void on_read(const boost::system::error_code& ec, std::size_t n, std::size_t had);  // otherwise
  void schedule_write();
  void write();
  const std::vector<std::uint8_t>& flatten();
  void shutdown(bool protocol_error = false);
  void close_socket();
  void arm_deadline(std::chrono::steady_clock::duration after);

  // A member only some streams use: the others hold an empty type, which
  // [[no_unique_address]] makes take no space (idle TCP connections are
  // kept small). One empty type per T: two members of the same empty type
  // would need distinct addresses.
  template <typename T>
  struct Unused {};
  template <bool kUsed, typename T>
  using Only = std::conditional_t<kUsed, T, Unused<T>>;

  broker::Shard& shard_;
  Stream stream_;
  std::optional<broker::Connection> connection_;
  // Who is connecting, until the handshake is done and connection_ takes it
  // (on the heap: idle connections are kept small).
  [[no_unique_address]] Only<Stream::kHandshake, std::unique_ptr<broker::PeerInfo>> peer_;
  [[no_unique_address]] Only<Stream::kHandshake, std::string> who_;  // "listener address" for logs
  // Bytes of a packet not yet complete. Over TCP idle connections hold no
  // read buffer: data is read into one buffer per event loop (see
  // on_readable), and this one exists only while a packet is incomplete
  // (an empty vector costs 24 bytes inline); other streams read into this
  // one, created on their first read.
  std::unique_ptr<std::vector<std::uint8_t>> partial_;
  // What is queued and what is being written, on the heap only while
  // there is something to send: most connections are idle most of the time.
  struct Writes {
    Output pending;
    Output writing;
    std::vector<std::uint8_t> flat;  // streams without gather writes
  };
  Writes& writes();  // created on first use
  std::unique_ptr<Writes> writes_;
  // Handshake and close deadlines.
  [[no_unique_address]] Only<Stream::kHandshake, std::unique_ptr<boost::asio::steady_timer>>
      deadline_;
  bool write_scheduled_ = false;
  bool write_active_ = false;
  bool closing_ = false;
  bool shut_ = false;
  bool timed_out_ = false;
  std::size_t buffered_ = 0;  // pending_ + writing_, payloads included
};

class TcpStream;
class TlsStream;
template <typename Next>
class WsStream;

}  // namespace allscene::net
