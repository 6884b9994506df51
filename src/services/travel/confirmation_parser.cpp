#include "services/travel/confirmation_parser.hpp"

#include <fmt/format.h>

#include <optional>
#include <regex>

#include "services/travel/places.hpp"

namespace allscene::services::travel {
namespace {

using nlohmann::json;

constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"};

constexpr std::size_t kMaxLineLength = 1000;

struct Line {
  std::string text;
};

// A date or a time found in a block, in order of appearance.
struct Token {
  std::size_t line = 0;
  std::string date;   // "2026-03-29" for dates
  std::string time;   // "03:15" for times
  int plus_days = 0;  // "+1" after a time
};

int month_number(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < 12; ++i) {
    if (name.starts_with(kMonths[i])) return i + 1;
  }
  return 0;
}

std::string iso_date(int year, int month, int day) {
  return fmt::format("{:04}-{:02}-{:02}", year, month, day);
}

std::optional<Token> date_token(const std::smatch& m) {
  Token t;
  if (m[1].matched) {  // 29 March 2026
    t.date = iso_date(std::stoi(m[3]), month_number(m[2]), std::stoi(m[1]));
  } else if (m[4].matched) {  // Oct 26, 2026
    t.date = iso_date(std::stoi(m[6]), month_number(m[4]), std::stoi(m[5]));
  } else if (m[7].matched) {  // 2026-07-03
    t.date = iso_date(std::stoi(m[7]), std::stoi(m[8]), std::stoi(m[9]));
  } else if (m[10].matched) {  // 06.06.2026
    t.date = iso_date(std::stoi(m[12]), std::stoi(m[11]), std::stoi(m[10]));
  } else {
    return std::nullopt;
  }
  return t;
}

std::optional<Token> time_token(const std::smatch& m) {
  if (!m[13].matched) return std::nullopt;
  int hours = std::stoi(m[13]);
  const int minutes = std::stoi(m[14]);
  if (m[15].matched) {  // AM / PM
    const bool pm = m[15].str()[0] == 'P' || m[15].str()[0] == 'p';
    if (hours < 1 || hours > 12) return std::nullopt;
    hours = hours % 12 + (pm ? 12 : 0);
  }
  if (hours > 23 || minutes > 59) return std::nullopt;
  Token t;
  t.time = fmt::format("{:02}:{:02}", hours, minutes);
  if (m[16].matched) t.plus_days = std::stoi(m[16].str().substr(1));
  return t;
}

// Dates and times in lines [first, last), in order.
std::vector<Token> scan_tokens(const std::vector<Line>& lines, std::size_t first,
                               std::size_t last) {
  static const std::regex pattern(
      R"(\b(\d{1,2})\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?,?\s+(\d{4})\b)"
      R"(|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\b)"
      R"(|\b(\d{4})-(\d{2})-(\d{2})\b)"
      R"(|\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b)"
      R"(|\b(\d{1,2}):(\d{2})(?:\s*([AaPp][Mm])\b)?(\+\d)?)");
  std::vector<Token> tokens;
  for (std::size_t i = first; i < last; ++i) {
    const std::string& text = lines[i].text;
    for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it) {
      auto token = date_token(*it);
      if (!token) token = time_token(*it);
      if (!token) continue;
      token->line = i;
      tokens.push_back(std::move(*token));
    }
  }
  return tokens;
}

std::string add_days(const std::string& date, int days) {
  if (days == 0) return date;
  std::tm tm{};
  tm.tm_year = std::stoi(date.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(date.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(date.substr(8, 2)) + days;
  tm.tm_hour = 12;
  const std::time_t t = timegm(&tm);
  gmtime_r(&t, &tm);
  return iso_date(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

// Each time on lines [first, last) with its date ("2026-03-29T03:15"), by
// the rule in the header; `all` are the tokens of the whole text, so dates
// on earlier lines count as "above".
std::vector<std::string> date_times(const std::vector<Token>& all, std::size_t first,
                                    std::size_t last) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < all.size() && all[i].line < last; ++i) {
    if (all[i].time.empty() || all[i].line < first) continue;
    const std::size_t line = all[i].line;
    std::string date;
    for (std::size_t j = i; date.empty() && j-- > 0 && all[j].line == line;) {
      date = all[j].date;  // the nearest before it on its line
    }
    for (std::size_t j = i + 1; date.empty() && j < all.size() && all[j].line == line; ++j) {
      date = all[j].date;  // else the first after it on its line
    }
    for (std::size_t j = i; date.empty() && j-- > 0;) date = all[j].date;  // the last above
    for (std::size_t j = i + 1; date.empty() && j < all.size() && all[j].line < last; ++j) {
      date = all[j].date;  // the first below, in the block
    }
    if (date.empty()) continue;
    out.push_back(add_days(date, all[i].plus_days) + "T" + all[i].time);
  }
  return out;
}

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t,-");
  const auto last = text.find_last_not_of(" \t,-");
  return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

// The first capture of `pattern` on any line in [first, last).
std::string find_value(const std::vector<Line>& lines, const std::regex& pattern,
                       std::size_t first = 0, std::size_t last = std::string::npos) {
  last = std::min(last, lines.size());
  std::smatch m;
  for (std::size_t i = first; i < last; ++i) {
    if (std::regex_search(lines[i].text, m, pattern)) return trim(m[1]);
  }
  return {};
}

std::string booking_reference(const std::vector<Line>& lines) {
  static const std::regex pattern(
      R"((?:booking reference|booking code|reservation number|confirmation number|confirmation #|order number|reservation)\s*[:#]?\s*((?=[A-Z0-9./-]*\d)[A-Z0-9][A-Z0-9./-]{3,}))",
      std::regex::icase);
  return find_value(lines, pattern);
}

// Lines [begin_i, begin_{i+1}) for each line that starts an item.
std::vector<std::pair<std::size_t, std::size_t>> blocks(const std::vector<std::size_t>& starts,
                                                        std::size_t end) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    out.emplace_back(starts[i], i + 1 < starts.size() ? starts[i + 1] : end);
  }
  return out;
}

// ---- flights ----------------------------------------------------------------

struct FlightNumber {
  std::string airline, number;
};

std::optional<FlightNumber> flight_number(const std::string& line) {
  static const std::regex pattern(R"(\b([A-Z][A-Z0-9]|[0-9][A-Z])\s?(\d{1,4})\b)");
  for (std::sregex_iterator it(line.begin(), line.end(), pattern), end; it != end; ++it) {
    if (find_airline((*it)[1].str())) return FlightNumber{(*it)[1], (*it)[2]};
  }
  return std::nullopt;
}

std::vector<std::string> airport_codes(const std::vector<Line>& lines, std::size_t first,
                                       std::size_t last) {
  static const std::regex in_brackets(R"(\(([A-Z]{3})\))");
  static const std::regex bare(R"(\b([A-Z]{3})\b)");
  for (const auto* pattern : {&in_brackets, &bare}) {
    std::vector<std::string> codes;
    for (std::size_t i = first; i < last; ++i) {
      const auto& text = lines[i].text;
      for (std::sregex_iterator it(text.begin(), text.end(), *pattern), end; it != end; ++it) {
        const std::string code = (*it)[1];
        if (pattern == &bare && !find_airport(code)) continue;
        if (codes.empty() || codes.back() != code) codes.push_back(code);
      }
    }
    if (codes.size() >= 2) return codes;
  }
  return {};
}

void parse_flights(const std::vector<Line>& lines, const std::string& booking,
                   ParsedConfirmation& out) {
  std::vector<std::size_t> starts;
  std::vector<FlightNumber> numbers;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (auto number = flight_number(lines[i].text)) {
      starts.push_back(i);
      numbers.push_back(*number);
    }
  }
  const auto ranges = blocks(starts, lines.size());
  const auto tokens = scan_tokens(lines, 0, lines.size());
  for (std::size_t b = 0; b < ranges.size(); ++b) {
    const auto [first, last] = ranges[b];
    const std::string name = "flight " + numbers[b].airline + " " + numbers[b].number;
    const auto codes = airport_codes(lines, first, last);
    const auto times = date_times(tokens, first, last);
    std::vector<std::string> missing;
    if (codes.size() < 2) missing.push_back("the departure and arrival airports (IATA codes)");
    if (times.size() < 2) missing.push_back("a departure and an arrival date and time");
    if (!missing.empty()) {
      out.problems.push_back(name + ": found no " +
                             fmt::format("{}", fmt::join(missing, " and no ")));
      continue;
    }
    json item{{"kind", "flight"},
              {"airline", numbers[b].airline},
              {"number", numbers[b].number},
              {"from", codes[0]},
              {"to", codes[1]},
              {"depart", times[0]},
              {"arrive", times[1]}};
    if (!booking.empty()) item["booking"] = booking;
    out.items.push_back(std::move(item));
  }
}

// ---- trains -----------------------------------------------------------------

std::string station_name(std::string value) {
  static const std::regex cut(R"(\s{2,}|\t|\s(?:dep|arr|departs|arrives)\b|\s\d{1,2}:\d{2})");
  std::smatch m;
  if (std::regex_search(value, m, cut)) value = value.substr(0, m.position(0));
  return trim(value);
}

std::string rail_operator(std::string_view text) {
  for (std::string_view name : {"Eurostar", "Deutsche Bahn", "Amtrak", "SNCF", "Trenitalia",
                                "Renfe", "SBB", "JR Central"}) {
    if (text.find(name) != std::string_view::npos) return std::string(name);
  }
  return {};
}

void parse_trains(const std::vector<Line>& lines, std::string_view whole,
                  const std::string& booking, ParsedConfirmation& out) {
  static const std::regex train(
      R"(\b(Eurostar|ICE|TGV|Frecciarossa|AVE|Acela|Thalys|Shinkansen|Train)\s+(?:No\.?\s*)?(\d{1,5})\b)");
  static const std::regex from(R"(^\s*(?:From|Departs? from)\s*:\s*(.+)$)", std::regex::icase);
  static const std::regex to(R"(^\s*(?:To|Arrives? at)\s*:\s*(.+)$)", std::regex::icase);
  static const std::regex arrow(R"(^\s*(.+?)\s+\d{1,2}:\d{2}\s*->\s*(.+?)\s+\d{1,2}:\d{2}\s*$)");
  std::vector<std::size_t> starts;
  std::vector<std::smatch> matches;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (std::regex_search(lines[i].text, m, train)) {
      starts.push_back(i);
      matches.push_back(m);
    }
  }
  const auto ranges = blocks(starts, lines.size());
  const auto tokens = scan_tokens(lines, 0, lines.size());
  for (std::size_t b = 0; b < ranges.size(); ++b) {
    const auto [first, last] = ranges[b];
    const std::string brand = matches[b][1];
    const std::string number = matches[b][2];
    std::string origin = station_name(find_value(lines, from, first, last));
    std::string destination = station_name(find_value(lines, to, first, last));
    std::smatch m;
    for (std::size_t i = first; i < last && origin.empty(); ++i) {
      if (std::regex_match(lines[i].text, m, arrow)) {
        origin = trim(m[1]);
        destination = trim(m[2]);
      }
    }
    const auto times = date_times(tokens, first, last);
    const std::string name = "train " + brand + " " + number;
    std::vector<std::string> missing;
    if (origin.empty() || destination.empty()) missing.push_back("the stations (From:/To:)");
    if (times.size() < 2) missing.push_back("a departure and an arrival date and time");
    if (!missing.empty()) {
      out.problems.push_back(name + ": found no " +
                             fmt::format("{}", fmt::join(missing, " and no ")));
      continue;
    }
    const std::string operator_name = brand == "Train" ? rail_operator(whole) : brand;
    json item{{"kind", "train"},   {"operator", operator_name}, {"number", number},
              {"from", origin},    {"to", destination},         {"depart", times[0]},
              {"arrive", times[1]}};
    if (!booking.empty()) item["booking"] = booking;
    out.items.push_back(std::move(item));
  }
}

// ---- hotels -----------------------------------------------------------------

// "2026-04-02" or "2026-04-02T14:00" from one line.
std::string date_and_time_on(const std::vector<Line>& lines, std::size_t line) {
  const auto tokens = scan_tokens(lines, line, line + 1);
  const auto times = date_times(tokens, line, line + 1);
  if (!times.empty()) return times.front();
  for (const auto& t : tokens) {
    if (!t.date.empty()) return t.date;
  }
  return {};
}

std::optional<std::size_t> line_matching(const std::vector<Line>& lines,
                                         const std::regex& pattern) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (std::regex_search(lines[i].text, pattern)) return i;
  }
  return std::nullopt;
}

std::string hotel_name(const std::vector<Line>& lines) {
  static const std::regex confirmed_at(R"(confirmed at\s+(.+)$)", std::regex::icase);
  static const std::regex labelled(R"(^\s*(?:Hotel|Property)\s*:\s*(.+)$)");
  static const std::regex naming(R"(^([^:]*\bHotel\b[^:]*)$)");
  for (const auto* pattern : {&confirmed_at, &labelled, &naming}) {
    if (auto name = find_value(lines, *pattern); !name.empty()) return name;
  }
  return {};
}

void parse_hotel(const std::vector<Line>& lines, std::string_view whole, const std::string& booking,
                 ParsedConfirmation& out) {
  static const std::regex check_in(R"(^\s*Check-in\s*:)", std::regex::icase);
  static const std::regex check_out(R"(^\s*Check-out\s*:)", std::regex::icase);
  const auto in_line = line_matching(lines, check_in);
  const auto out_line = line_matching(lines, check_out);
  if (!in_line && !out_line) return;
  const std::string name = hotel_name(lines);
  const auto city = find_city_in(whole);
  const std::string in = in_line ? date_and_time_on(lines, *in_line) : "";
  const std::string out_date = out_line ? date_and_time_on(lines, *out_line) : "";
  std::vector<std::string> missing;
  if (name.empty()) missing.push_back("the hotel's name");
  if (!city) missing.push_back("a city the place table knows");
  if (in.empty() || out_date.empty()) missing.push_back("check-in and check-out dates");
  if (!missing.empty()) {
    out.problems.push_back("hotel stay: found no " +
                           fmt::format("{}", fmt::join(missing, " and no ")));
    return;
  }
  json item{{"kind", "hotel"},
            {"name", name},
            {"city", std::string(city->city)},
            {"check_in", in},
            {"check_out", out_date}};
  if (!booking.empty()) item["booking"] = booking;
  out.items.push_back(std::move(item));
}

// ---- events -----------------------------------------------------------------

void parse_event(const std::vector<Line>& lines, const std::string& booking,
                 ParsedConfirmation& out) {
  static const std::regex event(R"(^\s*Event\s*:\s*(.+)$)", std::regex::icase);
  static const std::regex venue(R"(^\s*(?:Venue|Location|Place)\s*:\s*(.+)$)", std::regex::icase);
  const std::string title = find_value(lines, event);
  if (title.empty()) return;
  const std::string place = find_value(lines, venue);
  const auto times = date_times(scan_tokens(lines, 0, lines.size()), 0, lines.size());
  std::vector<std::string> missing;
  if (place.empty()) missing.push_back("the venue (Venue:)");
  if (times.empty()) missing.push_back("a date and a start time");
  if (!missing.empty()) {
    out.problems.push_back("event " + title + ": found no " +
                           fmt::format("{}", fmt::join(missing, " and no ")));
    return;
  }
  json item{{"kind", "event"}, {"title", title}, {"place", place}, {"start", times[0]}};
  if (times.size() > 1) item["end"] = times[1];
  if (!booking.empty()) item["booking"] = booking;
  out.items.push_back(std::move(item));
}

std::vector<Line> split_lines(std::string_view text) {
  std::string normal(text);
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"\r", ""},
                                 {"\xE2\x86\x92", "->"},    // →
                                 {"\xE2\x80\x93", "-"},     // –
                                 {"\xE2\x80\x94", "-"}}) {  // —
    for (auto at = normal.find(from); at != std::string::npos; at = normal.find(from, at)) {
      normal.replace(at, from.size(), to);
      at += to.size();
    }
  }
  std::vector<Line> lines;
  std::size_t start = 0;
  while (start <= normal.size()) {
    const auto end = normal.find('\n', start);
    std::string line = normal.substr(start, end == std::string::npos ? end : end - start);
    // std::regex recurses per character: a pathological line must not
    // exhaust the stack. No confirmation line is anywhere near this long.
    if (line.size() > kMaxLineLength) line.clear();
    lines.push_back({std::move(line)});
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

}  // namespace

ParsedConfirmation parse_confirmation(std::string_view text) {
  const auto lines = split_lines(text);
  const std::string booking = booking_reference(lines);
  ParsedConfirmation out;
  parse_flights(lines, booking, out);
  parse_trains(lines, text, booking, out);
  if (out.items.empty() && out.problems.empty()) {  // a stay or a show, not a journey
    parse_hotel(lines, text, booking, out);
    parse_event(lines, booking, out);
  }
  return out;
}

}  // namespace allscene::services::travel
