// What people and tools see of the registry: devices without their
// secrets, and credentials as issued. Shared by the admin API and the CLI.
#pragma once

#include <nlohmann/json.hpp>

#include "registry/presence.hpp"
#include "registry/registry.hpp"

namespace allscene::api {

// A device as shown: never primary_key, secondary_key or password_hash;
// with "auth" (sas | password | x509), "connected" and "last_seen_ms" from
// `presence`.
nlohmann::json device_view(const registry::Device& device,
                           const registry::PresenceState& presence = {});

// Only the secrets the device has: primary_key and secondary_key, or password.
nlohmann::json credentials_json(const registry::Credentials& credentials);

}  // namespace allscene::api
