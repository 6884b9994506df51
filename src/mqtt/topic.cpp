#include "mqtt/topic.hpp"

#include <algorithm>

#include "mqtt/codec.hpp"

namespace allscene::mqtt {

namespace {

constexpr std::string_view kSharePrefix = "$share/";
constexpr std::size_t kMaxLength = 65'535;

// Wildcards of a non-shared filter (§4.7.1): '#' alone as the last level,
// '+' alone as a level.
bool valid_wildcards(std::string_view filter) {
  std::size_t level_start = 0;
  for (std::size_t i = 0; i < filter.size(); ++i) {
    const char c = filter[i];
    if (c == '/') {
      level_start = i + 1;
    } else if (c == '+') {
      const bool alone = i == level_start && (i + 1 == filter.size() || filter[i + 1] == '/');
      if (!alone) return false;
    } else if (c == '#') {
      if (i != level_start || i + 1 != filter.size()) return false;
    }
  }
  return true;
}

}  // namespace

bool valid_topic_name(std::string_view topic) {
  return !topic.empty() && topic.size() <= kMaxLength &&
         topic.find_first_of("+#") == std::string_view::npos && valid_utf8(topic);
}

bool valid_topic_filter(std::string_view filter) {
  if (filter.empty() || filter.size() > kMaxLength || !valid_utf8(filter)) return false;
  if (const auto shared = parse_shared(filter)) {
    // §4.8.2: ShareName is at least one character, no '/', '+' or '#'; the
    // filter after it is a full topic filter.
    return !shared->group.empty() && shared->group.find_first_of("+#") == std::string_view::npos &&
           !shared->filter.empty() && valid_wildcards(shared->filter);
  }
  return valid_wildcards(filter);
}

std::optional<SharedFilter> parse_shared(std::string_view filter) {
  if (!filter.starts_with(kSharePrefix)) return std::nullopt;
  const std::string_view rest = filter.substr(kSharePrefix.size());
  const std::size_t slash = rest.find('/');
  // "$share/group" with no filter is still a (malformed) shared filter, so
  // valid_topic_filter() rejects it rather than treating it as plain.
  if (slash == std::string_view::npos) return SharedFilter{rest, {}};
  return SharedFilter{rest.substr(0, slash), rest.substr(slash + 1)};
}

bool filter_matches(std::string_view filter, std::string_view topic) {
  if (topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#'))) return false;
  bool filter_end = false;
  bool topic_end = false;
  while (!filter_end) {
    const std::string_view f = pop_level(filter, filter_end);
    if (f == "#") return true;  // also matches the parent level (§4.7.1.2)
    if (topic_end) return false;
    const std::string_view t = pop_level(topic, topic_end);
    if (f != "+" && f != t) return false;
  }
  return topic_end;
}

std::size_t topic_levels(std::string_view topic) {
  return static_cast<std::size_t>(std::count(topic.begin(), topic.end(), '/')) + 1;
}

}  // namespace allscene::mqtt
