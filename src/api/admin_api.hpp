// The hub's REST API without a network: routing, JSON validation and the
// calls into the registry and the twin service. Native endpoints live under
// /api/v1 (users, devices, twins, methods, cloud-to-device messages);
// Azure IoT Hub's service paths at the root (/devices/{id}, /twins/{id},
// /twins/{id}/methods, /devices/query) answer as Azure does, so Azure's
// service SDKs work unchanged. AdminServer serves it over HTTP(S) with
// authentication; the CLI calls it in-process on a data directory whose
// hub is stopped, so both paths answer alike.
//
// Error style: nothing here throws for what a client sent; every refusal
// is a Response with status 4xx and {"error": "..."} saying what to do
// (Azure paths add Azure's "errorCode" and "Message"). Storage failures
// (std::runtime_error) become 500.
//
// Asynchrony: a direct method call completes when the device answers (up
// to minutes later), so handle_async() replies through a callback, called
// exactly once: at once on the calling thread for most requests, later on
// the twin service's thread for method calls and cloud-to-device messages.
//
// Thread safety: handle() and handle_async() may be called from any thread
// (the registry and the twin service serialise their changes).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/event_feed.hpp"
#include "registry/registry.hpp"

namespace allscene::twin {
class TwinService;
}
namespace allscene::services {
class ServiceHost;
}

namespace allscene::api {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, percent-encoded: "/api/v1/devices?owner=alice"
  std::string body;
  // Header names in lower case ("if-match", "x-ms-max-item-count", …).
  std::map<std::string, std::string> headers{};
  // X-Request-Id: given by the client or made by the server ("" in-process);
  // logged with the request and carried into the MQTT traffic it causes.
  std::string request_id{};

  // The header's value, or "" if absent.
  std::string header(const std::string& lower_case_name) const;
};

struct Response {
  unsigned status = 200;
  std::string body;  // JSON unless content_type says otherwise; empty for 204
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers{};  // "ETag", "x-ms-continuation", …
  // Set for GET /api/v1/events: the server streams it instead of `body`.
  std::shared_ptr<EventFeed> feed{};

  // The header's value (name compared case-insensitively), or "".
  std::string header(std::string_view name) const;
};

// A target split into decoded path segments and query parameters; nullopt
// if an escape is malformed.
struct Target {
  std::vector<std::string> segments;  // "/api/v1/devices/a%2Fb" -> api, v1, devices, a/b
  std::map<std::string, std::string> query;
};
std::optional<Target> parse_target(std::string_view target);

// Whether a request to `target` needs authentication (the bearer token or
// a service SAS token): everything under /api/v1, /devices, /twins and
// /statistics, and /metrics.
bool requires_token(std::string_view target);

// Settings of the service side (twins, methods, messages, Azure paths).
struct ServiceSettings {
  // Without it, twin, method, message and query endpoints answer 503.
  twin::TwinService* twins = nullptr;
  // The user that owns devices created through Azure's PUT /devices/{id}
  // (created when missing).
  std::string device_owner = "service";
  // Opens the feeds of GET /api/v1/events; without it that answers 503.
  FeedOpener open_feed{};
  // Answers /api/v1/services/…; without it those answer 503.
  services::ServiceHost* services = nullptr;
  // GET /metrics: the Prometheus text; without it /metrics answers 503.
  std::function<std::string()> metrics{};
  // GET /readyz: why the hub cannot take work now ("" when it can);
  // without it the hub is ready once it answers.
  std::function<std::string()> not_ready{};
  // The built web console served under /console/ (empty: none).
  std::filesystem::path console_dir{};
};

// The value of an If-Match header without the quotes Azure puts around it.
std::string unquote_etag(std::string_view value);

// An opaque continuation token for a query resumed after `device_id`, and back.
std::string continuation_after(const std::string& device_id);
std::optional<std::string> continuation_device(std::string_view token);

class AdminApi {
 public:
  // Called with a device id after the device was disabled or removed (the
  // hub disconnects it); may be empty.
  using RevokedHandler = std::function<void(const std::string&)>;

  // `presence_storage` is where Presence writes (the device views read it).
  using Reply = std::function<void(Response)>;

  // `presence_storage` is where Presence writes (the device views read it).
  AdminApi(registry::Registry& registry, registry::RegistryStorage& presence_storage,
           RevokedHandler on_revoked = {}, ServiceSettings service = {});

  // Answers `request`; `reply` is called exactly once (see above).
  void handle_async(const Request& request, Reply reply);
  // The same, waiting for the answer (in-process use; never on a thread
  // that the twin service's completions need).
  Response handle(const Request& request);

 private:
  // The answer, or nullopt when `reply` will be called later.
  std::optional<Response> route(const Request& request, const Target& target, const Reply& reply);
  std::optional<Response> route_operations(const Request& request, const Target& target);
  Response route_native(const Request& request, const Target& target);
  // /api/v1/services (services_api.cpp); true if the path is one of them.
  bool route_cloud_services(const Request& request, const Target& target, const Reply& reply,
                            std::optional<Response>& answer);
  // True if the path is a service one: `answer` is then set, or `reply`
  // will be called later.
  bool route_service(const Request& request, const Target& target, const Reply& reply,
                     std::optional<Response>& answer);
  bool route_service_paths(const Request& request, const Target& target, const Reply& reply,
                           std::optional<Response>& answer);
  Response list_users();
  Response add_user(const std::string& body);
  Response remove_user(const std::string& id);
  Response list_devices(const std::map<std::string, std::string>& query);
  Response add_device(const std::string& body);
  Response show_device(const std::string& id);
  Response patch_device(const std::string& id, const std::string& body);
  Response remove_device(const std::string& id);
  Response rotate_key(const std::string& id);
  Response open_events(const std::map<std::string, std::string>& query);

  // Service side (service_api.cpp).
  twin::TwinService& twins();
  Response azure_put_device(const std::string& id, const Request& request);
  Response azure_show_device(const std::string& id);
  Response azure_list_devices();
  Response device_statistics();
  Response azure_remove_device(const std::string& id, const Request& request);
  Response twin_get(const std::string& id);
  Response twin_update(const std::string& id, const Request& request, bool replace);
  void invoke_method(const std::string& id, const Request& request, const Reply& reply);
  void send_message(const std::string& id, const Request& request, const Reply& reply);
  Response query(const Request& request);

  registry::Registry& registry_;
  registry::RegistryStorage& presence_storage_;
  RevokedHandler on_revoked_;
  ServiceSettings service_;
};

}  // namespace allscene::api
