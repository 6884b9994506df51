// What people and tools see of the registry: devices without their
// secrets, and credentials as issued. Shared by the admin API and the CLI.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

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

// A device's etag: changes whenever its status or credentials change
// (base64, 12 characters).
std::string device_etag(const registry::Device& device);

// Unix ms as Azure writes times ("2026-11-24T13:40:52.123Z"); 0 (never) as
// Azure's "0001-01-01T00:00:00Z".
std::string azure_time(std::int64_t ms);

// A device as Azure IoT Hub's registry returns it (deviceId, generationId,
// etag, connectionState, status, authentication with its keys, …).
nlohmann::json azure_device_view(const registry::Device& device,
                                 const registry::PresenceState& presence = {});

}  // namespace allscene::api
