#include "registry/model.hpp"

#include <array>
#include <type_traits>
#include <utility>

namespace allscene::registry {

namespace {

constexpr std::array<std::pair<DeviceClass, std::string_view>, 8> kClassNames{{
    {DeviceClass::phone, "phone"},
    {DeviceClass::laptop, "laptop"},
    {DeviceClass::tablet, "tablet"},
    {DeviceClass::smart_screen, "smart-screen"},
    {DeviceClass::wearable, "wearable"},
    {DeviceClass::audio, "audio"},
    {DeviceClass::car, "car"},
    {DeviceClass::iot, "iot"},
}};

constexpr std::string_view kIdPunctuation = "-.:+%_#*?!(),=@$'";
constexpr std::size_t kMaxIdLength = 128;

std::string document_name(const nlohmann::json& json) {
  if (json.is_object()) {
    const auto id = json.find("id");
    if (id != json.end() && id->is_string()) return "\"" + id->get<std::string>() + "\"";
  }
  return "(no id)";
}

// Reads an optional field of the expected JSON type; throws RegistryError
// naming the document and field when the type is wrong.
template <typename T>
T field(const nlohmann::json& json, const char* name, std::string_view kind, T fallback) {
  const auto it = json.find(name);
  if (it == json.end() || it->is_null()) return fallback;
  const auto wrong_type = [&] {
    return RegistryError(std::string(kind) + " " + document_name(json) + ": field \"" + name +
                         "\" has the wrong type; fix or remove the document");
  };
  // nlohmann converts between number kinds; a time must be an integer.
  if constexpr (std::is_same_v<T, std::int64_t>) {
    if (!it->is_number_integer()) throw wrong_type();
  }
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw wrong_type();
  }
}

void require_object(const nlohmann::json& json, std::string_view kind) {
  if (!json.is_object()) {
    throw RegistryError(std::string(kind) + " document is not a JSON object; fix or remove it");
  }
}

std::string required_id(const nlohmann::json& json, const char* name, std::string_view kind) {
  const std::string id = field<std::string>(json, name, kind, "");
  if (!valid_id(id)) {
    throw RegistryError(std::string(kind) + " " + document_name(json) + ": \"" + name +
                        "\" is missing or not a valid id; fix or remove the document");
  }
  return id;
}

}  // namespace

std::string_view to_string(DeviceClass device_class) {
  for (const auto& [value, name] : kClassNames) {
    if (value == device_class) return name;
  }
  return "iot";
}

std::optional<DeviceClass> parse_device_class(std::string_view text) {
  for (const auto& [value, name] : kClassNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (const char c : id) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && kIdPunctuation.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool valid_thumbprint(std::string_view thumbprint) {
  if (thumbprint.size() != 64) return false;
  for (const char c : thumbprint) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

std::optional<std::string> normalise_thumbprint(std::string_view text) {
  std::string out;
  out.reserve(64);
  for (const char c : text) {
    if (c == ':' || c == ' ') continue;
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  if (!valid_thumbprint(out)) return std::nullopt;
  return out;
}

nlohmann::json to_json(const User& user) {
  return nlohmann::json{
      {"id", user.id}, {"display_name", user.display_name}, {"created_ms", user.created_ms}};
}

nlohmann::json to_json(const Device& device) {
  return nlohmann::json{
      {"id", device.id},
      {"owner", device.owner},
      {"display_name", device.display_name},
      {"class", std::string(to_string(device.device_class))},
      {"tags", device.tags},
      {"enabled", device.enabled},
      {"created_ms", device.created_ms},
      {"last_seen_ms", device.last_seen_ms},
      {"primary_key", device.primary_key},
      {"secondary_key", device.secondary_key},
      {"password_hash", device.password_hash},
      {"thumbprints", device.thumbprints},
      {"ca_signed", device.ca_signed},
      {"gateway", device.gateway},
  };
}

User user_from_json(const nlohmann::json& json) {
  constexpr std::string_view kind = "user";
  require_object(json, kind);
  User user;
  user.id = required_id(json, "id", kind);
  user.display_name = field<std::string>(json, "display_name", kind, "");
  user.created_ms = field<std::int64_t>(json, "created_ms", kind, 0);
  return user;
}

Device device_from_json(const nlohmann::json& json) {
  constexpr std::string_view kind = "device";
  require_object(json, kind);
  Device device;
  device.id = required_id(json, "id", kind);
  device.owner = required_id(json, "owner", kind);
  device.display_name = field<std::string>(json, "display_name", kind, "");
  const std::string class_name = field<std::string>(json, "class", kind, "iot");
  const auto device_class = parse_device_class(class_name);
  if (!device_class) {
    throw RegistryError("device " + document_name(json) + ": unknown class \"" + class_name +
                        "\"; use phone, laptop, tablet, smart-screen, wearable, audio, car or iot");
  }
  device.device_class = *device_class;
  device.tags = field<std::map<std::string, std::string>>(json, "tags", kind, {});
  device.enabled = field<bool>(json, "enabled", kind, true);
  device.created_ms = field<std::int64_t>(json, "created_ms", kind, 0);
  device.last_seen_ms = field<std::int64_t>(json, "last_seen_ms", kind, 0);
  device.primary_key = field<std::string>(json, "primary_key", kind, "");
  device.secondary_key = field<std::string>(json, "secondary_key", kind, "");
  device.password_hash = field<std::string>(json, "password_hash", kind, "");
  device.thumbprints = field<std::vector<std::string>>(json, "thumbprints", kind, {});
  for (const auto& thumbprint : device.thumbprints) {
    if (!valid_thumbprint(thumbprint)) {
      throw RegistryError("device " + document_name(json) + ": thumbprint \"" + thumbprint +
                          "\" is not 64 upper-case hex digits; fix or remove it");
    }
  }
  device.ca_signed = field<bool>(json, "ca_signed", kind, false);
  device.gateway = field<bool>(json, "gateway", kind, false);
  return device;
}

}  // namespace allscene::registry
