// Topic name and filter rules (§4.7) and shared-subscription syntax (§4.8.2).
#pragma once

#include <optional>
#include <string_view>

namespace allscene::mqtt {

// Non-empty, no '+' or '#', valid UTF-8 (§4.7.3, §4.7.1).
bool valid_topic_name(std::string_view topic);

// Non-empty; '#' only as the whole last level; '+' only as a whole level;
// a $share filter must have a non-empty group without wildcards and a
// non-empty filter after it (§4.8.2).
bool valid_topic_filter(std::string_view filter);

struct SharedFilter {
  std::string_view group;
  std::string_view filter;
};
// "$share/{group}/{filter}" -> {group, filter}; nullopt when not shared.
// Any filter starting "$share/" counts as shared: "$share/g" gives {"g", ""}.
std::optional<SharedFilter> parse_shared(std::string_view filter);

// Splits the first level off `rest` (a topic or filter walked level by
// level); sets `at_end` when it was the last level.
inline std::string_view pop_level(std::string_view& rest, bool& at_end) {
  const auto slash = rest.find('/');
  const std::string_view level = rest.substr(0, slash);
  if (slash == std::string_view::npos) {
    rest = {};
    at_end = true;
  } else {
    rest.remove_prefix(slash + 1);
  }
  return level;
}

// Whether the (non-shared, valid) `filter` matches the topic name `topic`
// (§4.7.1); wildcards in the first level do not match a topic starting
// with '$' (§4.7.2). The subscription index does this for many filters at
// once; this is for checking one session's few.
bool filter_matches(std::string_view filter, std::string_view topic);

// Number of levels ('/'-separated parts) in a topic or filter.
std::size_t topic_levels(std::string_view topic);

}  // namespace allscene::mqtt
