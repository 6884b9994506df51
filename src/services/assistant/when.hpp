// Time expressions of reminders ("at 7 pm", "in 10 minutes", "tomorrow at
// 8", "on Friday at 10 am", "this evening") resolved against a clock and
// an IANA time zone. Pure; thread-safe.
//
// Rules: a time of day without a day is its next occurrence ("at 9" at
// 15:00 is 21:00 today; "at 8 am" then is tomorrow); with a day, an hour
// without am/pm is read 7–11 am, 12 noon, 1–6 pm; "tonight", "evening",
// "afternoon" make it pm. A part of the day alone: morning 09:00,
// afternoon 15:00, evening 19:00, tonight/night 21:00; a day alone 09:00.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "services/assistant/text.hpp"

namespace date {
class time_zone;
}

namespace allscene::services::assistant {

struct TimeMatch {
  std::chrono::system_clock::time_point at;
  std::string iso;         // ISO 8601 with the zone's offset: 2026-11-24T19:00:00+01:00
  std::vector<bool> used;  // per token: part of the time expression
};

// The time expression among `tokens`, if there is one.
std::optional<TimeMatch> find_time(const Tokens& tokens, std::chrono::system_clock::time_point now,
                                   const date::time_zone& zone);

// `at` in `zone` as ISO 8601 with offset, to the second.
std::string iso_in_zone(std::chrono::system_clock::time_point at, const date::time_zone& zone);

}  // namespace allscene::services::assistant
