// The service side of AdminApi: Azure IoT Hub's registry, twin, method and
// query paths at the root, and the native twin, method and message paths
// under /api/v1/devices/{id}.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>

#include "api/admin_api.hpp"
#include "api/api_util.hpp"
#include "api/views.hpp"
#include "azure/azure.hpp"
#include "registry/presence.hpp"
#include "twin/query.hpp"
#include "twin/twin_service.hpp"

namespace allscene::api {
namespace {

using detail::allow;
using detail::ApiError;
using detail::error_response;
using detail::fail;
using detail::json_response;
using detail::parse_object;
using nlohmann::json;

constexpr std::int64_t kDefaultPageSize = 100;
constexpr std::int64_t kMaxPageSize = 10000;  // as Azure's SDKs allow

std::string device_missing(const std::string& id) {
  return fmt::format("no device \"{}\"; list devices with GET /devices or `allscene device list`",
                     id);
}

// A twin service answer as a Response: ETag header (quoted, as Azure sends
// it) for twins, Azure's error fields on refusals.
Response from_result(const twin::Result& result, unsigned success_status = 0) {
  if (result.ok()) {
    auto out = json_response(success_status ? success_status : static_cast<unsigned>(result.status),
                             result.body);
    if (!result.etag.empty()) out.headers.emplace_back("ETag", "\"" + result.etag + "\"");
    return out;
  }
  const auto status = static_cast<unsigned>(result.status);
  const auto message =
      result.body.is_object() && result.body.contains("error") && result.body["error"].is_string()
          ? result.body["error"].get<std::string>()
          : result.body.dump();
  return error_response(status, message, detail::azure_code_for(status));
}

// A non-negative integer field, or `fallback` when absent or null.
std::int64_t seconds_field(const json& j, const char* key, std::int64_t fallback) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
    fail(400, fmt::format("\"{}\" must be a whole number of seconds, 0 or more", key));
  }
  return it->get<std::int64_t>();
}

// A string or null field of an object that may itself be absent or null.
std::string optional_string(const json& object, const char* key, const char* where) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  if (!it->is_string()) fail(400, fmt::format("\"{}.{}\" must be a string or null", where, key));
  return it->get<std::string>();
}

bool starts_with_select_star(std::string_view text) {
  std::string lower;
  for (const char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!lower.empty() && lower.back() != ' ') {
      lower += ' ';
    }
    if (lower.size() >= 8) break;
  }
  return lower.starts_with("select *");
}

// What PUT /devices/{id} asks for.
struct DeviceRequest {
  bool enabled = true;
  registry::AuthKind kind = registry::AuthKind::sas;
  std::string primary_key, secondary_key;
  std::vector<std::string> thumbprints;
  bool ca_signed = false;
  bool none = false;  // type "none": how a password device is shown; keeps its credential
};

DeviceRequest parse_device_request(const std::string& id, const std::string& body) {
  const auto j = parse_object(body);
  DeviceRequest out;
  if (const auto it = j.find("deviceId"); it != j.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>() != id) {
      fail(400, fmt::format("\"deviceId\" in the body must be \"{}\", the id in the path", id));
    }
  }
  if (const auto it = j.find("status"); it != j.end() && !it->is_null()) {
    if (*it == "enabled" || *it == "disabled") {
      out.enabled = *it == "enabled";
    } else {
      fail(400, "\"status\" must be \"enabled\" or \"disabled\"");
    }
  }
  const auto it = j.find("authentication");
  if (it == j.end() || it->is_null()) return out;
  const json& auth = *it;
  if (!auth.is_object()) fail(400, "\"authentication\" must be an object");
  const json keys = auth.value("symmetricKey", json());
  const json prints = auth.value("x509Thumbprint", json());
  out.primary_key = optional_string(keys, "primaryKey", "authentication.symmetricKey");
  out.secondary_key = optional_string(keys, "secondaryKey", "authentication.symmetricKey");
  for (const char* name : {"primaryThumbprint", "secondaryThumbprint"}) {
    auto t = optional_string(prints, name, "authentication.x509Thumbprint");
    if (!t.empty()) out.thumbprints.push_back(std::move(t));
  }
  std::string type = optional_string(auth, "type", "authentication");
  if (type.empty()) type = out.thumbprints.empty() ? "sas" : "selfSigned";
  if (type == "sas") {
    if (out.primary_key.empty() != out.secondary_key.empty()) {
      fail(400, "give both symmetric keys (primaryKey and secondaryKey) or neither");
    }
    if (!out.thumbprints.empty()) fail(400, "a \"sas\" device takes no x509Thumbprint");
  } else if (type == "selfSigned") {
    out.kind = registry::AuthKind::x509;
    if (out.thumbprints.empty()) {
      fail(400, "a \"selfSigned\" device needs authentication.x509Thumbprint.primaryThumbprint");
    }
  } else if (type == "none") {
    out.none = true;
  } else if (type == "certificateAuthority") {
    out.kind = registry::AuthKind::x509;
    out.ca_signed = out.thumbprints.empty();
  } else {
    fail(400, fmt::format("authentication type \"{}\" is not supported; use sas, selfSigned or "
                          "certificateAuthority",
                          type));
  }
  if (out.kind == registry::AuthKind::x509 && !out.primary_key.empty()) {
    fail(400, "an X.509 device takes no symmetric keys");
  }
  return out;
}

}  // namespace

std::string unquote_etag(std::string_view value) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) {
    value.remove_prefix(1);
  }
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
    value.remove_suffix(1);
  }
  if (value.starts_with("W/")) value.remove_prefix(2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  return std::string(value);
}

std::string continuation_after(const std::string& device_id) {
  return azure::base64_encode(device_id);
}

std::optional<std::string> continuation_device(std::string_view token) {
  auto id = azure::base64_decode(token);
  if (!id || id->empty()) return std::nullopt;
  return id;
}

twin::TwinService& AdminApi::twins() {
  if (!service_.twins) {
    fail(503, "device twins are not available here; run `allscene hub` and call its endpoint");
  }
  return *service_.twins;
}

bool AdminApi::route_service(const Request& request, const Target& target, const Reply& reply,
                             std::optional<Response>& answer) {
  try {
    return route_service_paths(request, target, reply, answer);
  } catch (ApiError& e) {
    if (e.azure_code == 0) e.azure_code = detail::azure_code_for(e.status);
    throw;
  } catch (const registry::RegistryError& e) {
    throw ApiError{400, e.what(), 400004};
  }
}

bool AdminApi::route_service_paths(const Request& request, const Target& target, const Reply& reply,
                                   std::optional<Response>& answer) {
  const auto& s = target.segments;
  const auto& m = request.method;
  if (!s.empty() && s[0] == "devices") {
    if (s.size() == 1) {
      allow(request, {"GET"});
      answer = azure_list_devices();
      return true;
    }
    if (s.size() == 2 && s[1] == "query" && m == "POST") {
      answer = query(request);
      return true;
    }
    if (s.size() == 2) {
      allow(request, {"GET", "PUT", "DELETE"});
      if (m == "GET") answer = azure_show_device(s[1]);
      if (m == "PUT") answer = azure_put_device(s[1], request);
      if (m == "DELETE") answer = azure_remove_device(s[1], request);
      return true;
    }
    return false;
  }
  if (s.size() == 2 && s[0] == "statistics" && s[1] == "devices") {
    allow(request, {"GET"});
    answer = device_statistics();
    return true;
  }
  if (!s.empty() && s[0] == "twins") {
    if (s.size() == 2) {
      allow(request, {"GET", "PATCH", "PUT"});
      answer = m == "GET" ? twin_get(s[1]) : twin_update(s[1], request, m == "PUT");
      return true;
    }
    if (s.size() == 3 && s[2] == "methods") {
      allow(request, {"POST"});
      invoke_method(s[1], request, reply);
      return true;
    }
    return false;
  }
  // Native aliases: /api/v1/devices/{id}/twin | methods | messages.
  if (s.size() == 5 && s[0] == "api" && s[1] == "v1" && s[2] == "devices") {
    if (s[4] == "twin") {
      allow(request, {"GET", "PATCH", "PUT"});
      answer = m == "GET" ? twin_get(s[3]) : twin_update(s[3], request, m == "PUT");
      return true;
    }
    if (s[4] == "methods") {
      allow(request, {"POST"});
      invoke_method(s[3], request, reply);
      return true;
    }
    if (s[4] == "messages") {
      allow(request, {"POST"});
      send_message(s[3], request, reply);
      return true;
    }
  }
  if (s.size() == 3 && s[0] == "api" && s[1] == "v1" && s[2] == "query") {
    allow(request, {"POST"});
    answer = query(request);
    return true;
  }
  return false;
}

Response AdminApi::azure_list_devices() {
  const auto snap = registry_.snapshot();
  std::map<std::string, const registry::Device*> devices;
  for (const auto& [id, d] : snap->devices) devices[id] = &d;
  auto presence = registry::Presence::read(presence_storage_);
  json out = json::array();
  for (const auto& [id, d] : devices) out.push_back(azure_device_view(*d, presence[id]));
  return json_response(200, out);
}

Response AdminApi::device_statistics() {
  const auto snap = registry_.snapshot();
  std::size_t enabled = 0;
  for (const auto& [id, d] : snap->devices) enabled += d.enabled ? 1 : 0;
  return json_response(200, json{{"totalDeviceCount", snap->devices.size()},
                                 {"enabledDeviceCount", enabled},
                                 {"disabledDeviceCount", snap->devices.size() - enabled}});
}

Response AdminApi::azure_show_device(const std::string& id) {
  const auto snap = registry_.snapshot();
  const auto* d = snap->device(id);
  if (!d) fail(404, device_missing(id), 404001);
  const auto presence = registry::Presence::read(presence_storage_);
  const auto seen = presence.find(id);
  auto out = json_response(
      200,
      azure_device_view(*d, seen == presence.end() ? registry::PresenceState{} : seen->second));
  out.headers.emplace_back("ETag", "\"" + device_etag(*d) + "\"");
  return out;
}

Response AdminApi::azure_put_device(const std::string& id, const Request& request) {
  const auto wanted = parse_device_request(id, request.body);
  const auto if_match = unquote_etag(request.header("if-match"));
  const auto snap = registry_.snapshot();
  if (const auto* existing = snap->device(id)) {
    if (if_match.empty()) {
      fail(409,
           fmt::format(
               "device \"{}\" already exists; to update it send If-Match: \"*\" or its etag", id),
           409001);
    }
    if (if_match != "*" && if_match != device_etag(*existing)) {
      fail(412,
           fmt::format("device \"{}\" has changed (etag \"{}\"); read it again and retry", id,
                       device_etag(*existing)),
           412002);
    }
    const auto kind = registry::auth_kind(*existing);
    if (kind != wanted.kind &&
        !(kind == registry::AuthKind::password && wanted.primary_key.empty() &&
          wanted.kind == registry::AuthKind::sas)) {
      fail(400, "the kind of credential of a device cannot change; remove and add it again");
    }
    if (kind == registry::AuthKind::x509 && !wanted.thumbprints.empty()) {
      std::vector<std::string> normal;
      for (const auto& t : wanted.thumbprints) {
        normal.push_back(registry::normalise_thumbprint(t).value_or(t));
      }
      if (normal != existing->thumbprints) {
        fail(400, "thumbprints of a device cannot change; remove and add it again");
      }
    }
    if (kind == registry::AuthKind::sas && !wanted.primary_key.empty()) {
      registry_.set_keys(id, wanted.primary_key, wanted.secondary_key);
    }
    registry_.set_enabled(id, wanted.enabled);
    if (!wanted.enabled && existing->enabled && on_revoked_) on_revoked_(id);
    return azure_show_device(id);
  }
  if (!if_match.empty() && if_match != "*") {
    fail(412, fmt::format("no device \"{}\" has etag \"{}\"", id, if_match), 412002);
  }
  if (wanted.none) {
    fail(400,
         "a device needs a credential: use authentication type sas, selfSigned or "
         "certificateAuthority");
  }
  const auto& owner = service_.device_owner;
  if (!snap->user(owner)) {
    try {
      registry_.add_user(owner, "Devices created through the Azure service API");
    } catch (const registry::RegistryError&) {
      if (!registry_.snapshot()->user(owner)) throw;  // not a concurrent add of the same user
    }
  }
  registry::NewDevice n;
  n.id = id;
  n.owner = owner;
  n.auth = wanted.kind;
  n.primary_key = wanted.primary_key;
  n.secondary_key = wanted.secondary_key;
  n.thumbprints = wanted.thumbprints;
  n.ca_signed = wanted.ca_signed;
  try {
    registry_.add_device(n);
  } catch (const registry::RegistryError& e) {
    if (registry_.snapshot()->device(id)) {
      fail(409, fmt::format("device \"{}\" already exists", id), 409001);
    }
    throw;
  }
  if (!wanted.enabled) registry_.set_enabled(id, false);
  return azure_show_device(id);
}

Response AdminApi::azure_remove_device(const std::string& id, const Request& request) {
  const auto snap = registry_.snapshot();
  const auto* d = snap->device(id);
  if (!d) fail(404, device_missing(id), 404001);
  const auto if_match = unquote_etag(request.header("if-match"));
  if (!if_match.empty() && if_match != "*" && if_match != device_etag(*d)) {
    fail(412,
         fmt::format("device \"{}\" has changed (etag \"{}\"); read it again and retry", id,
                     device_etag(*d)),
         412002);
  }
  registry_.remove_device(id);
  if (on_revoked_) on_revoked_(id);
  if (service_.twins) service_.twins->forget(id);
  return {204, {}, {}, {}};
}

Response AdminApi::twin_get(const std::string& id) { return from_result(twins().get_twin(id)); }

Response AdminApi::twin_update(const std::string& id, const Request& request, bool replace) {
  auto& service = twins();
  const auto body = parse_object(request.body);
  const auto if_match = unquote_etag(request.header("if-match"));
  return from_result(replace ? service.replace_twin(id, body, if_match)
                             : service.patch_twin(id, body, if_match));
}

void AdminApi::invoke_method(const std::string& id, const Request& request, const Reply& reply) {
  auto& service = twins();
  const auto j = parse_object(request.body);
  const auto name = detail::string_field(j, "methodName", true);
  const auto timeout = seconds_field(j, "responseTimeoutInSeconds", 0);
  seconds_field(j, "connectTimeoutInSeconds", 0);  // checked; the device must be connected
  if (!registry_.snapshot()->device(id)) fail(404, device_missing(id), 404001);
  service.invoke_method(
      id, name, j.value("payload", json()), std::chrono::seconds(timeout),
      [reply, id](twin::Result result) {
        if (result.status == 404) {
          // Registered (checked above): offline or not subscribed.
          const auto message = result.body.is_object() && result.body.contains("error")
                                   ? result.body["error"].get<std::string>()
                                   : fmt::format("device \"{}\" is not online", id);
          reply(error_response(404, message, 404103));
          return;
        }
        reply(from_result(result));
      },
      request.request_id);
}

void AdminApi::send_message(const std::string& id, const Request& request, const Reply& reply) {
  auto& service = twins();
  const auto j = parse_object(request.body, {"payload", "properties", "ttlSeconds"});
  const auto it = j.find("payload");
  if (it == j.end()) fail(400, "\"payload\" is missing; give a string or any JSON value");
  std::string payload = it->is_string() ? it->get<std::string>() : it->dump();
  std::vector<std::pair<std::string, std::string>> properties;
  if (const auto p = j.find("properties"); p != j.end() && !p->is_null()) {
    if (!p->is_object()) fail(400, "\"properties\" must be an object of strings");
    for (const auto& [key, value] : p->items()) {
      if (!value.is_string()) fail(400, fmt::format("property \"{}\" must be a string", key));
      properties.emplace_back(key, value.get<std::string>());
    }
  }
  const auto ttl = seconds_field(j, "ttlSeconds", 0);
  if (!registry_.snapshot()->device(id)) fail(404, device_missing(id), 404001);
  service.send_message(
      id, std::move(payload), std::move(properties), std::chrono::seconds(ttl),
      [reply](twin::Result result) { reply(from_result(result, 202)); }, request.request_id);
}

Response AdminApi::query(const Request& request) {
  auto& service = twins();
  const auto j = parse_object(request.body);
  const auto text = detail::string_field(j, "query", true);
  std::int64_t page = kDefaultPageSize;
  if (const auto count = request.header("x-ms-max-item-count"); !count.empty()) {
    try {
      std::size_t used = 0;
      page = std::stoll(count, &used);
      if (used != count.size()) page = 0;
    } catch (const std::exception&) {
      page = 0;
    }
    if (page < 1 || page > kMaxPageSize) {
      fail(400,
           fmt::format("x-ms-max-item-count must be a whole number from 1 to {}", kMaxPageSize));
    }
  }
  std::optional<std::string> after;
  if (const auto token = request.header("x-ms-continuation"); !token.empty()) {
    after = continuation_device(token);
    if (!after) fail(400, "x-ms-continuation is not a token this hub gave; start the query again");
  }
  std::optional<twin::Query> query;
  try {
    query = twin::Query::parse(text);
  } catch (const twin::QueryError& e) {
    fail(400, e.what());
  }
  const auto twins = service.all_twins();
  Response out = json_response(200, json::array());
  if (query->is_aggregate()) {
    std::vector<const json*> matching;
    for (const auto& t : twins) {
      if (query->matches(t)) matching.push_back(&t);
    }
    out.body = query->aggregate(matching).dump();
    out.headers.emplace_back("x-ms-item-type", "JSON");
    return out;
  }
  json rows = json::array();
  std::string last;
  for (const auto& t : twins) {
    const auto id = t.value("deviceId", std::string());
    if (after && id <= *after) continue;
    if (!query->matches(t)) continue;
    if (static_cast<std::int64_t>(rows.size()) == page) {
      out.headers.emplace_back("x-ms-continuation", continuation_after(last));
      break;
    }
    rows.push_back(query->project(t));
    last = id;
  }
  out.body = rows.dump();
  out.headers.emplace_back("x-ms-item-type", starts_with_select_star(text) ? "Twin" : "JSON");
  return out;
}

}  // namespace allscene::api
