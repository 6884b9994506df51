#include "services/assistant/when.hpp"

#include <date/tz.h>

#include <array>
#include <charconv>
#include <string_view>

#include "services/assistant/numbers.hpp"

namespace allscene::services::assistant {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

enum class Part { none, morning, afternoon, evening, night };
enum class Day { none, today, tomorrow, weekday };
enum class Meridiem { none, am, pm };

struct Clock {
  int hour = 0;
  int minute = 0;
  Meridiem meridiem = Meridiem::none;
  bool twenty_four = false;  // "18:15", "08:00": no am/pm guessing
};

// Everything the scan found; resolved afterwards.
struct Parts {
  std::optional<minutes> relative;
  std::optional<Clock> clock;
  Day day = Day::none;
  unsigned weekday = 0;  // 0 = Sunday
  Part part = Part::none;
  std::vector<bool> used;
};

constexpr std::array<std::string_view, 7> kWeekdays = {"sunday",   "monday", "tuesday", "wednesday",
                                                       "thursday", "friday", "saturday"};

std::optional<unsigned> weekday_of(std::string_view w) {
  for (unsigned i = 0; i < kWeekdays.size(); ++i) {
    if (kWeekdays[i] == w) return i;
  }
  return std::nullopt;
}

Part part_of(std::string_view w) {
  if (w == "morning") return Part::morning;
  if (w == "afternoon") return Part::afternoon;
  if (w == "evening") return Part::evening;
  if (w == "night") return Part::night;
  return Part::none;
}

Meridiem meridiem_of(std::string_view w) {
  if (w == "am" || w == "a.m" || w == "a.m.") return Meridiem::am;
  if (w == "pm" || w == "p.m" || w == "p.m.") return Meridiem::pm;
  return Meridiem::none;
}

std::optional<int> small_int(std::string_view s) {
  int v = 0;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (error != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "7", "7pm", "7:30", "7:30pm", "18:15" as one token.
std::optional<Clock> clock_token(std::string_view w) {
  Clock c;
  for (const std::string_view suffix : {"am", "pm"}) {
    if (w.size() > 2 && w.ends_with(suffix)) {
      c.meridiem = meridiem_of(suffix);
      w.remove_suffix(2);
    }
  }
  const auto colon = w.find(':');
  const auto hour = small_int(w.substr(0, colon));
  if (!hour) return std::nullopt;
  c.hour = *hour;
  if (colon != std::string_view::npos) {
    const auto minute = small_int(w.substr(colon + 1));
    if (!minute || w.size() - colon != 3 || *minute > 59) return std::nullopt;
    c.minute = *minute;
    c.twenty_four = c.meridiem == Meridiem::none && (c.hour > 12 || w.starts_with('0'));
  }
  const int limit = c.meridiem == Meridiem::none ? 23 : 12;
  if (c.hour > limit || (c.meridiem != Meridiem::none && c.hour == 0)) return std::nullopt;
  return c;
}

// A clock time starting at token `i` ("7 pm", "seven", "6:30", "noon");
// marks what it used.
std::optional<Clock> clock_at(const Tokens& t, std::size_t i, std::vector<bool>& used) {
  if (i >= t.size()) return std::nullopt;
  if (t[i].word == "noon" || t[i].word == "midday") {
    used[i] = true;
    return Clock{12, 0, Meridiem::none, true};
  }
  if (t[i].word == "midnight") {
    used[i] = true;
    return Clock{0, 0, Meridiem::none, true};
  }
  std::optional<Clock> c = clock_token(t[i].word);
  std::size_t length = 1;
  if (!c) {
    const auto n = number_at(t, i);
    if (!n || n->value < 1 || n->value > 12) return std::nullopt;
    c = Clock{n->value, 0, Meridiem::none, false};
    length = n->length;
  }
  for (std::size_t k = i; k < i + length; ++k) used[k] = true;
  std::size_t next = i + length;
  if (next < t.size() && (t[next].word == "o'clock" || t[next].word == "oclock")) {
    used[next++] = true;
  }
  if (next < t.size() && c->meridiem == Meridiem::none && !c->twenty_four) {
    if (const auto m = meridiem_of(t[next].word); m != Meridiem::none) {
      if (c->hour < 1 || c->hour > 12) {  // "13 pm" is no time
        for (std::size_t k = i; k < next; ++k) used[k] = false;
        return std::nullopt;
      }
      c->meridiem = m;
      used[next] = true;
    }
  }
  return c;
}

// "in 10 minutes", "in an hour", "in half an hour", "in two hours".
std::optional<minutes> relative_at(const Tokens& t, std::size_t i, std::vector<bool>& used) {
  std::size_t k = i + 1;
  int count = 0;
  int unit_scale = 1;
  if (phrase_at(t, k, "half an hour")) {
    for (std::size_t j = i; j < k + 3; ++j) used[j] = true;
    return minutes(30);
  }
  if (k < t.size() && (t[k].word == "an" || t[k].word == "a")) {
    count = 1;
    ++k;
  } else if (const auto n = number_at(t, k)) {
    count = n->value;
    k += n->length;
  } else {
    return std::nullopt;
  }
  if (k >= t.size()) return std::nullopt;
  const std::string& unit = t[k].word;
  if (unit == "hour" || unit == "hours") {
    unit_scale = 60;
  } else if (unit != "minute" && unit != "minutes" && unit != "min" && unit != "mins") {
    return std::nullopt;
  }
  for (std::size_t j = i; j <= k; ++j) used[j] = true;
  return minutes(count * unit_scale);
}

void scan_word(const Tokens& t, std::size_t i, Parts& p) {
  const std::string& w = t[i].word;
  const bool next_exists = i + 1 < t.size();
  if (w == "in" && next_exists) {
    if (auto r = relative_at(t, i, p.used)) {
      p.relative = r;
    } else if (i + 2 < t.size() && t[i + 1].word == "the" && part_of(t[i + 2].word) != Part::none) {
      p.part = part_of(t[i + 2].word);
      p.used[i] = p.used[i + 1] = p.used[i + 2] = true;
    }
  } else if ((w == "at" || w == "for" || w == "by") && next_exists && !p.clock) {
    if (auto c = clock_at(t, i + 1, p.used)) {
      p.clock = c;
      p.used[i] = true;
    } else if (w == "for" && (t[i + 1].word == "tomorrow" || t[i + 1].word == "today")) {
      p.used[i] = true;
    }
  } else if (w == "tomorrow" || w == "today" || w == "tonight") {
    p.day = w == "tomorrow" ? Day::tomorrow : Day::today;
    if (w == "tonight") p.part = Part::night;
    p.used[i] = true;
    if (next_exists && part_of(t[i + 1].word) != Part::none) {
      p.part = part_of(t[i + 1].word);
      p.used[i + 1] = true;
    }
  } else if (w == "this" && next_exists && part_of(t[i + 1].word) != Part::none) {
    p.day = Day::today;
    p.part = part_of(t[i + 1].word);
    p.used[i] = p.used[i + 1] = true;
  } else if (const auto wd = weekday_of(w)) {
    p.day = Day::weekday;
    p.weekday = *wd;
    p.used[i] = true;
    if (i > 0 && t[i - 1].word == "on") p.used[i - 1] = true;
  } else if (!p.clock && !p.used[i] &&
             (w.find(':') != std::string::npos || w.ends_with("pm") || w.ends_with("am"))) {
    if (auto c = clock_token(w)) {
      p.clock = c;
      p.used[i] = true;
    }
  }
}

// The hour on a 24-hour clock, guessing am/pm by the rules in the header.
int hour_of_day(const Clock& c, const Parts& p) {
  int h = c.hour;
  if (c.meridiem == Meridiem::pm && h < 12) return h + 12;
  if (c.meridiem == Meridiem::am) return h == 12 ? 0 : h;
  if (c.twenty_four || c.meridiem != Meridiem::none) return h;
  if (p.part == Part::evening || p.part == Part::night || p.part == Part::afternoon) {
    return h < 12 ? h + 12 : h;
  }
  if (p.part == Part::morning) return h == 12 ? 0 : h;
  if (p.day != Day::none && h >= 1 && h <= 6) return h + 12;
  return h;
}

minutes default_time_of_day(Part part) {
  switch (part) {
    case Part::afternoon:
      return hours(15);
    case Part::evening:
      return hours(19);
    case Part::night:
      return hours(21);
    default:
      return hours(9);
  }
}

std::chrono::system_clock::time_point resolve(const Parts& p,
                                              std::chrono::system_clock::time_point now,
                                              const date::time_zone& zone) {
  const auto local_now = zone.to_local(now);
  const auto today = date::floor<days>(local_now);
  const auto at = [&](days day, minutes time_of_day) {
    return zone.to_sys(today + day + time_of_day, date::choose::earliest);
  };
  minutes time_of_day = default_time_of_day(p.part);
  // An hour without am/pm and without a day: whichever of h and h+12 comes first.
  const bool open_hour = p.clock && p.day == Day::none && p.part == Part::none &&
                         p.clock->meridiem == Meridiem::none && !p.clock->twenty_four &&
                         p.clock->hour < 12;
  if (p.clock) time_of_day = hours(hour_of_day(*p.clock, p)) + minutes(p.clock->minute);
  switch (p.day) {
    case Day::tomorrow:
      return at(days(1), time_of_day);
    case Day::weekday: {
      const auto today_weekday = date::weekday(date::floor<days>(local_now)).c_encoding();
      int ahead = static_cast<int>((p.weekday + 7 - today_weekday) % 7);
      if (ahead == 0 && at(days(0), time_of_day) <= now) ahead = 7;
      return at(days(ahead), time_of_day);
    }
    default:
      break;
  }
  for (int day = 0; day <= 1; ++day) {
    if (auto t = at(days(day), time_of_day); t > now) return t;
    if (open_hour) {
      if (auto t = at(days(day), time_of_day + hours(12)); t > now) return t;
    }
  }
  return at(days(1), time_of_day);
}

}  // namespace

std::string iso_in_zone(std::chrono::system_clock::time_point at, const date::time_zone& zone) {
  const auto seconds = date::floor<std::chrono::seconds>(at);
  return date::format("%FT%T%Ez", date::make_zoned(&zone, seconds));
}

std::optional<TimeMatch> find_time(const Tokens& tokens, std::chrono::system_clock::time_point now,
                                   const date::time_zone& zone) {
  Parts p;
  p.used.assign(tokens.size(), false);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (!p.used[i]) scan_word(tokens, i, p);
  }
  std::chrono::system_clock::time_point at;
  if (p.relative) {
    at = now + *p.relative;
  } else if (p.clock || p.day != Day::none || p.part != Part::none) {
    at = resolve(p, now, zone);
  } else {
    return std::nullopt;
  }
  return TimeMatch{at, iso_in_zone(at, zone), std::move(p.used)};
}

}  // namespace allscene::services::assistant
