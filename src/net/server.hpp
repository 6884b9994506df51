// Listeners and connections on Asio: one io_context per event loop, each
// run by one thread; a connection stays on the loop that accepted it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/broker.hpp"
#include "broker/interfaces.hpp"

namespace allscene::net {

struct ListenerConfig {
  std::string name;       // for logs
  std::string address;    // "127.0.0.1"
  std::uint16_t port = 0; // 0: any free port
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
  // Binds a listener; throws std::system_error when the address is taken.
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
  void schedule_tick(std::size_t i);

  broker::Broker* broker_ = nullptr;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::size_t next_loop_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace allscene::net
