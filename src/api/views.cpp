#include "api/views.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sodium.h>

#include <chrono>

#include "azure/azure.hpp"

namespace allscene::api {

nlohmann::json device_view(const registry::Device& device,
                           const registry::PresenceState& presence) {
  nlohmann::json j = registry::to_json(device);
  for (const char* secret : {"primary_key", "secondary_key", "password_hash"}) j.erase(secret);
  switch (registry::auth_kind(device)) {
    case registry::AuthKind::sas:
      j["auth"] = "sas";
      break;
    case registry::AuthKind::password:
      j["auth"] = "password";
      break;
    case registry::AuthKind::x509:
      j["auth"] = "x509";
      break;
  }
  j["connected"] = presence.connected;
  j["last_seen_ms"] = presence.last_seen_ms;
  return j;
}

nlohmann::json credentials_json(const registry::Credentials& credentials) {
  nlohmann::json j = nlohmann::json::object();
  if (!credentials.primary_key.empty()) {
    j["primary_key"] = credentials.primary_key;
    j["secondary_key"] = credentials.secondary_key;
  }
  if (!credentials.password.empty()) j["password"] = credentials.password;
  return j;
}

std::string device_etag(const registry::Device& device) {
  // What a service can change: status and credentials.
  const nlohmann::json basis{device.id,          device.created_ms,    device.enabled,
                             device.primary_key, device.secondary_key, device.password_hash,
                             device.thumbprints, device.ca_signed};
  const auto text = basis.dump();
  unsigned char hash[9];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  return azure::base64_encode(std::string_view(reinterpret_cast<const char*>(hash), sizeof hash));
}

std::string azure_time(std::int64_t ms) {
  if (ms <= 0) return "0001-01-01T00:00:00Z";
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", std::chrono::floor<std::chrono::seconds>(t),
                     ms % 1000);
}

nlohmann::json azure_device_view(const registry::Device& device,
                                 const registry::PresenceState& presence) {
  nlohmann::json authentication;
  nlohmann::json thumbprints{{"primaryThumbprint", nullptr}, {"secondaryThumbprint", nullptr}};
  if (!device.thumbprints.empty()) thumbprints["primaryThumbprint"] = device.thumbprints[0];
  if (device.thumbprints.size() > 1) thumbprints["secondaryThumbprint"] = device.thumbprints[1];
  nlohmann::json keys{{"primaryKey", nullptr}, {"secondaryKey", nullptr}};
  switch (registry::auth_kind(device)) {
    case registry::AuthKind::sas:
      authentication["type"] = "sas";
      keys = {{"primaryKey", device.primary_key}, {"secondaryKey", device.secondary_key}};
      break;
    case registry::AuthKind::x509:
      authentication["type"] = device.thumbprints.empty() ? "certificateAuthority" : "selfSigned";
      break;
    case registry::AuthKind::password:
      // Not an Azure kind of credential; shown as "none" to Azure tools.
      authentication["type"] = "none";
      break;
  }
  authentication["symmetricKey"] = keys;
  authentication["x509Thumbprint"] = thumbprints;
  const auto seen = azure_time(presence.last_seen_ms);
  return {{"deviceId", device.id},
          {"moduleId", nullptr},
          {"generationId", std::to_string(device.created_ms)},
          {"etag", device_etag(device)},
          {"connectionState", presence.connected ? "Connected" : "Disconnected"},
          {"status", device.enabled ? "enabled" : "disabled"},
          {"statusReason", nullptr},
          {"connectionStateUpdatedTime", seen},
          {"statusUpdatedTime", azure_time(0)},
          {"lastActivityTime", seen},
          {"cloudToDeviceMessageCount", 0},
          {"authentication", authentication},
          {"capabilities", {{"iotEdge", false}}}};
}

}  // namespace allscene::api
