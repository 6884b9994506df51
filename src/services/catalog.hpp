// The cloud services built into this binary (CMake's ALLSCENE_SERVICES),
// created with their defaults: each keeps its state in its own folder,
// STATE_ROOT/{name}, and reaches the hub through `hub`.
#pragma once

#include <filesystem>

#include "services/host.hpp"

namespace allscene::services {

// Adds them to `host`; throws what a service's constructor throws (a state
// folder that cannot be made or opened), naming the service.
void add_built_services(ServiceHost& host, const std::filesystem::path& state_root, HubAccess& hub);

}  // namespace allscene::services
