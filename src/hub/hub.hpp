// Starts the hub: logging, data directory, broker, listeners, signals.
#pragma once

#include "hub/config.hpp"

namespace allscene::hub {

// Runs until SIGINT or SIGTERM; returns the process exit code.
int run(HubConfig config);

// Configures spdlog from level and format names; throws on a bad level.
void setup_logging(const std::string& level, const std::string& format);

}  // namespace allscene::hub
