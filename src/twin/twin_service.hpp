// The device cloud on top of the broker: device twins, direct methods and
// cloud-to-device messages, for devices speaking the Azure IoT Hub MQTT
// device protocol and for services calling the REST API.
//
// Device side: TwinService claims "$iothub/" as a broker topic handler.
// Twin requests carry no device id, so the connection that published says
// which device spoke (its signed-in identity, or for an anonymous loopback
// client its client id). Answers and pushes reach the device through
// DeviceLink::send_to_device, which only delivers to a live connection that
// subscribed to a matching filter ($iothub/twin/res/#,
// $iothub/twin/PATCH/properties/desired/#, $iothub/methods/POST/#), as
// Azure IoT Hub does.
//
// Errors: every call returns or completes with a Result: an HTTP-style
// status (200, 204, 400, 404, 409, 412, 413, 504 …) and, on failure, a
// message saying what to do. Storage failures are 500. Nothing throws for
// what a device or service sent.
//
// Threading: every public member may be called from any thread. Device
// requests run on the service's own thread (they write to the store, which
// must not stall an event loop); completions are called on that thread or
// on an event loop, never under a lock of the caller's.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "azure/topics.hpp"
#include "broker/interfaces.hpp"
#include "registry/registry.hpp"
#include "twin/twin.hpp"

namespace allscene::twin {

// What the service needs from the broker; src/hub implements it.
class DeviceLink {
 public:
  virtual ~DeviceLink() = default;
  using Done = std::function<void(bool)>;
  // QoS 0 to the live connection of `client_id` if one of its session's
  // subscriptions matches `topic`; done(true) once handed to it, false if
  // the client is offline or not subscribed. Any thread.
  virtual void send_to_device(const std::string& client_id, std::string topic, std::string payload,
                              Done done) = 0;
  // Publishes as a client would (routed to every matching subscription,
  // queued for offline persistent sessions); done(true) once durable for
  // every persistent session it reached, false if the store failed.
  struct Routed {
    std::string topic;
    std::string payload;
    std::uint8_t qos = 1;
    std::optional<std::chrono::seconds> ttl;  // Message Expiry Interval
    std::vector<std::pair<std::string, std::string>> user_properties;
    std::string content_type;
    bool receipt = false;  // report the outcome (TwinService::on_receipt)
    bool retain = false;   // kept as the topic's retained message (empty payload: cleared)
  };
  virtual void route(Routed message, Done done) = 0;
  // route() for a message of the hub's own at QoS 1, logging a warning
  // that names it (`what`: "the card of phone") if it could not be stored.
  void publish(std::string topic, std::string payload, bool retain, std::string what);
};

struct Result {
  int status = 200;
  nlohmann::json body;  // the answer; for errors {"error": "…"}
  std::string etag;     // twins: the twin's etag (without quotes)
  bool ok() const { return status >= 200 && status < 300; }
  static Result error(int status, std::string message);
};

struct ServiceOptions {
  TwinLimits limits{};
  std::chrono::seconds default_method_timeout{30};
  std::chrono::seconds max_method_timeout{300};
  std::chrono::seconds default_message_ttl{3600};  // cloud-to-device
  std::size_t max_message_bytes = 64 * 1024;       // cloud-to-device payload
};

// Connection state, for the service view of a twin.
struct DeviceStatus {
  bool connected = false;
  std::int64_t last_activity_ms = 0;  // 0: never
};

// Twins of devices that another hub hosts (an edge hub and its cloud),
// mirrored here by src/ecosystem's TwinMirror: the service side reads them
// and sends them patches as it does for its own devices.
class RemoteTwins {
 public:
  virtual ~RemoteTwins() = default;
  // The mirrored service view; nullopt if no bridged hub hosts the device.
  virtual std::optional<Result> get(const std::string& device_id) = 0;
  // Forwards a patch (tags, properties.desired) of a device get() knows
  // to the hosting hub.
  virtual Result patch(const std::string& device_id, const nlohmann::json& patch) = 0;
};

class TwinService final : public broker::TopicHandler {
 public:
  using Completion = std::function<void(Result)>;
  using WallClock = std::function<std::int64_t()>;  // unix ms; tests inject
  using StatusSource = std::function<DeviceStatus(const std::string& device_id)>;

  // Loads every stored twin (collection "twins"); throws what the storage
  // throws. `status` supplies connection state for service views (may be
  // empty: every device shows as disconnected).
  TwinService(registry::Registry& registry, registry::RegistryStorage& storage, DeviceLink& link,
              ServiceOptions options = {}, StatusSource status = {}, WallClock now = {});
  ~TwinService() override;  // stops the thread; pending method calls end with 503
  TwinService(const TwinService&) = delete;
  TwinService& operator=(const TwinService&) = delete;

  // broker::TopicHandler: "$iothub/" from devices.
  std::string_view prefix() const override { return "$iothub/"; }
  void on_publish(std::string_view client_id, std::string_view identity,
                  const mqtt::Publish& publish, broker::HandlerReply& reply) override;

  // ---- service side (REST)
  // Azure's twin JSON (deviceId, etag, version, status, connectionState,
  // lastActivityTime, tags, properties.desired/reported with $metadata and
  // $version); 404 for an unknown device.
  Result get_twin(const std::string& device_id);
  // Applies {"tags": {…}, "properties": {"desired": {…}}} as merge
  // patches. `if_match`: an etag the twin must still have ("*" or empty:
  // any), else 412. The device is sent the desired part.
  Result patch_twin(const std::string& device_id, const nlohmann::json& patch,
                    const std::string& if_match);
  // Replaces tags and desired properties with those of `twin` (Azure's PUT).
  Result replace_twin(const std::string& device_id, const nlohmann::json& twin,
                      const std::string& if_match);
  // Every device's twin (service view), in device id order.
  std::vector<nlohmann::json> all_twins();
  // patch_twin on the service's own thread (for callers on an event loop,
  // which must not wait for the store); `done` is called there.
  void patch_twin_later(const std::string& device_id, nlohmann::json patch, Completion done);
  // Twins of devices hosted by bridged hubs: get_twin and patch_twin
  // consult `remote` for devices not registered here. Set before serving;
  // `remote` outlives the service.
  void set_remote_twins(RemoteTwins* remote) { remote_ = remote; }

  // Calls `method` on the device and completes with {"status": s,
  // "payload": p} from the device; 404 if the device is unknown, offline or
  // not subscribed to methods, 504 if it did not answer within `timeout`
  // (0: the default), 400 for a bad name or timeout. `request_id` (a REST
  // request's X-Request-Id) goes in the log line that names the call's $rid.
  void invoke_method(const std::string& device_id, const std::string& method,
                     nlohmann::json payload, std::chrono::seconds timeout, Completion done,
                     std::string request_id = {});

  // Queues a cloud-to-device message on devices/{id}/messages/devicebound/
  // with `properties` (application properties) plus $.mid (returned as
  // {"messageId": …}) and $.exp; completes once it is durable for the
  // device's persistent session (offline devices get it when they return,
  // until `ttl` passes; 0: the default). Its outcome is published as
  // feedback (on_receipt).
  // A non-empty `correlation_id` (a REST request's X-Request-Id) is sent
  // as $.cid.
  void send_message(const std::string& device_id, std::string payload,
                    std::vector<std::pair<std::string, std::string>> properties,
                    std::chrono::seconds ttl, Completion done, std::string correlation_id = {});

  // The outcome of a cloud-to-device message (the broker's receipt):
  // acknowledged by `client_id`, or expired undelivered. Publishes Azure's
  // feedback record on "$events/devices/{id}/feedback". Any thread.
  void on_receipt(const std::string& client_id, const std::string& topic, bool delivered);

  // Told after a device's reported properties changed (the patch is
  // stored), with the patch it sent; on the service's thread, outside its
  // lock. Set before devices connect.
  using ReportedListener =
      std::function<void(const std::string& device_id, const nlohmann::json& patch)>;
  void set_reported_listener(ReportedListener listener) {
    reported_listener_ = std::move(listener);
  }
  // Told after any stored change of a twin (reported, desired, tags) and
  // after a twin is forgotten; on the changing thread, outside the
  // service's lock. Set before devices connect.
  using ChangeListener = std::function<void(const std::string& device_id)>;
  void set_change_listener(ChangeListener listener) { change_listener_ = std::move(listener); }
  // The device's reported properties (an empty object when it has none or
  // is unknown).
  nlohmann::json reported(const std::string& device_id);

  // A device was removed from the registry: its twin goes too.
  void forget(const std::string& device_id);

  std::size_t pending_calls() const;

 private:
  struct Call;
  struct Entry {
    Twin twin;
    std::int64_t revision = 0;  // every change (tags too): the etag
  };

  std::optional<std::string> device_of(std::string_view client_id, std::string_view identity) const;
  void handle_twin_request(const std::string& client_id, const std::string& device_id,
                           const azure::TwinRequest& request, const std::string& payload);
  void handle_method_response(const std::string& device_id, const azure::MethodResponse& response,
                              const std::string& payload);
  void answer(const std::string& client_id, int status, const std::string& rid,
              std::optional<std::int64_t> version, std::string body);
  // Under mutex_: the twin of a registered device (created empty on first
  // use); nullptr if the device is not registered.
  Entry* entry_locked(const std::string& device_id);
  void save_locked(const std::string& device_id, const Entry& entry);
  Result view_locked(const std::string& device_id, const Entry& entry) const;
  // Sends the device what changed between two desired states.
  void push_desired(const std::string& device_id, const nlohmann::json& before,
                    nlohmann::json after, std::int64_t version);
  Result update_twin(const std::string& device_id, const std::string& if_match,
                     const std::function<void(Entry&)>& change);
  void finish_call(const std::string& rid, Result result);
  std::int64_t now_ms() const;

  registry::Registry& registry_;
  registry::RegistryStorage& storage_;
  DeviceLink& link_;
  ServiceOptions options_;
  StatusSource status_;
  ReportedListener reported_listener_;
  ChangeListener change_listener_;
  RemoteTwins* remote_ = nullptr;
  WallClock now_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> twins_;                  // guarded by mutex_
  std::unordered_map<std::string, std::shared_ptr<Call>> calls_;  // guarded by mutex_
  std::uint64_t next_rid_ = 1;                                    // guarded by mutex_

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
};

}  // namespace allscene::twin
