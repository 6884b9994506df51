// The admin API's requests and answers, without a network: routing, JSON
// validation and the registry calls. AdminServer serves it over HTTP (with
// the bearer token); the CLI calls it in-process on a data directory whose
// hub is stopped, so both paths answer alike.
//
// Error style: handle() never throws for what a client sent; every refusal
// is a Response with status 4xx and {"error": "..."} saying what to do.
// Storage failures (std::runtime_error) become 500.
//
// Thread safety: handle() may be called from any thread (the registry
// serialises mutations).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "registry/registry.hpp"

namespace allscene::api {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, percent-encoded: "/api/v1/devices?owner=alice"
  std::string body;
};

struct Response {
  unsigned status = 200;
  std::string body;  // JSON unless content_type says otherwise; empty for 204
  std::string content_type = "application/json";
};

// A target split into decoded path segments and query parameters; nullopt
// if an escape is malformed.
struct Target {
  std::vector<std::string> segments;  // "/api/v1/devices/a%2Fb" -> api, v1, devices, a/b
  std::map<std::string, std::string> query;
};
std::optional<Target> parse_target(std::string_view target);

// Whether a request to `target` needs the bearer token: everything under
// /api/v1.
bool requires_token(std::string_view target);

class AdminApi {
 public:
  // Called with a device id after the device was disabled or removed (the
  // hub disconnects it); may be empty.
  using RevokedHandler = std::function<void(const std::string&)>;

  // `presence_storage` is where Presence writes (the device views read it).
  AdminApi(registry::Registry& registry, registry::RegistryStorage& presence_storage,
           RevokedHandler on_revoked = {});

  Response handle(const Request& request);

 private:
  Response route(const Request& request, const Target& target);
  Response list_users();
  Response add_user(const std::string& body);
  Response remove_user(const std::string& id);
  Response list_devices(const std::map<std::string, std::string>& query);
  Response add_device(const std::string& body);
  Response show_device(const std::string& id);
  Response patch_device(const std::string& id, const std::string& body);
  Response remove_device(const std::string& id);
  Response rotate_key(const std::string& id);

  registry::Registry& registry_;
  registry::RegistryStorage& presence_storage_;
  RevokedHandler on_revoked_;
};

}  // namespace allscene::api
