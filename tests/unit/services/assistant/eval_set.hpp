// The labelled evaluation set (tests/data/assistant) as the tests read it.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "services/assistant/parser.hpp"

namespace allscene::services::assistant::testing {

struct Example {
  std::string text;
  std::string intent;
  nlohmann::json slots;
  std::string split;
  bool closed = false;
};

// devices.json: the owner's devices, the calling device, the clock and
// the time zone the labels assume.
ParseContext eval_context();
// "2026-11-24T15:00:00+01:00" → a time point.
std::chrono::system_clock::time_point parse_iso(const std::string& iso);
std::vector<Example> eval_examples();

}  // namespace allscene::services::assistant::testing
