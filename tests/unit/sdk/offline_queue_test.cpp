#include "offline_queue.hpp"

#include <gtest/gtest.h>

namespace allscene::sdk::detail {
namespace {

QueuedEvent event(std::string payload) {
  QueuedEvent e;
  e.topic = "devices/d/messages/events/";
  e.payload = std::move(payload);
  return e;
}

std::vector<std::string> payloads(const std::vector<QueuedEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.payload);
  return out;
}

TEST(OfflineQueue, DropOldestKeepsTheNewestWithinTheCount) {
  OfflineQueue q(3, 1000, QueueFull::drop_oldest);
  for (const char* p : {"a", "b", "c"}) EXPECT_TRUE(q.push(event(p)).empty());
  EXPECT_EQ(payloads(q.push(event("d"))), std::vector<std::string>{"a"});
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.bytes(), 3u);
  std::vector<std::string> order;
  while (auto* e = q.next_to_write(10)) order.push_back(e->payload);
  EXPECT_EQ(order, (std::vector<std::string>{"b", "c", "d"}));
}

TEST(OfflineQueue, RejectNewKeepsTheOldest) {
  OfflineQueue q(2, 1000, QueueFull::reject_new);
  q.push(event("a"));
  q.push(event("b"));
  EXPECT_EQ(payloads(q.push(event("c"))), std::vector<std::string>{"c"});
  EXPECT_EQ(q.size(), 2u);
}

TEST(OfflineQueue, ByteBound) {
  OfflineQueue q(100, 10, QueueFull::drop_oldest);
  q.push(event("1234"));
  q.push(event("5678"));
  // 8 + 4 > 10: the oldest goes.
  EXPECT_EQ(payloads(q.push(event("abcd"))), std::vector<std::string>{"1234"});
  EXPECT_EQ(q.bytes(), 8u);
  // Larger than the whole bound: refused, nothing else dropped.
  EXPECT_EQ(payloads(q.push(event("0123456789x"))), std::vector<std::string>{"0123456789x"});
  EXPECT_EQ(q.size(), 2u);
}

TEST(OfflineQueue, WrittenEventsAreNotDroppedForNewOnes) {
  OfflineQueue q(2, 1000, QueueFull::drop_oldest);
  q.push(event("a"));
  q.push(event("b"));
  ASSERT_NE(q.next_to_write(10), nullptr);
  ASSERT_NE(q.next_to_write(10), nullptr);
  // Both on the wire: no room can be made; the new one is refused.
  EXPECT_EQ(payloads(q.push(event("c"))), std::vector<std::string>{"c"});
  EXPECT_EQ(q.size(), 2u);
}

TEST(OfflineQueue, InFlightLimitAndAcknowledgement) {
  OfflineQueue q(10, 1000, QueueFull::drop_oldest);
  for (const char* p : {"a", "b", "c"}) q.push(event(p));
  auto* a = q.next_to_write(2);
  ASSERT_NE(a, nullptr);
  a->packet_id = 1;
  auto* b = q.next_to_write(2);
  ASSERT_NE(b, nullptr);
  b->packet_id = 2;
  EXPECT_EQ(q.next_to_write(2), nullptr);  // two in flight
  EXPECT_EQ(q.written(), 2u);
  EXPECT_TRUE(q.uses_packet_id(2));
  EXPECT_FALSE(q.acknowledge(7));
  const auto acked = q.acknowledge(2);
  ASSERT_TRUE(acked);
  EXPECT_EQ(acked->payload, "b");
  EXPECT_FALSE(q.uses_packet_id(2));
  auto* c = q.next_to_write(2);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->payload, "c");
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.bytes(), 2u);
}

TEST(OfflineQueue, ConnectionLostWritesEverythingAgainInOrderKeepingIds) {
  OfflineQueue q(10, 1000, QueueFull::drop_oldest);
  for (const char* p : {"a", "b", "c"}) q.push(event(p));
  q.next_to_write(10)->packet_id = 5;
  q.next_to_write(10)->packet_id = 6;
  q.connection_lost();
  EXPECT_EQ(q.written(), 0u);
  EXPECT_FALSE(q.acknowledge(5));  // an ack from the old connection is not expected
  std::vector<std::pair<std::string, std::uint16_t>> order;
  while (auto* e = q.next_to_write(10)) order.emplace_back(e->payload, e->packet_id);
  EXPECT_EQ(order,
            (std::vector<std::pair<std::string, std::uint16_t>>{{"a", 5}, {"b", 6}, {"c", 0}}));
}

TEST(OfflineQueue, TakeAllEmptiesIt) {
  OfflineQueue q(10, 1000, QueueFull::drop_oldest);
  q.push(event("a"));
  q.push(event("b"));
  q.next_to_write(10);
  EXPECT_EQ(payloads(q.take_all()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.written(), 0u);
}

TEST(OfflineQueue, ZeroLimitQueuesNothing) {
  OfflineQueue q(0, 1000, QueueFull::drop_oldest);
  EXPECT_EQ(payloads(q.push(event("a"))), std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace allscene::sdk::detail
