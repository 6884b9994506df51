#include "ecosystem/card.hpp"

#include <algorithm>
#include <string>

#include "twin/twin.hpp"

namespace allscene::ecosystem {
namespace {

using nlohmann::json;

const json& ecosystem_part(const json& reported) {
  static const json kNone = json::object();
  if (!reported.is_object()) return kNone;
  const auto it = reported.find("ecosystem");
  return it != reported.end() && it->is_object() ? *it : kNone;
}

json battery_of(const json& part) {
  const auto it = part.find("battery");
  if (it == part.end() || !it->is_object()) return nullptr;
  const auto level = it->find("level");
  if (level == it->end() || !level->is_number() || *level < 0 || *level > 100) return nullptr;
  json battery = {{"level", *level}};
  const auto charging = it->find("charging");
  if (charging != it->end() && charging->is_boolean()) battery["charging"] = *charging;
  return battery;
}

json strings_of(const json& value) {
  json strings = json::array();
  if (!value.is_array()) return strings;
  for (const auto& item : value) {
    if (item.is_string()) strings.push_back(item);
  }
  return strings;
}

json commands_of(const json& part) {
  json commands = json::object();
  const auto it = part.find("commands");
  if (it == part.end() || !it->is_object()) return commands;
  for (const auto& [name, command] : it->items()) {
    if (!command.is_object()) continue;
    json entry = json::object();
    if (const auto label = command.find("label"); label != command.end() && label->is_string()) {
      entry["label"] = *label;
    }
    if (const auto allow = command.find("allow"); allow != command.end()) {
      entry["allow"] = strings_of(*allow);
    }
    commands[name] = std::move(entry);
  }
  return commands;
}

}  // namespace

json make_card(const registry::Device& device, const registry::PresenceState& presence,
               const json& reported) {
  const json& part = ecosystem_part(reported);
  json card = {
      {"deviceId", device.id},
      {"name", device.display_name.empty() ? device.id : device.display_name},
      {"class", std::string(registry::to_string(device.device_class))},
      {"online", presence.connected},
      {"lastSeen", presence.last_seen_ms > 0 ? json(twin::iso8601(presence.last_seen_ms)) : json()},
      {"battery", battery_of(part)},
      {"capabilities", strings_of(part.value("capabilities", json::array()))},
      {"commands", commands_of(part)},
  };
  return card;
}

CommandAccess command_access(const json& reported, std::string_view name,
                             const registry::Device& caller) {
  const json commands = commands_of(ecosystem_part(reported));
  const auto it = commands.find(std::string(name));
  if (it == commands.end()) return CommandAccess::unknown;
  const auto allow = it->find("allow");
  if (allow == it->end()) return CommandAccess::allowed;
  const std::string caller_class(registry::to_string(caller.device_class));
  const bool listed = std::any_of(allow->begin(), allow->end(), [&](const json& who) {
    return who == caller.id || who == caller_class;
  });
  return listed ? CommandAccess::allowed : CommandAccess::forbidden;
}

}  // namespace allscene::ecosystem
