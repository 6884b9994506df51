#include "services/assistant/numbers.hpp"

#include <array>
#include <charconv>
#include <string>
#include <string_view>

namespace allscene::services::assistant {

namespace {

constexpr std::array<std::string_view, 20> kUnits = {
    "zero",     "one",     "two",     "three",     "four",     "five",    "six",
    "seven",    "eight",   "nine",    "ten",       "eleven",   "twelve",  "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<std::string_view, 8> kTens = {"twenty", "thirty",  "forty",  "fifty",
                                                   "sixty",  "seventy", "eighty", "ninety"};

std::optional<int> unit_value(std::string_view w) {
  for (std::size_t i = 0; i < kUnits.size(); ++i) {
    if (kUnits[i] == w) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::optional<int> tens_value(std::string_view w) {
  for (std::size_t i = 0; i < kTens.size(); ++i) {
    if (kTens[i] == w) return static_cast<int>(20 + 10 * i);
  }
  return std::nullopt;
}

std::optional<int> digits_value(std::string_view w) {
  if (w.ends_with('%')) w.remove_suffix(1);
  if (w.empty() || w.size() > 6) return std::nullopt;
  int value = 0;
  const auto [end, error] = std::from_chars(w.data(), w.data() + w.size(), value);
  if (error != std::errc{} || end != w.data() + w.size()) return std::nullopt;
  return value;
}

// "twenty", "twenty five", "twenty-five", "seven": a number below 100.
std::optional<NumberMatch> below_hundred(const Tokens& tokens, std::size_t at) {
  if (at >= tokens.size()) return std::nullopt;
  const std::string& w = tokens[at].word;
  if (const auto dash = w.find('-'); dash != std::string::npos) {
    const auto tens = tens_value(std::string_view(w).substr(0, dash));
    const auto unit = unit_value(std::string_view(w).substr(dash + 1));
    if (tens && unit && *unit > 0 && *unit < 10) return NumberMatch{*tens + *unit, 1};
    return std::nullopt;
  }
  if (const auto unit = unit_value(w)) return NumberMatch{*unit, 1};
  const auto tens = tens_value(w);
  if (!tens) return std::nullopt;
  if (at + 1 < tokens.size()) {
    const auto unit = unit_value(tokens[at + 1].word);
    if (unit && *unit > 0 && *unit < 10) return NumberMatch{*tens + *unit, 2};
  }
  return NumberMatch{*tens, 1};
}

}  // namespace

std::optional<NumberMatch> number_at(const Tokens& tokens, std::size_t at) {
  if (at >= tokens.size()) return std::nullopt;
  if (const auto digits = digits_value(tokens[at].word)) return NumberMatch{*digits, 1};
  std::size_t i = at;
  int hundreds = 0;
  if ((tokens[i].word == "a" || tokens[i].word == "one") && i + 1 < tokens.size() &&
      tokens[i + 1].word == "hundred") {
    hundreds = 100;
    i += 2;
  } else if (tokens[i].word == "hundred") {
    hundreds = 100;
    i += 1;
  }
  if (hundreds > 0) {
    std::size_t after = i;
    if (after < tokens.size() && tokens[after].word == "and") ++after;
    if (const auto rest = below_hundred(tokens, after); rest && rest->value > 0) {
      return NumberMatch{hundreds + rest->value, after + rest->length - at};
    }
    return NumberMatch{hundreds, i - at};
  }
  return below_hundred(tokens, at);
}

}  // namespace allscene::services::assistant
