#include "services/travel/times.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <charconv>
#include <regex>
#include <stdexcept>

namespace allscene::services::travel {
namespace {

const date::time_zone* zone_or_null(std::string_view zone) {
  if (zone.empty()) return nullptr;
  try {
    return date::locate_zone(zone);
  } catch (const std::runtime_error&) {
    return nullptr;
  }
}

int to_int(const std::string& digits) {
  int value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

struct ParsedLocal {
  date::local_seconds local;
  std::optional<std::chrono::seconds> offset;  // when the text had one
  bool has_seconds = false;
};

std::optional<ParsedLocal> parse_local(std::string_view text) {
  static const std::regex pattern(
      R"(^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(text.begin(), text.end(), m, pattern)) return std::nullopt;
  const date::year_month_day day{date::year{to_int(m[1])}, date::month(to_int(m[2])),
                                 date::day(to_int(m[3]))};
  const int hours = to_int(m[4]), minutes = to_int(m[5]);
  const int seconds = m[6].matched ? to_int(m[6]) : 0;
  if (!day.ok() || hours > 23 || minutes > 59 || seconds > 59) return std::nullopt;
  ParsedLocal parsed;
  parsed.local = date::local_days{day} + std::chrono::hours(hours) + std::chrono::minutes(minutes) +
                 std::chrono::seconds(seconds);
  parsed.has_seconds = seconds != 0;
  if (m[7].matched) {
    const std::string offset = m[7];
    if (offset == "Z") {
      parsed.offset = std::chrono::seconds(0);
    } else {
      const int sign = offset[0] == '-' ? -1 : 1;
      const int oh = to_int(offset.substr(1, 2));
      const int om = to_int(offset.substr(offset.size() - 2));
      parsed.offset = std::chrono::seconds(sign * (oh * 3600 + om * 60));
    }
  }
  return parsed;
}

std::string format_local(date::local_seconds local, bool with_seconds) {
  return date::format(with_seconds ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%dT%H:%M", local);
}

}  // namespace

bool is_known_zone(std::string_view zone) { return zone_or_null(zone) != nullptr; }

MomentOrError moment_in_zone(std::string_view local, std::string_view zone) {
  const auto* tz = zone_or_null(zone);
  if (!tz) return {std::nullopt, "'" + std::string(zone) + "' is not an IANA time zone"};
  const auto parsed = parse_local(local);
  if (!parsed) {
    return {std::nullopt, "'" + std::string(local) + "' is not a local time like 2026-03-29T01:30"};
  }
  const auto info = tz->get_info(parsed->local);
  if (info.result == date::local_info::nonexistent) {
    return {std::nullopt, "'" + std::string(local) + "' does not exist in " + std::string(zone) +
                              " (the clocks skip that hour)"};
  }
  auto offset = info.first.offset;
  if (parsed->offset) {
    if (*parsed->offset == info.first.offset) {
      offset = info.first.offset;
    } else if (info.result == date::local_info::ambiguous &&
               *parsed->offset == info.second.offset) {
      offset = info.second.offset;
    } else {
      return {std::nullopt, "the UTC offset in '" + std::string(local) + "' is not one " +
                                std::string(zone) + " has at that time"};
    }
  }
  Moment moment;
  moment.local = format_local(parsed->local, parsed->has_seconds);
  moment.zone = std::string(zone);
  moment.utc = Instant{parsed->local.time_since_epoch() - offset};
  return {std::move(moment), {}};
}

std::optional<Instant> parse_instant(std::string_view text) {
  const auto parsed = parse_local(text);
  if (!parsed || !parsed->offset) return std::nullopt;
  return Instant{parsed->local.time_since_epoch() - *parsed->offset};
}

std::string format_iso(Instant t, std::string_view zone) {
  const auto* tz = zone_or_null(zone);
  if (!tz) return date::format("%Y-%m-%dT%H:%M:%SZ", t);
  return date::format("%Y-%m-%dT%H:%M%Ez", date::zoned_time<std::chrono::seconds>(tz, t));
}

std::string format_human(Instant t, std::string_view zone) {
  const auto* tz = zone_or_null(zone);
  if (!tz) return date::format("%a %d %b %Y %H:%M UTC", t);
  return date::format("%a %d %b %Y %H:%M %Z", date::zoned_time<std::chrono::seconds>(tz, t));
}

std::string local_date(Instant t, std::string_view zone) {
  const auto* tz = zone_or_null(zone);
  if (!tz) return date::format("%Y-%m-%d", t);
  return date::format("%Y-%m-%d", date::zoned_time<std::chrono::seconds>(tz, t));
}

std::optional<std::pair<Instant, Instant>> local_day(std::string_view day, std::string_view zone) {
  const auto* tz = zone_or_null(zone);
  const auto parsed = parse_local(std::string(day) + "T00:00");
  if (!tz || !parsed) return std::nullopt;
  const auto start = tz->to_sys(parsed->local, date::choose::earliest);
  const auto end = tz->to_sys(parsed->local + date::days(1), date::choose::earliest);
  return std::pair{Instant{start}, Instant{end}};
}

std::string format_duration(std::chrono::seconds d) {
  const bool negative = d.count() < 0;
  auto left = negative ? -d : d;
  const auto days = std::chrono::duration_cast<date::days>(left);
  left -= days;
  const auto hours = std::chrono::duration_cast<std::chrono::hours>(left);
  left -= hours;
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(left);
  std::string text;
  if (days.count() > 0)
    text += std::to_string(days.count()) + (days.count() == 1 ? " day " : " days ");
  if (hours.count() > 0 || days.count() > 0) text += std::to_string(hours.count()) + " h ";
  text += std::to_string(minutes.count()) + " min";
  return negative ? text + " ago" : text;
}

}  // namespace allscene::services::travel
