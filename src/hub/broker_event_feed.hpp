// The REST event stream's feeds, as in-process clients of the broker
// (wiring: neither the api nor the broker layer knows the other).
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/event_feed.hpp"
#include "broker/local_client.hpp"

namespace allscene::hub {

class BrokerEventFeed final : public api::EventFeed {
 public:
  BrokerEventFeed(broker::Broker& broker, std::vector<std::string> filters)
      : broker_(broker), filters_(std::move(filters)) {}
  ~BrokerEventFeed() override { stop(); }

  void start(Push push, End end) override {
    static std::atomic<std::uint64_t> streams{0};
    std::lock_guard lock(mutex_);  // a push may come before start() returns
    client_ = broker::LocalClient::start(
        broker_, fmt::format("allscene-event-stream-{}", ++streams), std::move(filters_),
        [push = std::move(push)](const mqtt::Publish& p) { push(p.topic, p.payload); },
        [end = std::move(end)](mqtt::ReasonCode reason) {
          end(std::string(mqtt::reason_code_name(reason)));
        });
  }
  void stop() override {
    // Not under mutex_: stop() waits for a running push, which takes it.
    if (const auto client = current()) client->stop();
  }
  void set_backlog(std::size_t bytes) override {
    if (const auto client = current()) client->set_backlog(bytes);
  }

 private:
  broker::Broker& broker_;
  std::vector<std::string> filters_;
  std::shared_ptr<broker::LocalClient> current() {
    std::lock_guard lock(mutex_);
    return client_;
  }

  std::mutex mutex_;
  std::shared_ptr<broker::LocalClient> client_;  // guarded by mutex_
};

}  // namespace allscene::hub
