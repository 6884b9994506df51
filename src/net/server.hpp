// Listeners and connections on Asio: one io_context per event loop, each
// run by one thread; a connection stays on the loop that accepted it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker.hpp"
#include "broker/interfaces.hpp"
#include "net/socket.hpp"

namespace allscene::net {

// One listener (docs/configuration.md, [[listener]]). hub::validate()
// fills the defaults that depend on other keys.
struct ListenerConfig {
  std::string name;                   // for logs
  std::string address;                // "127.0.0.1"
  std::uint16_t port = 0;             // 0: any free port
  std::string transport = "tcp";      // tcp | tls | ws | wss
  std::string cert_file;              // PEM certificate chain (tls, wss)
  std::string key_file;               // PEM private key, unencrypted (tls, wss)
  std::string ca_file;                // PEM CA bundle that client certificates are verified against
  std::string client_certs = "none";  // none | optional | required
  std::string ws_path = "/mqtt";      // ws, wss: the only path that upgrades
  // Clients without credentials may connect (only ever from loopback);
  // hub::validate() defaults it to "the address is loopback".
  bool allow_anonymous = true;
  std::optional<broker::Quota> quota;  // none: the hub-wide quota

  bool uses_tls() const { return transport == "tls" || transport == "wss"; }
  bool uses_websocket() const { return transport == "ws" || transport == "wss"; }
};

class Server final : public broker::Executor {
 public:
  explicit Server(std::size_t loops);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // broker::Executor
  std::size_t shard_count() const override { return loops_.size(); }
  void post(std::size_t shard, std::function<void()> task) override;

  // Must be called once, before listen() and run().
  void set_broker(broker::Broker& broker) { broker_ = &broker; }
  // Binds a listener; throws std::system_error when the address is taken
  // and std::runtime_error when its certificate or key cannot be loaded.
  // Returns the bound port.
  std::uint16_t listen(const ListenerConfig& config);
  // Runs every loop on its own thread until stop(); blocks.
  void run();
  // Tells clients the server is going away (DISCONNECT 0x8B under v5),
  // flushes, and ends run(). Thread-safe.
  void stop();

 private:
  struct Loop {
    boost::asio::io_context io{1};
    std::unique_ptr<boost::asio::steady_timer> tick;
  };
  struct Listener;

  void accept(Listener& listener);
  void start_connection(Listener& listener, std::size_t loop, Socket socket, broker::PeerInfo peer);
  void schedule_tick(std::size_t i);

  broker::Broker* broker_ = nullptr;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::size_t next_loop_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace allscene::net
