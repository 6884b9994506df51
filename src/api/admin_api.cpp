#include "api/admin_api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "api/api_util.hpp"
#include "api/console_files.hpp"
#include "api/metrics.hpp"
#include "api/views.hpp"
#include "azure/azure.hpp"
#include "mqtt/topic.hpp"
#include "registry/presence.hpp"
#include "twin/twin_service.hpp"

namespace allscene::api {
namespace {

using detail::ApiError;
using detail::bool_field;
using detail::error_response;
using detail::fail;
using detail::json_response;
using detail::parse_object;
using detail::string_field;
using nlohmann::json;

std::string device_missing(const std::string& id) {
  return fmt::format(
      "no device \"{}\"; list devices with `allscene device list` or GET /api/v1/devices", id);
}

std::string user_missing(const std::string& id) {
  return fmt::format("no user \"{}\"; list users with `allscene user list` or GET /api/v1/users",
                     id);
}

}  // namespace

std::optional<Target> parse_target(std::string_view target) {
  Target out;
  const auto q = target.find('?');
  const auto path = target.substr(0, q);
  std::size_t start = path.starts_with('/') ? 1 : 0;
  while (start < path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto segment = azure::url_decode(path.substr(start, end - start));
    if (!segment) return std::nullopt;
    out.segments.push_back(std::move(*segment));
    start = end + 1;
  }
  if (q != std::string_view::npos) {
    auto query = azure::parse_property_bag(target.substr(q + 1));
    if (!query) return std::nullopt;
    for (auto& [key, value] : *query) {
      if (!key.empty()) out.query[key] = std::move(value);
    }
  }
  return out;
}

bool requires_token(std::string_view target) {
  const auto path = target.substr(0, target.find('?'));
  for (const std::string_view root : {"/api/v1", "/devices", "/twins", "/statistics", "/metrics"}) {
    if (path == root || (path.starts_with(root) && path[root.size()] == '/')) return true;
  }
  return false;
}

std::string Request::header(const std::string& lower_case_name) const {
  const auto it = headers.find(lower_case_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return {};
}

AdminApi::AdminApi(registry::Registry& registry, registry::RegistryStorage& presence_storage,
                   RevokedHandler on_revoked, ServiceSettings service)
    : registry_(registry),
      presence_storage_(presence_storage),
      on_revoked_(std::move(on_revoked)),
      service_(std::move(service)) {}

void AdminApi::handle_async(const Request& request, Reply reply) {
  std::optional<Response> response;
  try {
    const auto target = parse_target(request.target);
    if (!target) fail(400, "the path has a malformed %-escape; encode '%' as %25");
    response = route(request, *target, reply);
  } catch (const ApiError& e) {
    response = error_response(e.status, e.message, e.azure_code);
  } catch (const registry::RegistryError& e) {
    response = error_response(400, e.what());
  } catch (const std::exception& e) {
    response = error_response(500, fmt::format("the hub could not do it: {}", e.what()));
  }
  if (response) reply(std::move(*response));
}

Response AdminApi::handle(const Request& request) {
  std::promise<Response> answer;
  auto answered = answer.get_future();
  handle_async(request, [&answer](Response r) { answer.set_value(std::move(r)); });
  return answered.get();
}

std::optional<Response> AdminApi::route(const Request& request, const Target& target,
                                        const Reply& reply) {
  if (auto answer = route_operations(request, target)) return answer;
  std::optional<Response> answer;
  if (route_cloud_services(request, target, reply, answer)) return answer;
  if (route_service(request, target, reply, answer)) return answer;
  return route_native(request, target);
}

// Health, readiness, metrics and the console: what operators and people
// open, outside the API proper.
std::optional<Response> AdminApi::route_operations(const Request& request, const Target& target) {
  const auto& s = target.segments;
  const auto get_only = [&](std::string_view path) {
    if (request.method != "GET") fail(405, fmt::format("only GET is allowed on {}", path));
  };
  if (s.empty() ||
      (s.size() == 1 && s[0] == "console" && !request.target.starts_with("/console/"))) {
    get_only(request.target);
    return Response{302, "", "text/plain", {{"Location", "/console/"}}};
  }
  if (s[0] == "console") {
    get_only("/console/");
    return console_file(service_.console_dir, {s.begin() + 1, s.end()});
  }
  if (s.size() != 1) return std::nullopt;
  if (s[0] == "healthz") {
    get_only("/healthz");
    return Response{200, "ok", "text/plain", {}};
  }
  if (s[0] == "readyz") {
    get_only("/readyz");
    const auto why = service_.not_ready ? service_.not_ready() : std::string();
    if (why.empty()) return Response{200, "ready", "text/plain", {}};
    return Response{503, why, "text/plain", {}};
  }
  if (s[0] == "metrics") {
    get_only("/metrics");
    if (!service_.metrics) fail(503, "metrics need the running hub");
    return Response{200, service_.metrics(), kMetricsContentType, {}};
  }
  return std::nullopt;
}

Response AdminApi::route_native(const Request& request, const Target& target) {
  const auto& s = target.segments;
  const auto& m = request.method;
  const auto allow = [&](std::initializer_list<std::string_view> methods) {
    detail::allow(request, methods);
  };
  if (s.size() >= 3 && s[0] == "api" && s[1] == "v1") {
    if (s[2] == "users") {
      if (s.size() == 3) {
        allow({"GET", "POST"});
        return m == "GET" ? list_users() : add_user(request.body);
      }
      if (s.size() == 4) {
        allow({"DELETE"});
        return remove_user(s[3]);
      }
    } else if (s[2] == "devices") {
      if (s.size() == 3) {
        allow({"GET", "POST"});
        return m == "GET" ? list_devices(target.query) : add_device(request.body);
      }
      if (s.size() == 4) {
        allow({"GET", "PATCH", "DELETE"});
        if (m == "GET") return show_device(s[3]);
        if (m == "PATCH") return patch_device(s[3], request.body);
        return remove_device(s[3]);
      }
      if (s.size() == 5 && s[4] == "rotate-key") {
        allow({"POST"});
        return rotate_key(s[3]);
      }
    } else if (s[2] == "events" && s.size() == 3) {
      allow({"GET"});
      return open_events(target.query);
    }
  }
  fail(404, fmt::format("no such endpoint {}; see docs/api.md", request.target));
}

Response AdminApi::open_events(const std::map<std::string, std::string>& query) {
  if (!service_.open_feed) fail(503, "the event stream needs the running hub");
  std::vector<std::string> filters;
  if (const auto it = query.find("filter"); it != query.end()) {
    // Several filters are separated by spaces (never part of a filter one
    // would stream: device ids and property bags hold none).
    std::string_view rest = it->second;
    while (!rest.empty()) {
      const auto space = rest.find(' ');
      if (space != 0) filters.emplace_back(rest.substr(0, space));
      rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    }
  }
  if (filters.empty()) filters.emplace_back("devices/+/messages/events/#");
  for (const auto& f : filters) {
    if (!mqtt::valid_topic_filter(f)) {
      fail(400,
           fmt::format("'{}' is not an MQTT topic filter (e.g. devices/+/messages/events/#)", f));
    }
  }
  Response r{200, {}, "text/event-stream", {}};
  r.feed = service_.open_feed(std::move(filters));
  return r;
}

Response AdminApi::list_users() {
  const auto snap = registry_.snapshot();
  std::map<std::string, const registry::User*> users;
  for (const auto& [id, u] : snap->users) users[id] = &u;
  json out = json::array();
  for (const auto& [id, u] : users) out.push_back(registry::to_json(*u));
  return json_response(200, out);
}

Response AdminApi::add_user(const std::string& body) {
  const auto j = parse_object(body, {"id", "display_name"});
  const auto id = string_field(j, "id", true);
  const auto name = string_field(j, "display_name", false);
  if (registry_.snapshot()->user(id)) {
    fail(409, fmt::format("user \"{}\" already exists; choose another id", id));
  }
  return json_response(201, registry::to_json(registry_.add_user(id, name)));
}

Response AdminApi::remove_user(const std::string& id) {
  const auto snap = registry_.snapshot();
  if (!snap->user(id)) fail(404, user_missing(id));
  std::string owned;
  std::set<std::string> sorted;
  for (const auto& [device_id, d] : snap->devices) {
    if (d.owner == id) sorted.insert(device_id);
  }
  for (const auto& device_id : sorted) {
    owned += fmt::format("{}{}", owned.empty() ? "" : ", ", device_id);
  }
  if (!owned.empty()) {
    fail(409,
         fmt::format("user \"{}\" still owns devices; remove its devices first: {}", id, owned));
  }
  registry_.remove_user(id);
  return {204, {}, {}, {}};
}

Response AdminApi::list_devices(const std::map<std::string, std::string>& query) {
  for (const auto& [key, value] : query) {
    if (key != "owner") fail(400, fmt::format("unknown parameter \"{}\"; it takes owner", key));
  }
  const auto owner = query.find("owner");
  const auto snap = registry_.snapshot();
  std::map<std::string, const registry::Device*> devices;
  for (const auto& [id, d] : snap->devices) {
    if (owner == query.end() || d.owner == owner->second) devices[id] = &d;
  }
  auto presence = registry::Presence::read(presence_storage_);
  json out = json::array();
  for (const auto& [id, d] : devices) out.push_back(device_view(*d, presence[id]));
  return json_response(200, out);
}

Response AdminApi::add_device(const std::string& body) {
  const auto j = parse_object(body, {"id", "owner", "class", "display_name", "tags", "auth",
                                     "password", "thumbprints", "ca_signed", "gateway"});
  registry::NewDevice n;
  n.id = string_field(j, "id", true);
  n.owner = string_field(j, "owner", true);
  n.display_name = string_field(j, "display_name", false);
  if (j.contains("class")) {
    const auto text = string_field(j, "class", true);
    const auto cls = registry::parse_device_class(text);
    if (!cls) {
      fail(400, fmt::format("unknown class \"{}\"; use phone, laptop, tablet, smart-screen, "
                            "wearable, audio, car or iot",
                            text));
    }
    n.device_class = *cls;
  }
  if (const auto it = j.find("tags"); it != j.end()) {
    if (!it->is_object()) fail(400, "\"tags\" must be an object of strings: {\"room\": \"hall\"}");
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) fail(400, fmt::format("tag \"{}\" must be a string", key));
      n.tags[key] = value.get<std::string>();
    }
  }
  if (j.contains("auth")) {
    const auto auth = string_field(j, "auth", true);
    if (auth == "sas") {
      n.auth = registry::AuthKind::sas;
    } else if (auth == "password") {
      n.auth = registry::AuthKind::password;
    } else if (auth == "x509") {
      n.auth = registry::AuthKind::x509;
    } else {
      fail(400, fmt::format("unknown auth \"{}\"; use sas, password or x509", auth));
    }
  }
  n.password = string_field(j, "password", false);
  if (const auto it = j.find("thumbprints"); it != j.end()) {
    if (!it->is_array()) fail(400, "\"thumbprints\" must be an array of strings");
    for (const auto& t : *it) {
      if (!t.is_string()) fail(400, "\"thumbprints\" must be an array of strings");
      n.thumbprints.push_back(t.get<std::string>());
    }
  }
  n.ca_signed = bool_field(j, "ca_signed", false);
  n.gateway = bool_field(j, "gateway", false);
  // Conflicts and unknown owners are told apart from invalid input here;
  // the registry's own checks (and messages) cover the rest.
  if (registry::valid_id(n.id)) {
    const auto snap = registry_.snapshot();
    if (snap->device(n.id)) {
      fail(409, fmt::format("device \"{}\" already exists; choose another id", n.id));
    }
    if (!snap->user(n.owner)) {
      fail(404, fmt::format("no user \"{}\"; add the user first", n.owner));
    }
    for (const auto& t : n.thumbprints) {
      const auto normal = registry::normalise_thumbprint(t);
      const auto* other = normal ? snap->device_by_thumbprint(*normal) : nullptr;
      if (other) {
        fail(409,
             fmt::format("thumbprint {} already belongs to device \"{}\"", *normal, other->id));
      }
    }
  }
  const auto [device, credentials] = registry_.add_device(n);
  return json_response(
      201, json{{"device", device_view(device)}, {"credentials", credentials_json(credentials)}});
}

Response AdminApi::show_device(const std::string& id) {
  const auto snap = registry_.snapshot();
  const auto* d = snap->device(id);
  if (!d) fail(404, device_missing(id));
  const auto presence = registry::Presence::read(presence_storage_);
  const auto seen = presence.find(id);
  return json_response(
      200, device_view(*d, seen == presence.end() ? registry::PresenceState{} : seen->second));
}

Response AdminApi::patch_device(const std::string& id, const std::string& body) {
  if (!registry_.snapshot()->device(id)) fail(404, device_missing(id));
  const auto j = parse_object(body, {"enabled"});
  const bool enabled = bool_field(j, "enabled", true);
  registry_.set_enabled(id, enabled);
  if (!enabled && on_revoked_) on_revoked_(id);
  return show_device(id);
}

Response AdminApi::remove_device(const std::string& id) {
  if (!registry_.snapshot()->device(id)) fail(404, device_missing(id));
  registry_.remove_device(id);
  if (on_revoked_) on_revoked_(id);
  if (service_.twins) twins().forget(id);
  return {204, {}, {}, {}};
}

Response AdminApi::rotate_key(const std::string& id) {
  if (!registry_.snapshot()->device(id)) fail(404, device_missing(id));
  return json_response(200, credentials_json(registry_.rotate_key(id)));
}

}  // namespace allscene::api
