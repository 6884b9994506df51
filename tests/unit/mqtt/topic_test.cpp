// Topic names and filters (§4.7) and shared subscriptions (§4.8.2).
#include "mqtt/topic.hpp"

#include <gtest/gtest.h>

namespace allscene::mqtt {
namespace {

// §4.7.3: at least one character; §4.7.1: no wildcards in names.
// [MQTT-4.7.0-1] [MQTT-3.3.2-2] [MQTT-4.7.3-1] [MQTT-4.7.3-2] [MQTT-4.7.3-3]
// [v3.1.1 MQTT-4.7.1-1] [v3.1.1 MQTT-3.3.2-2] [v3.1.1 MQTT-4.7.3-1]
// [v3.1.1 MQTT-4.7.3-2] [v3.1.1 MQTT-4.7.3-3]
TEST(Topic, Name_4_7) {
  EXPECT_TRUE(valid_topic_name("a"));
  EXPECT_TRUE(valid_topic_name("/"));
  EXPECT_TRUE(valid_topic_name("a//b/"));
  EXPECT_TRUE(valid_topic_name("$SYS/broker"));
  EXPECT_TRUE(valid_topic_name("sport/tennis/player1"));
  EXPECT_TRUE(valid_topic_name("données/温度"));
  EXPECT_FALSE(valid_topic_name(""));
  EXPECT_FALSE(valid_topic_name("a/+"));
  EXPECT_FALSE(valid_topic_name("a/#"));
  EXPECT_FALSE(valid_topic_name("a+b"));
  EXPECT_FALSE(valid_topic_name(std::string_view("a\0b", 3)));
  EXPECT_FALSE(valid_topic_name("\xC0\xAF"));
  EXPECT_FALSE(valid_topic_name(std::string(65'536, 'a')));
}

// §4.7.1.2 multi-level wildcard, §4.7.1.3 single-level wildcard.
// [MQTT-4.7.1-1] [MQTT-4.7.1-2] [v3.1.1 MQTT-4.7.1-2] [v3.1.1 MQTT-4.7.1-3]
TEST(Topic, Filter_4_7_1) {
  for (const char* ok : {"#", "+", "/", "a", "a/#", "a/+", "+/+", "+/#", "/+", "+/", "a/+/b", "//",
                         "sport/tennis/#", "$SYS/#", "a/b/c/+"}) {
    EXPECT_TRUE(valid_topic_filter(ok)) << ok;
  }
  for (const char* bad :
       {"", "a#", "#/a", "a/#/b", "a/b#", "a+", "+a", "a/+b", "a/b+/c", "##", "++", "a/#/"}) {
    EXPECT_FALSE(valid_topic_filter(bad)) << bad;
  }
  EXPECT_FALSE(valid_topic_filter("\xED\xA0\x80"));
}

// §4.8.2: $share/{ShareName}/{filter}.
// [MQTT-4.8.2-1] [MQTT-4.8.2-2]
TEST(Topic, SharedFilter_4_8_2) {
  EXPECT_TRUE(valid_topic_filter("$share/g/a/b"));
  EXPECT_TRUE(valid_topic_filter("$share/g/#"));
  EXPECT_TRUE(valid_topic_filter("$share/g/+/x"));
  EXPECT_TRUE(valid_topic_filter("$share/g//"));
  EXPECT_TRUE(valid_topic_filter("$share"));       // not shared: a plain filter
  EXPECT_TRUE(valid_topic_filter("$sharex/g/t"));  // not shared either
  EXPECT_FALSE(valid_topic_filter("$share/"));
  EXPECT_FALSE(valid_topic_filter("$share//t"));  // empty ShareName
  EXPECT_FALSE(valid_topic_filter("$share/g"));   // no filter
  EXPECT_FALSE(valid_topic_filter("$share/g/"));  // empty filter
  EXPECT_FALSE(valid_topic_filter("$share/+/t"));
  EXPECT_FALSE(valid_topic_filter("$share/#/t"));
  EXPECT_FALSE(valid_topic_filter("$share/g+/t"));
  EXPECT_FALSE(valid_topic_filter("$share/g/a#"));
  EXPECT_FALSE(valid_topic_filter("$share/g/#/a"));
}

TEST(Topic, ParseShared_4_8_2) {
  const auto s = parse_shared("$share/group/a/b/#");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->group, "group");
  EXPECT_EQ(s->filter, "a/b/#");
  const auto t = parse_shared("$share/g");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->group, "g");
  EXPECT_EQ(t->filter, "");
  EXPECT_FALSE(parse_shared("a/b"));
  EXPECT_FALSE(parse_shared("$share"));
  EXPECT_FALSE(parse_shared("$SHARE/g/t"));
  EXPECT_FALSE(parse_shared("x$share/g/t"));
}

TEST(Topic, FilterMatches_4_7_1) {
  EXPECT_TRUE(filter_matches("a/b", "a/b"));
  EXPECT_FALSE(filter_matches("a/b", "a/b/c"));
  EXPECT_FALSE(filter_matches("a/b/c", "a/b"));
  EXPECT_TRUE(filter_matches("a/+/c", "a/x/c"));
  EXPECT_TRUE(filter_matches("a/+", "a/"));  // an empty level is a level
  EXPECT_FALSE(filter_matches("a/+", "a"));
  EXPECT_TRUE(filter_matches("sport/#", "sport"));  // '#' includes the parent (§4.7.1.2)
  EXPECT_TRUE(filter_matches("sport/#", "sport/tennis/player1"));
  EXPECT_TRUE(filter_matches("#", "a/b"));
  EXPECT_TRUE(filter_matches("+/+", "/finance"));
  EXPECT_FALSE(filter_matches("+", "/finance"));
  EXPECT_TRUE(filter_matches("$iothub/twin/res/#", "$iothub/twin/res/200/?$rid=1"));
}

TEST(Topic, WildcardsSkipDollarTopics_4_7_2) {
  EXPECT_FALSE(filter_matches("#", "$SYS/x"));
  EXPECT_FALSE(filter_matches("+/monitor", "$SYS/monitor"));
  EXPECT_TRUE(filter_matches("$SYS/#", "$SYS/x"));
  EXPECT_TRUE(filter_matches("$SYS/+", "$SYS/x"));
}

TEST(Topic, Levels_4_7_1_1) {
  EXPECT_EQ(topic_levels("a"), 1u);
  EXPECT_EQ(topic_levels(""), 1u);
  EXPECT_EQ(topic_levels("/"), 2u);
  EXPECT_EQ(topic_levels("a/b/c"), 3u);
  EXPECT_EQ(topic_levels("/finance"), 2u);
  EXPECT_EQ(topic_levels("a//"), 3u);
}

}  // namespace
}  // namespace allscene::mqtt
