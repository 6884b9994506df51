// An MQTT client inside the hub process: a Connection on one event loop
// whose transport hands the PUBLISHes it receives to a callback instead of
// a socket. Services that do not speak MQTT (the REST event stream) consume
// device traffic through it, with the same subscriptions, access control
// and overload handling as any client.
//
// Threading: start() and stop() from any thread; the callback runs on the
// client's event loop and must be quick (hand the message to your own
// thread). After stop() returns no further callback starts.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/broker.hpp"

namespace allscene::broker {

class LocalClient : public std::enable_shared_from_this<LocalClient> {
 public:
  using OnMessage = std::function<void(const mqtt::Publish&)>;
  // Why the client ended (or failed to start): a reason code and its name.
  using OnEnd = std::function<void(mqtt::ReasonCode)>;

  // Connects as `client_id` (anonymous, as a trusted part of the hub) and
  // subscribes to `filters` at QoS 0. `on_end` is told if the connection
  // is refused or ends (takeover, shutdown), not after stop().
  static std::shared_ptr<LocalClient> start(Broker& broker, std::string client_id,
                                            std::vector<std::string> filters, OnMessage on_message,
                                            OnEnd on_end);
  ~LocalClient();

  // Disconnects; idempotent. Call it when done: the connection lives on
  // until then.
  void stop();

  // How many bytes the consumer has not taken yet; above the broker's
  // Limits::max_outbound_bytes, QoS 0 messages to it are dropped (counted
  // as slow-consumer drops). The consumer updates it.
  void set_backlog(std::size_t bytes) { backlog_.store(bytes, std::memory_order_relaxed); }

 private:
  class Pipe;
  LocalClient(Broker& broker, std::string client_id, OnMessage on_message, OnEnd on_end);
  void open(std::vector<std::string> filters);  // on the loop
  void close_on_loop();

  Broker& broker_;
  const std::string client_id_;
  const std::uint32_t shard_;
  std::mutex callbacks_mutex_;  // held while a callback runs, and by stop()
  OnMessage on_message_;        // guarded by callbacks_mutex_; empty once stopped
  OnEnd on_end_;                // guarded by callbacks_mutex_
  bool stopped_ = false;        // guarded by callbacks_mutex_
  std::atomic<std::size_t> backlog_{0};
  std::unique_ptr<Pipe> pipe_;  // loop only
};

}  // namespace allscene::broker
