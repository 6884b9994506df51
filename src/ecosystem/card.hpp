// Device cards: what one person's devices see of each other (published by
// the hub, retained, on users/{owner}/devices/{id}), and the rules that
// read a device's self-description from its reported twin properties.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "registry/model.hpp"
#include "registry/presence.hpp"

namespace allscene::ecosystem {

// The card of `device`: id, name and class from the registry, online and
// lastSeen from presence, and battery, capabilities and commands from the
// "ecosystem" part of its reported properties. Only well-formed parts are
// copied (a battery level 0–100, capabilities as strings, commands as
// objects), so a device cannot put arbitrary JSON into its siblings' view.
nlohmann::json make_card(const registry::Device& device, const registry::PresenceState& presence,
                         const nlohmann::json& reported);

// May `caller` run the command `name` that the device whose reported
// properties are `reported` exposes? Unknown if the device does not list
// it; forbidden if the command has an "allow" list naming neither the
// caller's id nor its class.
enum class CommandAccess { allowed, unknown, forbidden };
CommandAccess command_access(const nlohmann::json& reported, std::string_view name,
                             const registry::Device& caller);

}  // namespace allscene::ecosystem
