#include "ecosystem/topics.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

#include "azure/azure.hpp"

namespace allscene::ecosystem {
namespace {

constexpr std::string_view kCall = "$ecosystem/call/";

// The next level of `rest` (taken off it), or nullopt when it is empty or
// the last one.
std::optional<std::string_view> take_level(std::string_view& rest) {
  const std::size_t slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
  const std::string_view level = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  return level;
}

std::optional<std::chrono::seconds> seconds_of(std::string_view text) {
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < 0) return std::nullopt;
  return std::chrono::seconds(value);
}

}  // namespace

ParsedCall parse_call(std::string_view topic) {
  ParsedCall parsed;
  const std::size_t query = topic.find("/?");
  const auto bag = query == std::string_view::npos
                       ? std::optional<azure::PropertyBag>{}
                       : azure::parse_property_bag(topic.substr(query + 2));
  std::optional<std::string_view> timeout;
  if (bag) {
    for (const auto& [key, value] : *bag) {
      if (key == "$rid") parsed.error.rid = value;
      if (key == "$timeout") timeout = value;
    }
  }
  auto fail = [&](std::string message) {
    parsed.error.message = std::move(message);
    return parsed;
  };
  if (!topic.starts_with(kCall))
    return fail("unknown $ecosystem topic; calls use $ecosystem/call/");
  if (!bag || parsed.error.rid.empty()) {
    return fail("a call needs a request id: $ecosystem/call/{device}/{method}/?$rid={id}");
  }
  std::string_view rest = topic.substr(kCall.size(), query - kCall.size() + 1);
  const auto target = take_level(rest);
  const auto method = take_level(rest);
  if (!target || !method || !rest.empty()) {
    return fail("a call is $ecosystem/call/{device}/{method}/?$rid={id}");
  }
  CallRequest call{std::string(*target), std::string(*method), parsed.error.rid, std::nullopt};
  if (timeout) {
    call.timeout = seconds_of(*timeout);
    if (!call.timeout) return fail("$timeout must be a whole number of seconds");
  }
  parsed.call = std::move(call);
  return parsed;
}

std::string call_result_topic(int status, std::string_view rid) {
  return "$ecosystem/res/" + std::to_string(status) + "/?$rid=" + azure::url_encode(rid);
}

std::string card_topic(std::string_view owner, std::string_view device_id) {
  std::string topic = "users/";
  topic.append(owner).append("/devices/").append(device_id);
  return topic;
}

std::string relay_call_topic(std::string_view owner, std::string_view target) {
  std::string topic = "users/";
  topic.append(owner).append("/relay/call/").append(target);
  return topic;
}

std::string relay_result_topic(std::string_view owner, std::string_view hub, std::string_view rid) {
  std::string topic = "users/";
  topic.append(owner).append("/relay/result/").append(hub).append("/").append(rid);
  return topic;
}

namespace {

// The levels of `topic`; empty if any level is empty.
std::vector<std::string_view> split_levels(std::string_view topic) {
  std::vector<std::string_view> levels;
  while (true) {
    const std::size_t slash = topic.find('/');
    levels.push_back(topic.substr(0, slash));
    if (slash == std::string_view::npos) break;
    topic.remove_prefix(slash + 1);
  }
  if (std::any_of(levels.begin(), levels.end(), [](auto level) { return level.empty(); })) {
    levels.clear();
  }
  return levels;
}

}  // namespace

std::optional<GroupTopic> parse_group_topic(std::string_view topic) {
  const auto levels = split_levels(topic);
  if (levels.size() < 4 || levels[0] != "users") return std::nullopt;
  GroupTopic parsed;
  parsed.owner = levels[1];
  if (levels.size() == 4 && levels[2] == "devices") {
    parsed.device = levels[3];
    return parsed;
  }
  if (levels.size() == 5 && levels[2] == "relay" && levels[3] == "call") {
    parsed.kind = GroupTopic::Kind::relay_call;
    parsed.device = levels[4];
    return parsed;
  }
  if (levels.size() == 6 && levels[2] == "relay" && levels[3] == "result") {
    parsed.kind = GroupTopic::Kind::relay_result;
    parsed.hub = levels[4];
    parsed.rid = levels[5];
    return parsed;
  }
  return std::nullopt;
}

std::string twin_mirror_topic(std::string_view owner, std::string_view device_id) {
  std::string topic = "$hubs/";
  topic.append(owner).append("/twins/").append(device_id);
  return topic;
}

std::string twin_patch_topic(std::string_view owner, std::string_view device_id) {
  return twin_mirror_topic(owner, device_id) + "/patch";
}

std::optional<TwinTopic> parse_twin_topic(std::string_view topic) {
  const auto levels = split_levels(topic);
  if (levels.size() < 4 || levels.size() > 5 || levels[0] != "$hubs" || levels[2] != "twins") {
    return std::nullopt;
  }
  if (levels.size() == 5 && levels[4] != "patch") return std::nullopt;
  return TwinTopic{std::string(levels[1]), std::string(levels[3]), levels.size() == 5};
}

}  // namespace allscene::ecosystem
