#include "bridge/rules.hpp"

#include <fmt/format.h>

#include "mqtt/topic.hpp"

namespace allscene::bridge {

std::optional<Direction> parse_direction(std::string_view text) {
  if (text == "in") return Direction::in;
  if (text == "out") return Direction::out;
  if (text == "both") return Direction::both;
  return std::nullopt;
}

std::string_view direction_name(Direction d) {
  switch (d) {
    case Direction::in:
      return "in";
    case Direction::out:
      return "out";
    case Direction::both:
      return "both";
  }
  return "?";
}

namespace {

std::string prefix_problem(std::string_view key, std::string_view prefix) {
  if (prefix.empty()) return {};
  if (prefix.find_first_of("+#") != std::string_view::npos) {
    return fmt::format("{} '{}' must not hold '+' or '#'", key, prefix);
  }
  if (prefix.back() != '/') {
    return fmt::format("{} '{}' must end with '/' (e.g. '{}/')", key, prefix, prefix);
  }
  if (prefix.starts_with('$')) {
    return fmt::format("{} '{}' must not start with '$' (reserved topics)", key, prefix);
  }
  return {};
}

}  // namespace

std::string rule_problem(const Rule& rule) {
  if (!mqtt::valid_topic_filter(rule.pattern) || mqtt::parse_shared(rule.pattern)) {
    return fmt::format("pattern '{}' must be a topic filter such as \"users/#\" (no $share)",
                       rule.pattern);
  }
  if (rule.qos > 2) return fmt::format("qos {} must be 0, 1 or 2", rule.qos);
  if (auto p = prefix_problem("local_prefix", rule.local_prefix); !p.empty()) return p;
  return prefix_problem("remote_prefix", rule.remote_prefix);
}

std::string local_filter(const Rule& rule) { return rule.local_prefix + rule.pattern; }
std::string remote_filter(const Rule& rule) { return rule.remote_prefix + rule.pattern; }

namespace {

// `topic` with `from` replaced by `to`, if `from_prefix + pattern` covers it.
std::optional<std::string> remap(const Rule& rule, std::string_view from, std::string_view to,
                                 std::string_view topic) {
  if (!topic.starts_with(from)) return std::nullopt;
  const std::string_view rest = topic.substr(from.size());
  // The pattern alone decides: "$x" after a prefix is an ordinary level.
  if (rest.empty() || !mqtt::filter_matches(rule.pattern, rest)) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(to.size() + rest.size());
  out.append(to).append(rest);
  return out;
}

}  // namespace

std::optional<std::string> to_remote(const Rule& rule, std::string_view local_topic) {
  return remap(rule, rule.local_prefix, rule.remote_prefix, local_topic);
}

std::optional<std::string> to_local(const Rule& rule, std::string_view remote_topic) {
  return remap(rule, rule.remote_prefix, rule.local_prefix, remote_topic);
}

const Rule* out_rule_for(std::span<const Rule> rules, std::string_view local_topic) {
  for (const auto& r : rules) {
    if (goes_out(r) && to_remote(r, local_topic)) return &r;
  }
  return nullptr;
}

const Rule* in_rule_for(std::span<const Rule> rules, std::string_view remote_topic) {
  for (const auto& r : rules) {
    if (comes_in(r) && to_local(r, remote_topic)) return &r;
  }
  return nullptr;
}

bool filters_overlap(std::string_view a, std::string_view b) {
  bool a_end = false;
  bool b_end = false;
  while (true) {
    if (a_end || b_end) {
      // One ran out: the other matches the same topic only if what is left
      // of it is "#" (which also matches the parent level) or nothing.
      if (a_end && b_end) return true;
      std::string_view rest = a_end ? b : a;
      return rest == "#";
    }
    const auto x = mqtt::pop_level(a, a_end);
    const auto y = mqtt::pop_level(b, b_end);
    if (x == "#" || y == "#") return true;
    if (x != "+" && y != "+" && x != y) return false;
  }
}

std::string v311_loop_risk(std::span<const Rule> rules) {
  for (const auto& in : rules) {
    if (!comes_in(in)) continue;
    for (const auto& out : rules) {
      if (!goes_out(out)) continue;
      if (filters_overlap(remote_filter(in), remote_filter(out))) {
        return fmt::format(
            "remote topics '{}' ({}) and '{}' ({}) overlap in and out; MQTT 3.1.1 has no No "
            "Local, so the upstream would send the bridge's own messages back. Use direction "
            "in or out with different remote prefixes, or mqtt_version 5",
            remote_filter(in), direction_name(in.direction), remote_filter(out),
            direction_name(out.direction));
      }
    }
  }
  return {};
}

}  // namespace allscene::bridge
