// The probe's output: one JSON line per result or callback (sdk_probe.cpp).
#pragma once

#include <nlohmann/json.hpp>
#include <system_error>

namespace probe {

// Writes `line` as one line on stdout (any thread).
void emit(const nlohmann::json& line);
// `line` with "code" (the error's name, "" for none) and "error" (its message).
nlohmann::json with_error(nlohmann::json line, std::error_code ec);

}  // namespace probe
