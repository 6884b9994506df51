// One running bridge: an Engine between the bridge's persistent session in
// the local broker and an UpstreamClient, on a thread of its own so the
// broker's loops never wait for the upstream. Publishes
// $SYS/broker/bridge/{name}/state ("connected" / "disconnected", retained).
//
// Construct after the broker exists (before or after its loops start).
// Once the broker is stopping the bridge halts by itself within 50 ms and
// posts nothing more to the broker's loops, so it may be destroyed after
// the event loops (and the executor) are gone.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <optional>
#include <thread>

#include "bridge/config.hpp"
#include "bridge/engine.hpp"
#include "bridge/local_session.hpp"
#include "bridge/upstream_client.hpp"
#include "broker/broker.hpp"

namespace allscene::bridge {

class Bridge {
 public:
  // Throws std::runtime_error when the TLS files cannot be loaded.
  Bridge(broker::Broker& broker, BridgeConfig config);
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

 private:
  class Local;  // LocalPort over the LocalSession, completions back on io_
  void start_local();
  void publish_state(bool connected);
  // Every 50 ms: halts once the broker is stopping.
  void watch_broker();
  void halt();

  broker::Broker& broker_;
  const BridgeConfig config_;
  std::shared_ptr<boost::asio::io_context> io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<Local> local_;
  UpstreamClient upstream_;
  Engine engine_;
  boost::asio::steady_timer local_restart_;
  boost::asio::steady_timer watch_;
  std::thread thread_;
};

}  // namespace allscene::bridge
