// Users and devices of the registry and their persisted JSON documents.
//
// Error style of this layer: operations a user or operator asks for (adding
// a device, reading a document) throw RegistryError with a message that says
// what to do; storage failures propagate as std::runtime_error. The
// authenticator (access.hpp) never throws on the connect or publish path.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace allscene::registry {

enum class DeviceClass { phone, laptop, tablet, smart_screen, wearable, audio, car, iot };
std::string_view to_string(DeviceClass device_class);  // "smart-screen" etc.
std::optional<DeviceClass> parse_device_class(std::string_view text);

struct User {
  std::string id;
  std::string display_name;
  std::int64_t created_ms = 0;  // wall ms
};

struct Device {
  std::string id, owner, display_name;
  DeviceClass device_class = DeviceClass::iot;
  std::map<std::string, std::string> tags;
  bool enabled = true;
  std::int64_t created_ms = 0;  // wall ms
  std::int64_t last_seen_ms = 0;
  std::string primary_key,
      secondary_key;          // base64 32-byte symmetric keys for SAS tokens; empty: none
  std::string password_hash;  // libsodium crypto_pwhash_str (Argon2id) output; empty: none
  std::vector<std::string> thumbprints;  // SHA-256 of DER, 64 upper-case hex digits
  bool ca_signed =
      false;  // accept a client certificate that chains to the listener CA and has CN == id
  // An edge hub bridged to this one signs in as this device: it may publish
  // its owner's hub-kept topics (device cards, relayed group calls) for the
  // devices it hosts.
  bool gateway = false;
};

class RegistryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// JSON documents, as persisted. The *_from_json functions throw RegistryError
// on a document that is not one (wrong types, invalid id, unknown class,
// malformed thumbprint); unknown fields are ignored.
nlohmann::json to_json(const User& user);
nlohmann::json to_json(const Device& device);
User user_from_json(const nlohmann::json& json);
Device device_from_json(const nlohmann::json& json);

// Azure device id rules, also used for user ids: 1-128 characters of
// [A-Za-z0-9] and - . : + % _ # * ? ! ( ) , = @ $ '
bool valid_id(std::string_view id);

// 64 upper-case hex digits.
bool valid_thumbprint(std::string_view thumbprint);
// Strips ':' and spaces and upper-cases; nullopt unless the result is valid.
std::optional<std::string> normalise_thumbprint(std::string_view text);

}  // namespace allscene::registry
