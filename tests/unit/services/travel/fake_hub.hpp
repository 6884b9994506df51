// Test doubles for the travel service: a clock the test moves, and a hub
// that records what the service sends, with switches that make
// send_message fail (503) or take a message and never confirm it (the
// service stopping between the hub storing and the service recording).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "services/service.hpp"
#include "services/travel/scheduler.hpp"

namespace allscene::services::travel::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Instant start) : seconds_(start.time_since_epoch().count()) {}
  Instant now() const override { return Instant{std::chrono::seconds(seconds_.load())}; }
  void set(Instant t) { seconds_ = t.time_since_epoch().count(); }

 private:
  std::atomic<std::int64_t> seconds_;
};

struct SentMessage {
  std::string device;
  nlohmann::json payload;
  std::vector<std::pair<std::string, std::string>> properties;
  std::string reminder;  // the "reminder" property
};

class FakeHub final : public HubAccess {
 public:
  // confirm: 202; fail: 503 (not stored); refuse: 404 (not stored);
  // take_without_confirming: stored, `done` never called.
  enum class Mode { confirm, fail, refuse, take_without_confirming };

  std::vector<DeviceInfo> devices(const std::string& user) override {
    std::lock_guard lock(mutex_);
    return devices_[user];
  }
  void invoke(const std::string&, const std::string&, nlohmann::json, std::chrono::seconds,
              std::function<void(Reply)> done) override {
    done(Reply::error(404, "offline", "no device methods in this fake"));
  }
  void send_message(const std::string& device_id, std::string payload,
                    std::vector<std::pair<std::string, std::string>> properties,
                    std::function<void(Reply)> done) override {
    Mode mode;
    std::string id;
    {
      std::lock_guard lock(mutex_);
      mode = mode_;
      if (mode != Mode::fail && mode != Mode::refuse) {
        SentMessage m{device_id, nlohmann::json::parse(payload), properties, {}};
        for (const auto& [key, value] : properties) {
          if (key == "reminder") m.reminder = value;
        }
        sent_.push_back(std::move(m));
        id = "m" + std::to_string(sent_.size());
      }
    }
    changed_.notify_all();
    if (mode == Mode::fail) return done(Reply::error(503, "store_busy", "try again"));
    if (mode == Mode::refuse) return done(Reply::error(404, "unknown_device", "no such device"));
    if (mode == Mode::confirm) done(Reply{202, {{"messageId", id}}});
    // take_without_confirming: stored, never confirmed
  }
  void publish(const std::string& topic, std::string payload, bool retain) override {
    {
      std::lock_guard lock(mutex_);
      published_.push_back({topic, nlohmann::json::parse(payload), retain});
    }
    changed_.notify_all();
  }
  Reply call(const Caller& caller, std::string_view service, std::string_view operation,
             const nlohmann::json& request) override {
    std::function<Reply(const Caller&, std::string_view, std::string_view, const nlohmann::json&)>
        handler;
    {
      std::lock_guard lock(mutex_);
      handler = on_call_;
      calls_.push_back({std::string(service), std::string(operation), request});
    }
    if (!handler) return Reply::error(404, "unknown_service", "no such service");
    return handler(caller, service, operation, request);
  }

  // ---- set up ----
  void add_device(const std::string& user, std::string id, std::string device_class) {
    std::lock_guard lock(mutex_);
    DeviceInfo d;
    d.id = std::move(id);
    d.device_class = std::move(device_class);
    devices_[user].push_back(std::move(d));
  }
  void set_mode(Mode mode) {
    std::lock_guard lock(mutex_);
    mode_ = mode;
  }
  template <class F>
  void on_call(F handler) {
    std::lock_guard lock(mutex_);
    on_call_ = std::move(handler);
  }

  // ---- what happened ----
  std::vector<SentMessage> sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  struct Published {
    std::string topic;
    nlohmann::json payload;
    bool retain;
  };
  std::vector<Published> published() {
    std::lock_guard lock(mutex_);
    return published_;
  }
  struct Call {
    std::string service, operation;
    nlohmann::json request;
  };
  std::vector<Call> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  // How many copies each (device, reminder) got.
  std::map<std::pair<std::string, std::string>, int> copies() {
    std::lock_guard lock(mutex_);
    std::map<std::pair<std::string, std::string>, int> out;
    for (const auto& m : sent_) ++out[{m.device, m.reminder}];
    return out;
  }
  // Waits (real time, bounded) until `done()` holds; false on timeout.
  bool wait_until(const std::function<bool()>& done,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(wait_mutex_);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      changed_.wait_for(lock, std::chrono::milliseconds(10));
    }
    return true;
  }

 private:
  std::mutex mutex_;
  std::mutex wait_mutex_;
  std::condition_variable changed_;
  Mode mode_ = Mode::confirm;
  std::map<std::string, std::vector<DeviceInfo>> devices_;
  std::vector<SentMessage> sent_;
  std::vector<Published> published_;
  std::vector<Call> calls_;
  std::function<Reply(const Caller&, std::string_view, std::string_view, const nlohmann::json&)>
      on_call_;
};

}  // namespace allscene::services::travel::testing
