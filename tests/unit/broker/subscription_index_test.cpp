#include "broker/subscription_index.hpp"

#include <algorithm>

#include <gtest/gtest.h>

#include "broker/retained_store.hpp"

namespace allscene::broker {
namespace {

// Session objects are only used as identities here.
Session* fake(std::uintptr_t n) { return reinterpret_cast<Session*>(n * 16); }
Subscriber sub(std::uintptr_t n) { return Subscriber{fake(n), nullptr, {}, 0}; }

std::vector<Session*> matches(const SubscriptionIndex& index, std::string_view topic) {
  std::vector<Subscriber> out;
  index.match(topic, out);
  std::vector<Session*> sessions;
  for (const auto& s : out) sessions.push_back(s.session);
  std::sort(sessions.begin(), sessions.end());
  return sessions;
}

TEST(SubscriptionIndex, WildcardsPerSection4_7) {
  SubscriptionIndex index;
  index.insert("sport/tennis/player1/#", sub(1));
  index.insert("sport/+/player1", sub(2));
  index.insert("#", sub(3));
  index.insert("+/+", sub(4));
  index.insert("/+", sub(5));
  index.insert("sport/tennis/player1", sub(6));

  // §4.7.1.2: "sport/tennis/player1/#" also matches "sport/tennis/player1".
  EXPECT_EQ(matches(index, "sport/tennis/player1"),
            (std::vector{fake(1), fake(2), fake(3), fake(6)}));
  EXPECT_EQ(matches(index, "sport/tennis/player1/ranking/wimbledon"),
            (std::vector{fake(1), fake(3)}));
  // §4.7.1.3: "+/+" matches "/finance", and "/+" matches it too.
  EXPECT_EQ(matches(index, "/finance"), (std::vector{fake(3), fake(4), fake(5)}));
  EXPECT_EQ(matches(index, "sport"), (std::vector{fake(3)}));
}

// [MQTT-4.7.2-1] [v3.1.1 MQTT-4.7.2-1]
TEST(SubscriptionIndex, DollarTopicsNotMatchedByLeadingWildcards_4_7_2) {
  SubscriptionIndex index;
  index.insert("#", sub(1));
  index.insert("+/monitor/Clients", sub(2));
  index.insert("$SYS/#", sub(3));
  index.insert("$SYS/monitor/+", sub(4));
  EXPECT_EQ(matches(index, "$SYS/monitor/Clients"), (std::vector{fake(3), fake(4)}));
  EXPECT_EQ(matches(index, "x/monitor/Clients"), (std::vector{fake(1), fake(2)}));
}

// [MQTT-3.8.4-3] an identical filter replaces the subscription.
TEST(SubscriptionIndex, InsertReplacesAndErasePrunes) {
  SubscriptionIndex index;
  EXPECT_TRUE(index.insert("a/b", {fake(1), nullptr, {1, false, false, 0}, 0}));
  EXPECT_FALSE(index.insert("a/b", {fake(1), nullptr, {2, false, false, 0}, 7}));
  EXPECT_EQ(index.size(), 1u);
  std::vector<Subscriber> out;
  index.match("a/b", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].options.max_qos, 2);
  EXPECT_EQ(out[0].subscription_id, 7u);
  EXPECT_TRUE(index.erase("a/b", fake(1), nullptr));
  EXPECT_FALSE(index.erase("a/b", fake(1), nullptr));
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(matches(index, "a/b").empty());
}

// [MQTT-3.3.1-6] [MQTT-3.3.1-7] [MQTT-4.7.2-1]
TEST(RetainedStore, MatchesFiltersAndEmptyPayloadClears) {
  RetainedStore store;
  auto put = [&](std::string topic, std::string payload) {
    auto m = std::make_shared<Message>();
    m->topic = std::move(topic);
    m->payload = std::move(payload);
    store.put(m);
  };
  put("home/kitchen/temp", "21");
  put("home/hall/temp", "19");
  put("home", "root");
  put("$SYS/uptime", "5");
  auto topics = [&](std::string_view filter) {
    std::vector<MessagePtr> out;
    store.match(filter, out);
    std::vector<std::string> t;
    for (auto& m : out) t.push_back(m->topic);
    std::sort(t.begin(), t.end());
    return t;
  };
  EXPECT_EQ(topics("home/+/temp"), (std::vector<std::string>{"home/hall/temp", "home/kitchen/temp"}));
  EXPECT_EQ(topics("home/#"),
            (std::vector<std::string>{"home", "home/hall/temp", "home/kitchen/temp"}));
  EXPECT_EQ(topics("#").size(), 3u);  // not $SYS (§4.7.2)
  EXPECT_EQ(topics("$SYS/#"), (std::vector<std::string>{"$SYS/uptime"}));
  put("home/hall/temp", "");  // §3.3.1.3: empty payload removes
  EXPECT_EQ(topics("home/+/temp"), (std::vector<std::string>{"home/kitchen/temp"}));
  EXPECT_EQ(store.size(), 3u);
}

}  // namespace
}  // namespace allscene::broker
