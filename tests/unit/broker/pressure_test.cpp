// Bounds under pressure: session queues, slow consumers, the memory
// high-water mark and the $SYS counters that report them.
#include <gtest/gtest.h>

#include "broker_fixture.hpp"

namespace allscene::broker::testing {
namespace {

class PressureTest : public BrokerTest {
 protected:
  // An offline persistent session subscribed to "q".
  void park_offline(const std::string& id) {
    auto c = connect(1, id, mqtt::Version::v5, false, 600);
    subscribe(*c, "q", 1);
    c->write(mqtt::Disconnect{});
    executor_.drain();
  }
  std::vector<std::string> resume(const std::string& id) {
    auto c = connect(1, id, mqtt::Version::v5, false, 600);
    std::vector<std::string> payloads;
    for (auto& p : only<mqtt::Publish>(c->take())) payloads.push_back(p.payload);
    return payloads;
  }
};

TEST_F(PressureTest, FullQueueDropsNewestByDefaultAndCounts) {
  limits_.max_queued_messages = 3;
  park_offline("s");
  auto p = connect(0, "p");
  for (int i = 0; i < 5; ++i) publish(*p, "q", std::to_string(i), 1);
  EXPECT_EQ(resume("s"), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(broker().totals().dropped_queue_full, 2u);
}

TEST_F(PressureTest, DropOldestPolicyKeepsNewest) {
  limits_.max_queued_messages = 3;
  limits_.drop_oldest = true;
  park_offline("s");
  auto p = connect(0, "p");
  for (int i = 0; i < 5; ++i) publish(*p, "q", std::to_string(i), 1);
  EXPECT_EQ(resume("s"), (std::vector<std::string>{"2", "3", "4"}));
  EXPECT_EQ(broker().totals().dropped_queue_full, 2u);
}

TEST_F(PressureTest, QueueIsBoundedInBytes) {
  limits_.max_queued_bytes = 100;  // topic "q" (1) + 40-byte payloads: two fit
  park_offline("s");
  auto p = connect(0, "p");
  for (int i = 0; i < 4; ++i) publish(*p, "q", std::string(40, 'a' + i), 1);
  EXPECT_EQ(broker().totals().queued_bytes, 82u);
  EXPECT_EQ(resume("s").size(), 2u);
  EXPECT_EQ(broker().totals().dropped_queue_full, 2u);
  EXPECT_EQ(broker().totals().queued_bytes, 0u);
}

// The gauges behind /metrics: queued and in-flight messages come and go
// with the session's queue and its unacknowledged deliveries; QoS is counted.
TEST_F(PressureTest, QueuedAndInflightGaugesFollowTheSession) {
  park_offline("s");
  auto p = connect(0, "p");
  for (int i = 0; i < 3; ++i) publish(*p, "q", std::to_string(i), 1);
  EXPECT_EQ(broker().totals().queued_messages, 3u);
  EXPECT_EQ(broker().totals().inflight, 0u);
  EXPECT_EQ(resume("s").size(), 3u);  // sent, not acknowledged
  EXPECT_EQ(broker().totals().queued_messages, 0u);
  EXPECT_EQ(broker().totals().inflight, 3u);
  EXPECT_EQ(broker().totals().received_by_qos[1], 3u);
  EXPECT_EQ(broker().totals().sent_by_qos[1], 3u);
  auto s = connect(1, "s", mqtt::Version::v5, false, 600);  // takes over, resends
  auto resent = only<mqtt::Publish>(s->take());
  ASSERT_EQ(resent.size(), 3u);
  for (const auto& m : resent)
    s->write(mqtt::PubAck{mqtt::PacketType::puback, m.packet_id, {}, {}});
  executor_.drain();
  EXPECT_EQ(broker().totals().inflight, 0u);
}

TEST_F(PressureTest, Qos0ToCongestedConnectionIsDroppedAndCounted) {
  auto slow = connect(0, "slow");
  subscribe(*slow, "f", 1);
  slow->take();
  slow->congested = true;
  auto p = connect(1, "p");
  for (int i = 0; i < 3; ++i) publish(*p, "f", "x", 0);
  publish(*p, "f", "kept", 1);  // QoS 1 is bounded by the inflight window instead
  auto got = only<mqtt::Publish>(slow->take());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "kept");
  EXPECT_EQ(broker().totals().dropped_slow_consumer, 3u);
}

TEST_F(PressureTest, HighWaterPausesReadersUntilLowWater) {
  limits_.memory_high_water = 100;
  limits_.memory_low_water = 50;
  park_offline("s");
  auto p = connect(0, "p");
  for (int i = 0; i < 3; ++i) publish(*p, "q", std::string(60, 'x'), 1);
  const auto now = Clock::now();
  broker().shard(0).tick(now);
  ASSERT_TRUE(broker().memory_high());
  bool resumed = false;
  broker().shard(0).park([&] { resumed = true; });
  broker().shard(0).tick(now);
  EXPECT_FALSE(resumed);
  resume("s");  // delivered: the queue drains into the inflight window
  broker().shard(0).tick(now);
  EXPECT_FALSE(broker().memory_high());
  EXPECT_TRUE(resumed);
}

TEST_F(PressureTest, SysTopicsReportCountersAsRetained) {
  limits_.sys_interval = 1;
  auto p = connect(0, "p");
  publish(*p, "a", "1", 0);
  broker().shard(0).tick(Clock::now() + std::chrono::seconds(2));
  executor_.drain();
  auto c = connect(1, "ops");
  c->take();
  subscribe(*c, "$SYS/broker/messages/received", 0);
  auto got = only<mqtt::Publish>(c->take());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].retain);
  EXPECT_EQ(got[0].payload, "1");
  // §4.7.2: "#" does not see $SYS.
  auto all = connect(1, "all");
  all->take();
  subscribe(*all, "#", 0);
  EXPECT_TRUE(only<mqtt::Publish>(all->take()).empty());
}

}  // namespace
}  // namespace allscene::broker::testing
