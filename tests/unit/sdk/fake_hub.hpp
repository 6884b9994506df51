// A small in-process MQTT 3.1.1 hub for the SDK's tests, on a thread of its
// own: it routes publishes between its clients (filters, retained messages,
// QoS 0/1 without retransmission), answers reported-property patches, and
// runs $ecosystem/call as the real hub does (forwarded to the target as a
// direct method, "from" set to the caller, 404 for a target that is not
// connected or has no method subscription; $hub/whoami says owner "ana"). Tests read what was
// published and inject faults: drop or alter publishes, cut a client off.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "mqtt/packets.hpp"

namespace allscene::sdk::testing {

struct Published {
  std::string from;  // client id; "" for what the test injected
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

class FakeHub {
 public:
  FakeHub();
  ~FakeHub();
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  std::uint16_t port() const { return port_; }

  // Every publish received from clients (and injected), in order.
  std::vector<Published> published() const;
  std::vector<Published> published_on(std::string_view topic_prefix) const;
  // Reported properties each device patched (merged).
  nlohmann::json reported(const std::string& device) const;
  bool connected(const std::string& client_id) const;
  // SUBSCRIBE filters each client sent, in order (every connection).
  std::vector<std::string> subscriptions(const std::string& client_id) const;

  // Decides for each publish from a client whether it is routed (true) or
  // lost (false); it may alter the publish. Runs on the hub's thread.
  void set_filter(std::function<bool(const std::string& from, mqtt::Publish&)> filter);
  // Publishes as the hub (retained: stored and replaced as MQTT says).
  void inject(const std::string& topic, const std::string& payload, bool retain = false);
  // Closes the client's connection (as a network failure would).
  void cut(const std::string& client_id);
  // Answers $ecosystem/call to nobody: callers time out.
  void set_calls_unanswered(bool on);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

// Polls `condition` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace allscene::sdk::testing
