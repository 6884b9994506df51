// Starts the hub: logging, data directory, broker, listeners, signals.
#pragma once

#include "hub/config.hpp"

namespace allscene::hub {

// Runs until SIGINT or SIGTERM; returns the process exit code.
int run(HubConfig config);

// Verifies the session store in the data directory (`hub --check-data`);
// prints what it found and returns the process exit code.
int check_data(const HubConfig& config);

// Configures spdlog from level and format names; throws on a bad level.
void setup_logging(const std::string& level, const std::string& format,
                   const std::map<std::string, std::string>& module_levels = {});

}  // namespace allscene::hub
