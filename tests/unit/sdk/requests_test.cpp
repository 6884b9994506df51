#include "requests.hpp"

#include <gtest/gtest.h>

#include "allscene/error.hpp"
#include "protocol.hpp"

namespace allscene::sdk::detail {
namespace {

using namespace std::chrono_literals;

std::string get_topic(const std::string& rid) { return twin_get_topic(rid); }

TEST(PendingRequests, RequestIdsAreUniqueAndNameTheTopic) {
  PendingRequests r;
  const auto t0 = Clock::now();
  const std::string a = r.add(get_topic, "", t0 + 10s, {}).rid;
  const std::string b = r.add(get_topic, "", t0 + 10s, {}).rid;
  EXPECT_NE(a, b);
  EXPECT_EQ(r.size(), 2u);
  auto taken = r.take(b);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->topic, "$iothub/twin/GET/?$rid=" + b);
  EXPECT_FALSE(r.take(b));  // answered once only
  EXPECT_FALSE(r.take("nobody"));
  EXPECT_EQ(r.size(), 1u);
}

TEST(PendingRequests, ExpireTakesThoseAtOrPastTheirDeadline) {
  PendingRequests r;
  const auto t0 = Clock::now();
  int timed_out = 0;
  auto handler = [&](std::error_code ec, const TwinResponse&) {
    EXPECT_EQ(ec, Errc::timeout);
    ++timed_out;
  };
  const std::string late = r.add(get_topic, "", t0 + 5s, handler).rid;
  r.add(get_topic, "", t0 + 1s, handler);
  EXPECT_EQ(r.next_deadline(), t0 + 1s);
  EXPECT_TRUE(r.expire(t0).empty());
  auto expired = r.expire(t0 + 1s);
  ASSERT_EQ(expired.size(), 1u);
  for (auto& e : expired) e.handler(Errc::timeout, {});
  EXPECT_EQ(timed_out, 1);
  EXPECT_EQ(r.next_deadline(), t0 + 5s);
  EXPECT_EQ(r.expire(t0 + 1h).size(), 1u);
  EXPECT_FALSE(r.take(late));  // a response after the timeout finds nothing
  EXPECT_FALSE(r.next_deadline());
}

TEST(PendingRequests, WrittenOnceAndAgainAfterAReconnect) {
  PendingRequests r;
  const auto t0 = Clock::now();
  r.add(get_topic, "", t0 + 10s, {});
  r.add(get_topic, "{}", t0 + 10s, {});
  EXPECT_EQ(r.to_write().size(), 2u);
  EXPECT_TRUE(r.to_write().empty());
  r.add(get_topic, "", t0 + 10s, {});
  EXPECT_EQ(r.to_write().size(), 1u);
  r.connection_lost();
  const auto again = r.to_write();
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0]->rid, "1");  // in issue order
  EXPECT_EQ(again[1]->payload, "{}");
  EXPECT_EQ(r.take_all().size(), 3u);
  EXPECT_EQ(r.size(), 0u);
}

}  // namespace
}  // namespace allscene::sdk::detail
