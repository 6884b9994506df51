// Topic rules of a bridge as pure functions: which filters each side
// subscribes to, which rule a topic falls under, and how topics are
// rewritten between the local and the remote naming.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "bridge/config.hpp"

namespace allscene::bridge {

// "in", "out", "both"; nullopt otherwise.
std::optional<Direction> parse_direction(std::string_view text);
std::string_view direction_name(Direction d);
inline bool goes_out(const Rule& r) { return r.direction != Direction::in; }
inline bool comes_in(const Rule& r) { return r.direction != Direction::out; }

// What is wrong with `rule` (empty: nothing): an invalid or shared
// pattern, a prefix with a wildcard or without a trailing '/', QoS > 2.
std::string rule_problem(const Rule& rule);

// The filter each side subscribes to for `rule`.
std::string local_filter(const Rule& rule);
std::string remote_filter(const Rule& rule);

// The remote name of local `topic` under `rule`, nullopt when the rule
// does not cover it (and the reverse).
std::optional<std::string> to_remote(const Rule& rule, std::string_view local_topic);
std::optional<std::string> to_local(const Rule& rule, std::string_view remote_topic);

// The first rule that sends local `topic` out (receives remote `topic`),
// or null.
const Rule* out_rule_for(std::span<const Rule> rules, std::string_view local_topic);
const Rule* in_rule_for(std::span<const Rule> rules, std::string_view remote_topic);

// Whether some topic name matches both filters (non-shared, valid).
bool filters_overlap(std::string_view a, std::string_view b);

// MQTT 3.1.1 has no No Local: an upstream subscription would return the
// bridge's own outbound messages. Describes the first pair of rules whose
// remote topics overlap in and out (empty: none), for validate().
std::string v311_loop_risk(std::span<const Rule> rules);

// QoS the link carries for `rule`: at most 1. A QoS 2 rule is carried at
// least once (QoS 1) across the link, exactly-once is not kept end to end.
inline std::uint8_t max_link_qos(const Rule& rule) { return rule.qos > 1 ? 1 : rule.qos; }

}  // namespace allscene::bridge
