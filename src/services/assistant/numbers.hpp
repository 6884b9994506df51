// Numbers as users say them: digits ("30", "30%") and English words
// ("thirty", "thirty five", "twenty-five", "a hundred"). Pure; thread-safe.
#pragma once

#include <cstddef>
#include <optional>

#include "services/assistant/text.hpp"

namespace allscene::services::assistant {

struct NumberMatch {
  int value = 0;
  std::size_t length = 0;  // tokens it spans
};

// The number that starts at token `at`, if one does (0..999999).
std::optional<NumberMatch> number_at(const Tokens& tokens, std::size_t at);

}  // namespace allscene::services::assistant
