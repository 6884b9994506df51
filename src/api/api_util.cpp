#include "api/api_util.hpp"

namespace allscene::api::detail {

using nlohmann::json;

namespace {

// Azure's name for an error code, as its Message field carries it.
std::string_view azure_code_name(int code) {
  switch (code) {
    case 400004:
      return "ArgumentInvalid";
    case 401002:
      return "IotHubUnauthorizedAccess";
    case 404001:
      return "DeviceNotFound";
    case 404103:
      return "DeviceNotOnline";
    case 409001:
      return "DeviceAlreadyExists";
    case 412002:
      return "PreconditionFailed";
    case 413001:
      return "RequestEntityTooLarge";
    case 504101:
      return "GatewayTimeout";
    default:
      return "ServerError";
  }
}

}  // namespace

Response error_response(unsigned status, const std::string& message, int azure_code) {
  json body{{"error", message}};
  if (azure_code != 0) {
    body["errorCode"] = azure_code;
    body["Message"] = fmt::format("ErrorCode:{};{}", azure_code_name(azure_code), message);
    body["ExceptionMessage"] = "";
  }
  return json_response(status, body);
}

void allow(const Request& request, std::initializer_list<std::string_view> methods) {
  if (std::find(methods.begin(), methods.end(), request.method) != methods.end()) return;
  std::string list;
  for (const auto k : methods) list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
  fail(405, fmt::format("{} is not allowed on {}; use {}", request.method, request.target, list));
}

int azure_code_for(unsigned status) {
  switch (status) {
    case 400:
      return 400004;
    case 401:
      return 401002;
    case 404:
      return 404001;
    case 409:
      return 409001;
    case 412:
      return 412002;
    case 413:
      return 413001;
    case 504:
      return 504101;
    default:
      return 500001;
  }
}

json parse_object(const std::string& body, std::initializer_list<std::string_view> known) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    fail(400, "the body must be a JSON object (Content-Type: application/json)");
  }
  if (known.size() == 0) return j;
  for (const auto& [key, value] : j.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const auto k : known) list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
      fail(400, fmt::format("unknown field \"{}\"; this request takes {}", key, list));
    }
  }
  return j;
}

std::string string_field(const json& j, const char* key, bool required) {
  const auto it = j.find(key);
  if (it == j.end()) {
    if (required) fail(400, fmt::format("\"{}\" is missing; give it as a string", key));
    return {};
  }
  if (!it->is_string()) fail(400, fmt::format("\"{}\" must be a string", key));
  return it->get<std::string>();
}

bool bool_field(const json& j, const char* key, bool required) {
  const auto it = j.find(key);
  if (it == j.end()) {
    if (required) fail(400, fmt::format("\"{}\" is missing; give it as true or false", key));
    return false;
  }
  if (!it->is_boolean()) fail(400, fmt::format("\"{}\" must be true or false", key));
  return it->get<bool>();
}

}  // namespace allscene::api::detail
