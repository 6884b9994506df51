#include "api/event_feed.hpp"

#include <nlohmann/json.hpp>

#include "azure/topics.hpp"

namespace allscene::api {

std::string format_event(const std::string& topic, const std::string& payload) {
  nlohmann::json data{{"topic", topic}};
  const auto parsed = nlohmann::json::parse(payload, nullptr, false);
  data["payload"] = parsed.is_discarded() ? nlohmann::json(payload) : parsed;
  if (const auto event = azure::parse_device_event(topic)) {
    data["deviceId"] = event->device_id;
    if (!event->module_id.empty()) data["moduleId"] = event->module_id;
    auto& properties = data["properties"] = nlohmann::json::object();
    for (const auto& [key, value] : event->properties) properties[key] = value;
  }
  // dump() escapes newlines, so the event is one data line.
  return "event: message\ndata: " +
         data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

}  // namespace allscene::api
