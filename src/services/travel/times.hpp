// Wall-clock times in IANA zones (Howard Hinnant's date/tz over the
// system tz database, /usr/share/zoneinfo).
//
// A Moment is a local time as the traveller reads it on a ticket, the zone
// it is read in, and the instant it names. Local times that do not exist
// (inside a spring-forward gap) are refused; ambiguous ones (the repeated
// hour in autumn) mean the earlier instant unless the text carries a UTC
// offset that picks the later one.
//
// Threading: pure functions; the tz database is loaded once, thread-safely.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace allscene::services::travel {

using Instant = std::chrono::sys_seconds;

struct Moment {
  std::string local;  // "2026-03-29T01:30" (minutes; seconds only if not 0)
  std::string zone;   // "Europe/Paris"
  Instant utc{};
};

// Either a Moment or why there is none (for a 400 message).
struct MomentOrError {
  std::optional<Moment> moment;
  std::string error;
};

// Whether `zone` names an IANA zone the tz database holds.
bool is_known_zone(std::string_view zone);

// "YYYY-MM-DDTHH:MM[:SS][±HH:MM|Z]" read in `zone`. An offset, if present,
// must be one the zone has at that local time.
MomentOrError moment_in_zone(std::string_view local, std::string_view zone);

// An ISO 8601 instant that carries its offset ("…+01:00" or "…Z").
std::optional<Instant> parse_instant(std::string_view text);

// `t` in `zone`: "2026-03-29T03:30+02:00".
std::string format_iso(Instant t, std::string_view zone);
// `t` in `zone` for people: "Sun 29 Mar 2026 03:30 CEST".
std::string format_human(Instant t, std::string_view zone);
// The calendar date "YYYY-MM-DD" of `t` in `zone`.
std::string local_date(Instant t, std::string_view zone);
// [start, end) of the local calendar day `date` ("YYYY-MM-DD") in `zone`.
std::optional<std::pair<Instant, Instant>> local_day(std::string_view date, std::string_view zone);
// "3 h 20 min", "2 days 4 h": a duration for people.
std::string format_duration(std::chrono::seconds d);

}  // namespace allscene::services::travel
