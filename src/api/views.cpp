#include "api/views.hpp"

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

}  // namespace allscene::api
