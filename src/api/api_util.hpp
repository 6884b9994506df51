// Internal to src/api: how handlers refuse a request and read JSON bodies.
// A handler throws ApiError (through fail()); AdminApi turns it into a
// Response with {"error": message} and, for the Azure paths, Azure's
// numeric error code.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/admin_api.hpp"

namespace allscene::api::detail {

struct ApiError {
  unsigned status;
  std::string message;
  int azure_code = 0;  // Azure's errorCode (404001 …); 0: none
};

[[noreturn]] inline void fail(unsigned status, std::string message, int azure_code = 0) {
  throw ApiError{status, std::move(message), azure_code};
}

inline Response json_response(unsigned status, const nlohmann::json& body) {
  return {status, body.dump(), "application/json", {}};
}

// {"error": message}, plus Azure's errorCode and Message when `azure_code`.
Response error_response(unsigned status, const std::string& message, int azure_code = 0);

// The body as a JSON object; with `known` non-empty, only those keys.
nlohmann::json parse_object(const std::string& body,
                            std::initializer_list<std::string_view> known = {});

// Refuses the request with 405 unless its method is one of `methods`.
void allow(const Request& request, std::initializer_list<std::string_view> methods);

// Azure's errorCode for a refusal with `status` (400004, 404001, …).
int azure_code_for(unsigned status);

std::string string_field(const nlohmann::json& j, const char* key, bool required);
bool bool_field(const nlohmann::json& j, const char* key, bool required);

}  // namespace allscene::api::detail
