// The probe's ecosystem commands (with --ecosystem USER): an Ecosystem on
// the probe's client, its callbacks printed as events.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "allscene/ecosystem.hpp"

namespace probe {

// Prints every callback of `eco` as an event line; accepts file offers
// unless `decline_files`. Call before start().
void watch_ecosystem(allscene::sdk::Ecosystem& eco, bool decline_files);

// Runs command `op` if it is an ecosystem or plain-topic command; false
// when `op` is not one of them. `eco` is null without --ecosystem.
bool ecosystem_command(allscene::sdk::Ecosystem* eco, allscene::sdk::DeviceClient& client,
                       const std::string& op, const nlohmann::json& cmd);

}  // namespace probe
