// A device's connection to an allscene hub (or Azure IoT Hub) over the Azure
// IoT Hub MQTT device protocol, MQTT 3.1.1: device twin, direct methods,
// device-to-cloud events and cloud-to-device messages.
//
// Threading. The client's state lives on one strand. Every public member
// function may be called from any thread; it posts its work to the strand
// and returns at once. Every handler (completion or callback) is invoked on
// that strand, never inside the call that passed it, and never two at once.
// A client either runs on the caller's io_context (the executor
// constructor; the caller runs the context) or on a thread of its own (the
// options-only constructor). Handlers must not block for long: they hold up
// the connection, including keep-alive.
//
// Connection. start() connects and keeps the device connected until stop():
// after a failed attempt or a lost connection it waits an exponential
// backoff with jitter (ReconnectPolicy) and tries again, each time with a
// fresh SAS token. After every (re)connection it subscribes to the twin,
// method and cloud-to-device topics and then sends what was queued.
// The MQTT session is persistent (clean session off), so cloud-to-device
// messages sent while the device was away arrive after it reconnects.
//
// Offline queue. send_event() never fails for want of a connection: events
// wait, in order, until the hub acknowledges them (QoS 1 PUBACK). At most
// ClientOptions::offline_queue_limit events (and offline_queue_bytes of
// payload) are held, counting those sent but not yet acknowledged. When a
// new event would exceed a bound, QueueFull::drop_oldest (the default)
// drops the oldest events not yet written to the current connection (their
// handlers complete with Errc::queue_full) and keeps the new one;
// QueueFull::reject_new completes the new event's handler with
// Errc::queue_full. An event that is itself larger than the byte bound is
// always rejected. Events written but unacknowledged when a connection
// drops are sent again (at least once) on the next one.
//
// Twin requests issued while disconnected wait for the connection, but the
// request timeout runs from the call. Method responses and reported
// properties are not queued beyond that: a method call answered after its
// connection dropped is lost (the hub has timed it out).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "allscene/connection_string.hpp"
#include "allscene/error.hpp"

namespace allscene::sdk {

// Message properties in order: application properties, or system ones
// whose keys start with "$." (e.g. "$.mid", "$.ct").
using Properties = std::vector<std::pair<std::string, std::string>>;

struct ReconnectPolicy {
  // The n-th retry (n = 0, 1, …) waits min(max_delay, initial_delay *
  // multiplier^n), less a random part of up to `jitter` of it (0 ≤ jitter
  // ≤ 1), so many devices cut off together do not return together. A
  // connection that stays up for stable_after starts the schedule afresh.
  std::chrono::milliseconds initial_delay{1000};
  std::chrono::milliseconds max_delay{60000};
  double multiplier = 2.0;
  double jitter = 0.25;
  std::chrono::milliseconds stable_after{30000};
};

enum class QueueFull { drop_oldest, reject_new };

struct ClientOptions {
  std::string host_name;  // the hub's name: in the username and the SAS resource
  std::string device_id;  // also the MQTT client id
  // Where to connect; empty: host_name. Port 0: 8883 with TLS, 1883 without.
  std::string connect_host;
  std::uint16_t port = 0;

  // Credentials: a shared access key (base64; a SAS token is made from it
  // for every connection attempt, valid for token_ttl), or a ready-made
  // SAS token (used as-is until it expires), or, with TLS, a client
  // certificate (cert_file and key_file, PEM) and no password.
  std::string shared_access_key;
  std::chrono::seconds token_ttl{3600};
  std::string sas_token;

  bool tls = false;
  std::string ca_file;  // PEM trust anchors; empty: the system's default paths
  std::string cert_file;
  std::string key_file;
  bool verify_host_name = true;  // check the hub certificate names the connect host

  std::chrono::seconds keep_alive{60};
  std::chrono::milliseconds connect_timeout{10000};  // TCP + TLS + CONNACK, per attempt
  std::chrono::milliseconds request_timeout{10000};  // twin GET and reported patches
  ReconnectPolicy reconnect;
  std::size_t offline_queue_limit = 1000;             // events
  std::size_t offline_queue_bytes = 4 * 1024 * 1024;  // payload bytes
  QueueFull on_queue_full = QueueFull::drop_oldest;
  std::size_t max_in_flight = 32;  // events written and not yet acknowledged
};

// Options for a parsed connection string (TLS on, port 8883; callers of a
// local hub turn TLS off or set the port). With x509 the caller adds
// cert_file and key_file.
ClientOptions options_from(const ConnectionString& cs);

// One device-to-cloud event: "devices/{id}/messages/events/{properties}".
struct Event {
  std::string payload;
  std::string content_type;      // "$.ct", e.g. "application/json"; empty: not sent
  std::string content_encoding;  // "$.ce", e.g. "utf-8"
  std::string message_id;        // "$.mid"
  Properties properties;         // application properties
};

// One cloud-to-device message.
struct CloudMessage {
  std::string payload;
  Properties properties;  // every property of the topic's bag, decoded, in order
  // The value of the first property named `key`, or "" when absent
  // (system properties: "$.mid", "$.to", "$.ct", "$.ce", …).
  std::string property(std::string_view key) const;
};

struct Twin {
  nlohmann::json desired = nlohmann::json::object();   // without "$version"
  nlohmann::json reported = nlohmann::json::object();  // without "$version"
  std::int64_t desired_version = 0;
  std::int64_t reported_version = 0;
};

struct MethodRequest {
  std::string name;
  nlohmann::json payload;  // null when the call carried none (or not JSON: then a string)
};
struct MethodResult {
  int status = 200;
  nlohmann::json payload = nlohmann::json::object();
};

enum class ConnectionStatus { connected, disconnected };

class DeviceClient {
 public:
  // Runs on `executor` (for example an io_context's); the caller runs it,
  // and keeps its execution context alive as long as the client.
  DeviceClient(boost::asio::any_io_executor executor, ClientOptions options);
  // Runs on a thread of its own, started here and joined by the destructor
  // (so the client must not be destroyed from one of its own handlers).
  explicit DeviceClient(ClientOptions options);
  // stop(), then (own thread) waits up to about 2 s for the DISCONNECT to
  // be written before joining. Handlers still pending complete with
  // Errc::shut_down before the destructor returns (own thread) or later
  // on the caller's executor; no handler runs after that.
  ~DeviceClient();
  DeviceClient(const DeviceClient&) = delete;
  DeviceClient& operator=(const DeviceClient&) = delete;

  // Handler: void(ConnectionStatus status, std::error_code reason).
  // Called on every connection (status connected, reason empty: the
  // subscriptions are acknowledged and queued events are being sent) and
  // every failed attempt or lost connection (disconnected, with why, an
  // Errc or a transport error). Set before start() to see the first.
  void on_connection(std::function<void(ConnectionStatus, std::error_code)> handler);

  // Handler: void(const nlohmann::json& patch, std::int64_t version).
  // Called for each desired-properties patch the hub pushes; `patch` is
  // the JSON merge patch without "$version", `version` the desired
  // $version after it. Patches missed while disconnected are not replayed:
  // call async_get_twin() on (re)connection to catch up.
  void on_desired_change(std::function<void(const nlohmann::json&, std::int64_t)> handler);

  // Handler: MethodResult(const MethodRequest&). Answers direct method
  // `name` with the returned status and JSON payload. A method without a
  // handler is answered 404 {"message": "…"}; a handler that throws,
  // 500 with the exception's text.
  void on_method(std::string name, std::function<MethodResult(const MethodRequest&)> handler);

  // Handler: void(const CloudMessage&). Called for each cloud-to-device
  // message, before it is acknowledged (QoS 1: a message whose handler was
  // cut off by a lost connection may come again).
  void on_message(std::function<void(const CloudMessage&)> handler);

  // Starts connecting (and reconnecting, until stop()). Options are checked
  // first: a missing device id or host, an invalid key, or TLS files that
  // cannot be loaded give Errc::invalid_options / invalid_key here, and
  // nothing starts. Calling start() twice is a no-op.
  std::error_code start();

  // Ends the connection (DISCONNECT) and any retry. Every pending handler
  // completes with Errc::shut_down; callbacks are no longer called.
  // Idempotent; the client cannot be started again.
  void stop();

  // Handler: void(std::error_code error).
  // Queues `event` (see Offline queue above) and completes once the hub
  // has acknowledged it (error empty), or with Errc::queue_full when it is
  // dropped for the queue bound, or Errc::shut_down when the client stops
  // first. Events are sent in call order.
  void async_send_event(Event event, std::function<void(std::error_code)> handler);

  // Handler: void(std::error_code error, Twin twin).
  // Asks the hub for the twin's desired and reported properties. Completes
  // with the twin, or with the error of the response status (Errc::not_found,
  // hub_error, …; see error_from_status), Errc::malformed_response,
  // Errc::timeout after request_timeout, or Errc::shut_down.
  void async_get_twin(std::function<void(std::error_code, Twin)> handler);

  // Handler: void(std::error_code error, std::int64_t version).
  // Sends a reported-properties patch (a JSON object; JSON merge patch
  // semantics: null removes a property). Completes with the twin's new
  // reported $version, or with the error of the response status
  // (Errc::bad_request for a patch the hub refuses, payload_too_large, …),
  // Errc::timeout, or Errc::shut_down. Errc::bad_request at once, without
  // sending, if `patch` is not an object.
  void async_report_properties(nlohmann::json patch,
                               std::function<void(std::error_code, std::int64_t)> handler);

  // ---- Plain MQTT topics (the cross-device ecosystem is built on these) ----

  // Handler: void(const std::string& topic, const std::string& payload).
  // Subscribes `filter` at QoS 1, now when connected and in the
  // subscription step of every (re)connection (before `connected` is
  // reported). Each message whose topic matches the filter (MQTT wildcard
  // rules) goes to its handler; a message matching several filters goes to
  // each. Subscribing the same filter again replaces the handler. A filter
  // the hub refuses stays silent (the connection is kept). Messages on the
  // SDK's own topics ($iothub/…, the device's devicebound, $ecosystem/res)
  // are not passed here.
  void subscribe(std::string filter,
                 std::function<void(const std::string&, const std::string&)> handler);

  // Handler: void(std::error_code error).
  // Publishes `payload` on `topic`. QoS 1 goes through the offline queue
  // like events (same bounds and policy, kept across reconnections, sent
  // at least once) and completes when acknowledged, or with
  // Errc::queue_full / Errc::shut_down. QoS 0 completes when handed to the
  // connection, or with Errc::connection_lost at once when there is none
  // (not queued). Errc::bad_request for another QoS or an invalid topic.
  void async_publish(std::string topic, std::string payload, int qos, bool retain,
                     std::function<void(std::error_code)> handler);

  // Handler: void(std::error_code error, MethodResult result).
  // Calls `method` on another device of the owner's group through the hub
  // ("$ecosystem/call/{device_id}/{method}/?$rid={rid}&$timeout={s}"),
  // answered on "$ecosystem/res/{status}/?$rid={rid}" (the client
  // subscribes "$ecosystem/res/#" from its first call on, in every
  // subscription step; `device_id` "$hub" calls the hub itself, e.g.
  // whoami). Completes with the answer's status and JSON payload
  // (text that is not JSON as a string) and error_from_status(status):
  // empty for 2xx, Errc::not_found (404: offline, not in the group, no such
  // method), Errc::request_failed (403, …), Errc::timeout (504, or no
  // answer within timeout + 2 s: result.status 0), Errc::bad_request at
  // once for an empty or invalid device id or method name or a timeout
  // outside 1..300 s, Errc::shut_down. Written when connected; a call whose
  // connection dropped before its answer is sent again (at least once).
  void async_call(std::string device_id, std::string method, nlohmann::json payload,
                  std::chrono::seconds timeout,
                  std::function<void(std::error_code, MethodResult)> handler);

  // Handler: void(std::error_code error, MethodResult result).
  // Calls an operation of a cloud service on the hub
  // ("$services/{service}/{operation}/?$rid={rid}", answered on
  // "$services/res/{status}/?$rid={rid}"; docs/services.md lists the
  // services and their JSON). `request` is a JSON object (null: {}).
  // Completes with the status and the answer (on failure {"code",
  // "message"}) and error_from_status(status): empty for 2xx,
  // Errc::not_found (404: no such service, operation or item),
  // Errc::request_failed (400, 403, 429 over quota, …), Errc::timeout (504,
  // or no answer within `timeout`: result.status 0), Errc::bad_request at
  // once for an invalid name, a request that is not an object or a timeout
  // outside 1..300 s, Errc::shut_down. Sent when connected, again after a
  // reconnection (at least once).
  void async_service(std::string service, std::string operation, nlohmann::json request,
                     std::chrono::seconds timeout,
                     std::function<void(std::error_code, MethodResult)> handler);

  // This client's device id (ClientOptions::device_id).
  const std::string& device_id() const;

  // The executor handlers run on (a strand).
  boost::asio::any_io_executor get_executor() const;

  class Impl;

 private:
  friend class Ecosystem;  // follows the connection (resumes transfers at once)
  struct OwnThread;
  std::unique_ptr<OwnThread> own_;
  std::shared_ptr<Impl> impl_;
  std::atomic<bool> started_{false};
};

}  // namespace allscene::sdk
