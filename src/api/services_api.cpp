// /api/v1/services: the cloud services over REST (docs/api.md, "Cloud
// services"), answered by the same ServiceHost as $services/ over MQTT.
#include <fmt/format.h>

#include "api/admin_api.hpp"
#include "api/api_util.hpp"
#include "services/host.hpp"

namespace allscene::api {

using detail::fail;
using nlohmann::json;

bool AdminApi::route_cloud_services(const Request& request, const Target& target,
                                    const Reply& reply, std::optional<Response>& answer) {
  const auto& s = target.segments;
  if (s.size() < 3 || s[0] != "api" || s[1] != "v1" || s[2] != "services") return false;
  services::ServiceHost* host = service_.services;
  if (!host) fail(503, "this hub runs no cloud services");
  if (s.size() == 3) {
    detail::allow(request, {"GET"});
    answer = detail::json_response(200, host->describe());
    return true;
  }
  if (s.size() != 5) {
    fail(404, "service requests are POST /api/v1/services/{service}/{operation}?user={user}");
  }
  detail::allow(request, {"POST"});
  services::Caller caller{.user = {}, .device_id = {}, .admin = true};
  if (const auto user = target.query.find("user"); user != target.query.end()) {
    if (!registry_.snapshot()->user(user->second)) {
      fail(404, fmt::format("there is no user '{}'", user->second));
    }
    caller.user = user->second;
  }
  const json body = request.body.empty() ? json::object() : detail::parse_object(request.body);
  host->call(std::move(caller), s[3], s[4], body, [reply](services::Reply result) {
    reply(detail::json_response(static_cast<unsigned>(result.status), result.body));
  });
  return true;
}

}  // namespace allscene::api
