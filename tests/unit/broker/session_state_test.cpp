// The compact per-client state an idle device costs: the shared client id
// and the session's members that exist only once used (subscriptions, the
// will and the deadlines).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "broker/client_id.hpp"
#include "broker/session.hpp"

namespace allscene::broker::testing {
namespace {

TEST(ClientIdTest, CopiesShareOneImmutableValue) {
  std::string source = "device-with-a-long-client-identifier";
  const ClientId a(source);
  source[0] = 'X';  // the id holds its own bytes
  const ClientId b = a;
  EXPECT_EQ(a.view(), "device-with-a-long-client-identifier");
  EXPECT_EQ(a.view().data(), b.view().data());  // shared, not copied
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.str(), "device-with-a-long-client-identifier");
  EXPECT_FALSE(a == ClientId("device"));
}

TEST(ClientIdTest, EmptyAndMoved) {
  const ClientId none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.view(), "");
  EXPECT_TRUE(ClientId("").empty());
  ClientId a("abc");
  ClientId b = std::move(a);
  EXPECT_EQ(b.view(), "abc");
  a = b;  // a moved-from id may be assigned again
  EXPECT_EQ(a.view(), "abc");
  b = ClientId("xyz");
  EXPECT_EQ(a.view(), "abc");
  EXPECT_EQ(b.view(), "xyz");
}

TEST(ClientIdTest, CopiesOnManyThreadsReleaseOnce) {
  // Under the sanitizer build a wrong count shows as a leak or a
  // use-after-free.
  const ClientId id("shared-between-loops");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&id] {
      for (int i = 0; i < 10000; ++i) {
        ClientId copy = id;
        ASSERT_EQ(copy.view().size(), 20u);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(id.view(), "shared-between-loops");
}

TEST(ClientIdTest, MapKeyedByIdFindsAnyString) {
  std::unordered_map<ClientId, int, ClientIdHash, ClientIdEqual> directory;
  directory.try_emplace(ClientId("lamp-1"), 1);
  directory.try_emplace(ClientId("lamp-2"), 2);
  const std::string key = "lamp-2";
  ASSERT_NE(directory.find(key), directory.end());
  EXPECT_EQ(directory.find(std::string_view("lamp-1"))->second, 1);
  EXPECT_EQ(directory.find(std::string_view("lamp-3")), directory.end());
}

TEST(SessionStateTest, SubscriptionsAddReplaceRemove) {
  const Limits limits;
  Session s(ClientId("sub"), limits);
  EXPECT_TRUE(s.subscriptions().empty());
  EXPECT_FALSE(s.erase_subscription("a/b"));
  SubscriptionEntry e;
  e.subscription_id = 7;
  EXPECT_TRUE(s.set_subscription("a/b", e));
  e.subscription_id = 8;
  EXPECT_FALSE(s.set_subscription("a/b", e));  // replaced, not new
  EXPECT_TRUE(s.set_subscription("c/#", e));
  ASSERT_EQ(s.subscriptions().size(), 2u);
  EXPECT_EQ(s.subscriptions().at("a/b").subscription_id, 8u);
  EXPECT_TRUE(s.erase_subscription("a/b"));
  EXPECT_TRUE(s.erase_subscription("c/#"));
  EXPECT_TRUE(s.subscriptions().empty());
  EXPECT_TRUE(s.set_subscription("a/b", e));  // usable again after the last went
  EXPECT_EQ(s.subscriptions().size(), 1u);
}

TEST(SessionStateTest, WillAndDeadlinesAreIndependent) {
  const Limits limits;
  Session s(ClientId("will"), limits);
  EXPECT_FALSE(s.will());
  EXPECT_FALSE(s.will_at());
  EXPECT_FALSE(s.expires_at());
  const TimePoint t1 = Clock::now();
  const TimePoint t2 = t1 + std::chrono::seconds(5);
  s.set_will(PendingWill{std::make_shared<Message>(), 30});
  s.set_expires_at(t2);
  s.set_will_at(t1);
  ASSERT_TRUE(s.will());
  EXPECT_EQ(s.will()->delay, 30u);
  EXPECT_EQ(s.will_at(), t1);
  EXPECT_EQ(s.expires_at(), t2);
  s.set_will(std::nullopt);  // the deadlines stay
  EXPECT_FALSE(s.will());
  EXPECT_EQ(s.will_at(), t1);
  EXPECT_EQ(s.expires_at(), t2);
  s.set_will_at(std::nullopt);
  s.set_expires_at(std::nullopt);
  EXPECT_FALSE(s.will_at());
  EXPECT_FALSE(s.expires_at());
  s.set_expires_at(t1);  // set again after everything was cleared
  EXPECT_EQ(s.expires_at(), t1);
  EXPECT_FALSE(s.will());
}

}  // namespace
}  // namespace allscene::broker::testing
