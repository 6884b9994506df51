// A DeviceLink without a broker: records what would reach devices (only
// those marked connected) and what would be routed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "twin/twin_service.hpp"

namespace allscene::twin::twin_testing {

// Handler topics answer through the DeviceLink, never the HandlerReply.
class NoReply final : public broker::HandlerReply {
 public:
  void publish(std::string, std::string, mqtt::Properties) override {}
};

struct Sent {
  std::string client_id, topic, payload;
};

class FakeDeviceLink final : public DeviceLink {
 public:
  void send_to_device(const std::string& client_id, std::string topic, std::string payload,
                      Done done) override {
    bool online = false;
    {
      std::lock_guard lock(mutex);
      online = connected.contains(client_id);
      if (online) sent.push_back({client_id, std::move(topic), std::move(payload)});
    }
    cv.notify_all();
    if (done) done(online);
  }
  void route(Routed message, Done done) override {
    bool ok = false;
    {
      std::lock_guard lock(mutex);
      routed.push_back(std::move(message));
      ok = !store_fails;
    }
    if (done) done(ok);
  }
  void connect(const std::string& client_id) {
    std::lock_guard lock(mutex);
    connected.insert(client_id);
  }
  bool is_connected(const std::string& client_id) {
    std::lock_guard lock(mutex);
    return connected.contains(client_id);
  }
  // Waits (up to 5 s) until `n` messages were sent to devices; a copy.
  std::vector<Sent> wait_sent(std::size_t n) {
    std::unique_lock lock(mutex);
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return sent.size() >= n; });
    return sent;
  }

  std::mutex mutex;
  std::condition_variable cv;
  std::set<std::string> connected;  // guarded by mutex
  std::vector<Sent> sent;           // guarded by mutex
  std::vector<Routed> routed;       // guarded by mutex
  bool store_fails = false;         // guarded by mutex
};

}  // namespace allscene::twin::twin_testing
