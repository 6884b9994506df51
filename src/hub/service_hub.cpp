#include "hub/service_hub.hpp"

#include "ecosystem/card.hpp"

namespace allscene::hub {

using nlohmann::json;
using services::Reply;

namespace {

// A twin service result as a service reply: the twin's {"error": …}
// becomes {"code", "message"}.
Reply reply_of(const twin::Result& result) {
  if (result.ok()) return Reply{result.status, result.body};
  const std::string message =
      result.body.is_object() ? result.body.value("error", "the hub refused") : "the hub refused";
  const char* code = result.status == 404   ? "device_unavailable"
                     : result.status == 504 ? "device_timeout"
                                            : "device_error";
  return Reply::error(result.status, code, message);
}

}  // namespace

std::vector<services::DeviceInfo> ServiceHub::devices(const std::string& user) {
  std::vector<services::DeviceInfo> out;
  const auto snap = registry_.snapshot();
  for (const auto& [id, device] : snap->devices) {
    if (device.owner != user) continue;
    const auto presence = presence_(id);
    const json card = ecosystem::make_card(device, presence, twins_.reported(id));
    services::DeviceInfo info;
    info.id = id;
    info.name = card.value("name", id);
    info.device_class = card.value("class", "");
    info.online = presence.connected;
    if (const auto& battery = card["battery"]; battery.is_object()) {
      info.battery = battery.value("level", -1);
    }
    info.capabilities = card.value("capabilities", std::vector<std::string>{});
    info.last_seen =
        std::chrono::system_clock::time_point(std::chrono::milliseconds(presence.last_seen_ms));
    out.push_back(std::move(info));
  }
  return out;
}

void ServiceHub::invoke(const std::string& device_id, const std::string& method, json payload,
                        std::chrono::seconds timeout, std::function<void(Reply)> done) {
  twins_.invoke_method(device_id, method, std::move(payload), timeout,
                       [done = std::move(done)](twin::Result result) { done(reply_of(result)); });
}

void ServiceHub::send_message(const std::string& device_id, std::string payload,
                              std::vector<std::pair<std::string, std::string>> properties,
                              std::function<void(Reply)> done) {
  twins_.send_message(device_id, std::move(payload), std::move(properties), std::chrono::seconds(0),
                      [done = std::move(done)](twin::Result result) { done(reply_of(result)); });
}

void ServiceHub::publish(const std::string& topic, std::string payload, bool retain) {
  link_.publish(topic, std::move(payload), retain, "services: a message on " + topic);
}

Reply ServiceHub::call(const services::Caller& caller, std::string_view service,
                       std::string_view operation, const json& request) {
  return host_.call_now(caller, service, operation, request);
}

}  // namespace allscene::hub
