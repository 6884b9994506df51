// The one interface every cloud service implements (translation, assistant,
// travel, documents). The hub's service host reaches it by MQTT 5
// request/response on $services/{name}/{operation} and by REST on
// /api/v1/services/{name}/{operation}; both hand the same JSON request to
// Service::call and send back the same Reply.
//
// Threading: call() runs on the host's worker threads, never on a network
// loop, and may run for several callers at once: a service is thread-safe.
// The host answers 504 if call() has not returned by the operation's
// deadline (the result is then dropped), so a slow engine never blocks a
// device connection.
//
// Errors: a service never throws out of call() for bad input; it returns
// Reply::error with an HTTP-style status, a stable code word and a message
// for people. Exceptions are for start-up configuration only.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace allscene::services {

// Who is calling. Services act only on the caller's own user's devices and
// data; `admin` callers (a service token over REST) may name any user.
struct Caller {
  std::string user;       // the owner the request acts for
  std::string device_id;  // the calling device; empty for REST callers
  bool admin = false;
};

// The outcome of one operation: `body` is the result when ok(), otherwise
// {"code": …, "message": …}.
struct Reply {
  int status = 200;
  nlohmann::json body;

  bool ok() const { return status < 400; }
  static Reply success(nlohmann::json body) { return {200, std::move(body)}; }
  // `code`: a stable word a program can test ("unknown_pair",
  // "empty_text"); `message`: what happened and what to do next.
  static Reply error(int status, std::string code, std::string message) {
    return {status, nlohmann::json{{"code", std::move(code)}, {"message", std::move(message)}}};
  }
};

// One of the owner's devices as services see it (from the device cards).
struct DeviceInfo {
  std::string id;
  std::string name;
  std::string device_class;  // "phone", "laptop", "wearable", "audio", …
  bool online = false;
  int battery = -1;  // 0–100, -1 if unknown
  std::vector<std::string> capabilities;
  std::chrono::system_clock::time_point last_seen{};
};

// What a service may ask of the hub. Implemented by the service host; tests
// use a fake.
class HubAccess {
 public:
  virtual ~HubAccess() = default;
  // The devices of `user`, with their cards.
  virtual std::vector<DeviceInfo> devices(const std::string& user) = 0;
  // Invokes a direct method on a device (as `allscene call` does); `done`
  // gets the device's status and JSON answer, 404 if it is offline or
  // unknown, 504 on timeout. May complete on any thread.
  virtual void invoke(const std::string& device_id, const std::string& method,
                      nlohmann::json payload, std::chrono::seconds timeout,
                      std::function<void(Reply)> done) = 0;
  // Queues a cloud-to-device message for a device (as `allscene send`
  // does): durable, an offline device gets it when it returns. `properties`
  // become its application properties; `done` gets 200 {"messageId": …}
  // once it is stored, or an error (404 unknown device).
  virtual void send_message(const std::string& device_id, std::string payload,
                            std::vector<std::pair<std::string, std::string>> properties,
                            std::function<void(Reply)> done) = 0;
  // Publishes a hub-originated message (QoS 1) on `topic`; the topic must
  // be one the hub keeps (users/{u}/…, $services/…), never a device's own.
  virtual void publish(const std::string& topic, std::string payload, bool retain) = 0;
  // Calls another service's operation on behalf of `caller` (the assistant
  // translating, say), synchronously, on the calling worker thread.
  virtual Reply call(const Caller& caller, std::string_view service, std::string_view operation,
                     const nlohmann::json& request) = 0;
};

// Where a service keeps its state: `state_dir` is its own folder inside the
// hub's data directory (created by the host), `hub` outlives the service.
struct ServiceContext {
  std::filesystem::path state_dir;
  HubAccess* hub = nullptr;
};

class Service {
 public:
  virtual ~Service() = default;
  // The {name} in $services/{name}/{operation}: lower case, no slashes.
  virtual std::string_view name() const = 0;
  // The operations this service answers, for listing and for 404s.
  virtual std::vector<std::string> operations() const = 0;
  virtual Reply call(const Caller& caller, std::string_view operation,
                     const nlohmann::json& request) = 0;
  // The longest an operation may take before the host answers 504.
  virtual std::chrono::milliseconds deadline(std::string_view /*operation*/) const {
    return std::chrono::seconds(10);
  }
};

}  // namespace allscene::services
