// The bridge's MQTT client to the upstream broker, on Asio (TCP or TLS
// through OpenSSL) and the allscene_mqtt codec: connects, keeps the link
// alive (PINGREQ every keep alive, closed after 1.5x of silence), and
// reconnects with capped exponential backoff and jitter. It logs why the
// link went down and when it tries again; the MQTT exchange itself is the
// Engine's.
//
// Threading: construct, call and destroy on the thread that runs `io`;
// handlers run there too.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bridge/backoff.hpp"
#include "bridge/config.hpp"
#include "bridge/engine.hpp"
#include "mqtt/packets.hpp"

namespace allscene::bridge {

class UpstreamClient final : public UpstreamPort {
 public:
  struct Handlers {
    std::function<void(const mqtt::Connack&)> up;
    std::function<void(const std::string& why)> down;  // only after an up
    std::function<void(const mqtt::Packet&)> packet;   // after up, until down
  };
  // Throws std::runtime_error when the TLS files cannot be loaded.
  UpstreamClient(boost::asio::io_context& io, const BridgeConfig& config, Handlers handlers);
  ~UpstreamClient() override;

  // The first attempt; later ones follow by themselves until stop().
  void start();
  void stop();
  void send(const mqtt::Packet& packet) override;
  std::size_t queued_bytes() const override { return queued_bytes_; }
  void set_reading(bool on) override;
  bool up() const { return state_ == State::up; }

 private:
  enum class State { idle, connecting, awaiting_connack, up, waiting, stopped };
  using Tcp = boost::asio::ip::tcp;

  void attempt();
  void on_connected();
  void read();
  void on_read(std::size_t n);
  void on_packet(mqtt::Packet& packet);
  void write_next();
  void send_bytes(std::vector<std::uint8_t> bytes);
  // Closes the link, tells the handlers, and schedules the next attempt.
  void fail(const std::string& why);
  void arm_keep_alive();
  mqtt::Connect connect_packet() const;

  template <typename F>
  void with_stream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*socket_);
    }
  }

  boost::asio::io_context& io_;
  const BridgeConfig& config_;
  Handlers handlers_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  Tcp::resolver resolver_;
  std::unique_ptr<Tcp::socket> socket_;                         // plain TCP
  std::unique_ptr<boost::asio::ssl::stream<Tcp::socket>> tls_;  // TLS
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer keep_alive_timer_;
  Backoff backoff_;
  State state_ = State::idle;
  std::uint64_t epoch_ = 0;  // counts sockets, so a late completion knows its own
  std::chrono::steady_clock::time_point last_read_{};
  std::chrono::steady_clock::time_point last_write_{};
  std::array<std::uint8_t, 16 * 1024> chunk_{};
  std::vector<std::uint8_t> in_;
  std::deque<std::vector<std::uint8_t>> out_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool reading_ = false;  // a read is outstanding
  bool paused_ = false;   // set_reading(false)
};

}  // namespace allscene::bridge
