#include "bridge/rules.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace allscene::bridge {
namespace {

Rule rule(std::string pattern, Direction d, std::string local = "", std::string remote = "") {
  return Rule{std::move(pattern), d, 1, std::move(local), std::move(remote)};
}

TEST(BridgeRules, DirectionNames) {
  EXPECT_EQ(parse_direction("in"), Direction::in);
  EXPECT_EQ(parse_direction("out"), Direction::out);
  EXPECT_EQ(parse_direction("both"), Direction::both);
  EXPECT_EQ(parse_direction("In"), std::nullopt);
  EXPECT_EQ(direction_name(Direction::both), "both");
}

TEST(BridgeRules, SamePrefixOnBothSidesKeepsTheTopic) {
  const auto r = rule("users/ana/#", Direction::both);
  EXPECT_EQ(to_remote(r, "users/ana/clipboard"), "users/ana/clipboard");
  EXPECT_EQ(to_local(r, "users/ana/cards/phone"), "users/ana/cards/phone");
  EXPECT_EQ(to_remote(r, "users/bob/clipboard"), std::nullopt);
  // '#' also matches the parent level (§4.7.1.2).
  EXPECT_EQ(to_remote(r, "users/ana"), "users/ana");
}

TEST(BridgeRules, PrefixesAreSwapped) {
  const auto r = rule("#", Direction::both, "home/", "edge/house1/");
  EXPECT_EQ(local_filter(r), "home/#");
  EXPECT_EQ(remote_filter(r), "edge/house1/#");
  EXPECT_EQ(to_remote(r, "home/kitchen/temp"), "edge/house1/kitchen/temp");
  EXPECT_EQ(to_local(r, "edge/house1/kitchen/light"), "home/kitchen/light");
  EXPECT_EQ(to_remote(r, "edge/house1/kitchen/temp"), std::nullopt);
  EXPECT_EQ(to_local(r, "home/kitchen/light"), std::nullopt);
  EXPECT_EQ(to_remote(r, "home/"), std::nullopt);  // nothing after the prefix
}

TEST(BridgeRules, PlusMatchesOneLevel) {
  const auto r = rule("devices/+/messages/events/#", Direction::out);
  EXPECT_EQ(to_remote(r, "devices/d1/messages/events/"), "devices/d1/messages/events/");
  EXPECT_EQ(to_remote(r, "devices/d1/x/messages/events/a"), std::nullopt);
}

TEST(BridgeRules, WildcardsDoNotReachDollarTopics) {
  // §4.7.2: a filter starting with a wildcard does not match "$" topics.
  const auto r = rule("#", Direction::out);
  EXPECT_EQ(to_remote(r, "$SYS/broker/uptime"), std::nullopt);
  EXPECT_EQ(to_remote(r, "a/b"), "a/b");
}

TEST(BridgeRules, RuleLookupHonoursDirection) {
  const std::vector<Rule> rules{rule("in/#", Direction::in), rule("out/#", Direction::out),
                                rule("both/#", Direction::both)};
  EXPECT_EQ(out_rule_for(rules, "in/x"), nullptr);
  EXPECT_EQ(out_rule_for(rules, "out/x"), &rules[1]);
  EXPECT_EQ(out_rule_for(rules, "both/x"), &rules[2]);
  EXPECT_EQ(in_rule_for(rules, "in/x"), &rules[0]);
  EXPECT_EQ(in_rule_for(rules, "out/x"), nullptr);
  EXPECT_EQ(in_rule_for(rules, "both/x"), &rules[2]);
}

TEST(BridgeRules, FirstMatchingRuleWins) {
  const std::vector<Rule> rules{rule("a/#", Direction::out, "", "one/"),
                                rule("a/b", Direction::out, "", "two/")};
  EXPECT_EQ(out_rule_for(rules, "a/b"), &rules[0]);
}

TEST(BridgeRules, Problems) {
  EXPECT_EQ(rule_problem(rule("users/#", Direction::both)), "");
  EXPECT_NE(rule_problem(rule("users/#/x", Direction::both)), "");
  EXPECT_NE(rule_problem(rule("", Direction::both)), "");
  EXPECT_NE(rule_problem(rule("$share/g/a", Direction::both)), "");
  EXPECT_NE(rule_problem(rule("#", Direction::both, "home")), "");      // no trailing '/'
  EXPECT_NE(rule_problem(rule("#", Direction::both, "", "a/+/")), "");  // wildcard
  EXPECT_NE(rule_problem(rule("#", Direction::both, "$SYS/")), "");
  auto q = rule("a", Direction::in);
  q.qos = 3;
  EXPECT_NE(rule_problem(q), "");
}

TEST(BridgeRules, FiltersOverlap) {
  EXPECT_TRUE(filters_overlap("a/b", "a/b"));
  EXPECT_TRUE(filters_overlap("a/+", "a/b"));
  EXPECT_TRUE(filters_overlap("a/#", "a"));  // '#' matches the parent
  EXPECT_TRUE(filters_overlap("+/b/#", "a/+/c"));
  EXPECT_TRUE(filters_overlap("#", "x/y"));
  EXPECT_FALSE(filters_overlap("a/b", "a/c"));
  EXPECT_FALSE(filters_overlap("a/+", "a/b/c"));
  EXPECT_FALSE(filters_overlap("edge/house1/#", "users/#"));
  EXPECT_FALSE(filters_overlap("a", "a/b"));
}

TEST(BridgeRules, V311LoopRiskNamesTheOverlap) {
  EXPECT_NE(v311_loop_risk(std::vector<Rule>{rule("users/#", Direction::both)}), "");
  EXPECT_NE(
      v311_loop_risk(std::vector<Rule>{rule("a/#", Direction::in), rule("a/b", Direction::out)}),
      "");
  EXPECT_EQ(v311_loop_risk(std::vector<Rule>{rule("#", Direction::in, "cloud/", "down/"),
                                             rule("#", Direction::out, "home/", "up/")}),
            "");
}

TEST(BridgeRules, LinkQosIsAtMostOne) {
  auto r = rule("a", Direction::both);
  r.qos = 2;
  EXPECT_EQ(max_link_qos(r), 1);
  r.qos = 0;
  EXPECT_EQ(max_link_qos(r), 0);
}

TEST(BridgeConfig, UpstreamAddress) {
  BridgeConfig c;
  parse_upstream_address("mqtt://127.0.0.1:18830", c);
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 18830);
  EXPECT_FALSE(c.tls);
  parse_upstream_address("mqtts://cloud.example", c);
  EXPECT_EQ(c.host, "cloud.example");
  EXPECT_EQ(c.port, 8883);
  EXPECT_TRUE(c.tls);
  parse_upstream_address("mqtt://[::1]:1884", c);
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 1884);
  EXPECT_THROW(parse_upstream_address("tcp://h:1", c), std::invalid_argument);
  EXPECT_THROW(parse_upstream_address("mqtt://h:0", c), std::invalid_argument);
  EXPECT_THROW(parse_upstream_address("mqtt://h:99999", c), std::invalid_argument);
  EXPECT_THROW(parse_upstream_address("mqtt://:1883", c), std::invalid_argument);
}

TEST(BridgeConfig, ConnectionString) {
  BridgeConfig c;
  apply_connection_string("HostName=hub.example;DeviceId=edge1;SharedAccessKey=a2V5", c);
  EXPECT_EQ(c.username, "hub.example/edge1/?api-version=2021-04-12");
  EXPECT_EQ(c.client_id, "edge1");
  EXPECT_EQ(c.sas_key, "a2V5");
  EXPECT_EQ(c.sas_resource, "hub.example/devices/edge1");
  EXPECT_EQ(c.host, "hub.example");
  EXPECT_TRUE(c.tls);
  EXPECT_THROW(apply_connection_string("HostName=h;DeviceId=d", c), std::invalid_argument);
}

TEST(BridgeConfig, ClientIdDefaults) {
  BridgeConfig c;
  c.name = "cloud";
  EXPECT_EQ(effective_client_id(c), "allscene-bridge-cloud");
  c.username = "edge1";
  EXPECT_EQ(effective_client_id(c), "edge1");
  c.client_id = "mine";
  EXPECT_EQ(effective_client_id(c), "mine");
}

TEST(BridgeConfig, Validate) {
  BridgeConfig c;
  c.host = "127.0.0.1";
  c.rules = default_rules();
  EXPECT_NO_THROW(validate(c));
  // users/# both ways cannot be loop-free without No Local.
  c.version = mqtt::Version::v311;
  EXPECT_THROW(validate(c), std::invalid_argument);
  c.version = mqtt::Version::v5;
  c.name = "a/b";
  EXPECT_THROW(validate(c), std::invalid_argument);
  c.name = "x";
  c.ca_file = "/tmp/ca.pem";  // TLS file without mqtts://
  EXPECT_THROW(validate(c), std::invalid_argument);
  c.ca_file.clear();
  c.rules.clear();
  EXPECT_THROW(validate(c), std::invalid_argument);
}

}  // namespace
}  // namespace allscene::bridge
