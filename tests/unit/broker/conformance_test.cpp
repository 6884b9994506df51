// Broker rules of MQTT 5 that other tests use but do not assert directly.
#include <set>

#include <gtest/gtest.h>

#include "broker_fixture.hpp"

namespace allscene::broker::testing {
namespace {

using mqtt::PacketType;
using mqtt::ReasonCode;

std::unique_ptr<FakeClient> connect_with(Broker& broker, TestExecutor& exec, std::size_t shard,
                                         const std::string& id, std::uint16_t receive_maximum,
                                         bool clean = true, std::uint32_t expiry = 0) {
  auto c = std::make_unique<FakeClient>(broker.shard(shard), mqtt::Version::v5);
  mqtt::Connect conn;
  conn.client_id = id;
  conn.clean_start = clean;
  conn.properties.receive_maximum = receive_maximum;
  conn.properties.maximum_packet_size = 64;  // small: no room for optional properties
  if (expiry) conn.properties.session_expiry_interval = expiry;
  c->write(conn);
  exec.drain();
  return c;
}

// [MQTT-3.2.2-19] [MQTT-3.2.2-20] [MQTT-3.4.2-2] [MQTT-3.4.2-3] [MQTT-3.5.2-2]
// [MQTT-3.5.2-3] [MQTT-3.6.2-2] [MQTT-3.6.2-3] [MQTT-3.7.2-2] [MQTT-3.7.2-3]
// [MQTT-3.9.2-1] [MQTT-3.9.2-2] [MQTT-3.11.2-1] [MQTT-3.11.2-2]
// [MQTT-3.14.2-3] [MQTT-3.14.2-4]
// The hub adds no Reason String or User Properties to its own packets, so
// none can push a packet past the client's Maximum Packet Size.
TEST_F(BrokerTest, ServerPacketsCarryNoReasonStringOrUserProperties) {
  auto c = connect_with(broker(), executor_, 0, "plain", 10);
  subscribe(*c, "t", 2);
  publish(*c, "t", "q1", 1);
  publish(*c, "t", "q2", 2);
  std::vector<mqtt::Packet> seen = c->take();
  for (const auto& p : only<mqtt::Publish>(seen)) {
    if (p.qos == 2) {
      c->write(mqtt::PubAck{PacketType::pubrec, p.packet_id, ReasonCode::success, {}});
    }
  }
  for (const auto& a : only<mqtt::PubAck>(seen)) {
    if (a.type == PacketType::pubrec) {
      c->write(mqtt::PubAck{PacketType::pubrel, a.packet_id, ReasonCode::success, {}});
    }
  }
  executor_.drain();
  mqtt::Unsubscribe u;
  u.packet_id = 77;
  u.filters = {"t", "never"};
  c->write(u);
  executor_.drain();
  auto more = c->take();
  seen.insert(seen.end(), more.begin(), more.end());
  mqtt::Connect again;  // a protocol error, so the hub sends DISCONNECT
  again.client_id = "plain";
  c->write(again);
  more = c->take();
  seen.insert(seen.end(), more.begin(), more.end());

  std::set<std::size_t> kinds;
  for (const auto& packet : seen) {
    kinds.insert(packet.index());
    std::visit(
        [](const auto& p) {
          if constexpr (requires { p.properties; }) {
            EXPECT_FALSE(p.properties.reason_string);
            EXPECT_TRUE(p.properties.user_properties.empty());
          }
        },
        packet);
  }
  // CONNACK, SUBACK, PUBLISH, PUBACK family, UNSUBACK, DISCONNECT were all seen.
  EXPECT_GE(kinds.size(), 6u);
}

// [MQTT-4.4.0-2] a PUBACK with an error code ends the delivery: the message
// is not sent again, even after a reconnect.
TEST_F(BrokerTest, ErrorPubackEndsDelivery) {
  {
    auto c = connect_with(broker(), executor_, 0, "rejects", 10, false, 60);
    subscribe(*c, "t", 1);
    c->take();
    auto p = connect(1, "p");
    publish(*p, "t", "m", 1);
    auto got = only<mqtt::Publish>(c->take());
    ASSERT_EQ(got.size(), 1u);
    c->write(mqtt::PubAck{PacketType::puback, got[0].packet_id, ReasonCode::unspecified_error, {}});
    executor_.drain();
    c->connection->on_closed(Clock::now());
    executor_.drain();
  }
  auto c = connect_with(broker(), executor_, 0, "rejects", 10, false, 60);
  EXPECT_TRUE(only<mqtt::Publish>(c->take()).empty());
}

// [MQTT-4.8.2-6] a shared subscriber's error PUBREC is not redirected to
// another member of the group.
TEST_F(BrokerTest, SharedSubscriberErrorAckIsNotRedirected) {
  auto a = connect_with(broker(), executor_, 0, "a", 10);
  auto b = connect_with(broker(), executor_, 1, "b", 10);
  subscribe(*a, "$share/g/s", 2);
  subscribe(*b, "$share/g/s", 2);
  a->take();
  b->take();
  auto p = connect(0, "p");
  publish(*p, "s", "once", 2);
  auto got_a = only<mqtt::Publish>(a->take());
  auto got_b = only<mqtt::Publish>(b->take());
  ASSERT_EQ(got_a.size() + got_b.size(), 1u);
  auto& receiver = got_a.empty() ? *b : *a;
  auto& other = got_a.empty() ? *a : *b;
  const auto id = (got_a.empty() ? got_b : got_a)[0].packet_id;
  receiver.write(mqtt::PubAck{PacketType::pubrec, id, ReasonCode::unspecified_error, {}});
  executor_.drain();
  EXPECT_TRUE(only<mqtt::Publish>(other.take()).empty());
  EXPECT_TRUE(only<mqtt::Publish>(receiver.take()).empty());
}

// [MQTT-3.3.4-10] [MQTT-4.9.0-3] with the send quota at 0, the hub still
// answers PINGREQ and SUBSCRIBE. [MQTT-4.9.0-1] the quota is the client's
// Receive Maximum.
TEST_F(BrokerTest, FullSendWindowDoesNotHoldOtherPackets) {
  auto c = connect_with(broker(), executor_, 0, "window", 1);
  subscribe(*c, "w", 1);
  c->take();
  auto p = connect(1, "p");
  publish(*p, "w", "1", 1);
  publish(*p, "w", "2", 1);
  EXPECT_EQ(only<mqtt::Publish>(c->take()).size(), 1u);  // quota 1 is used up
  c->write(mqtt::Pingreq{});
  subscribe(*c, "other", 1);
  auto packets = c->take();
  EXPECT_EQ(only<mqtt::Pingresp>(packets).size(), 1u);
  EXPECT_EQ(only<mqtt::Suback>(packets).size(), 1u);
  EXPECT_TRUE(only<mqtt::Publish>(packets).empty());
}

// [MQTT-4.3.2-1] [MQTT-4.3.3-1] packet ids of unacknowledged PUBLISHes to one
// client are all different.
TEST_F(BrokerTest, InflightPacketIdsAreUnique) {
  auto c = connect_with(broker(), executor_, 0, "ids", 50);
  subscribe(*c, "u", 2);
  c->take();
  auto p = connect(1, "p");
  for (int i = 0; i < 25; ++i) publish(*p, "u", std::to_string(i), 1);
  for (int i = 0; i < 25; ++i) publish(*p, "u", std::to_string(i), 2);
  std::set<std::uint16_t> ids;
  auto got = only<mqtt::Publish>(c->take());
  ASSERT_EQ(got.size(), 50u);
  for (const auto& m : got) ids.insert(m.packet_id);
  EXPECT_EQ(ids.size(), 50u);
  EXPECT_FALSE(ids.contains(0));
}

// [MQTT-3.10.4-3] a QoS 1 delivery started before UNSUBSCRIBE is completed:
// still resent after a reconnect until acknowledged.
TEST_F(BrokerTest, DeliveryStartedBeforeUnsubscribeCompletes) {
  {
    auto c = connect_with(broker(), executor_, 1, "unsub", 10, false, 60);
    subscribe(*c, "d", 1);
    c->take();
    auto p = connect(0, "p");
    publish(*p, "d", "in-flight", 1);
    ASSERT_EQ(only<mqtt::Publish>(c->take()).size(), 1u);
    mqtt::Unsubscribe u;
    u.packet_id = 5;
    u.filters = {"d"};
    c->write(u);
    executor_.drain();
    c->connection->on_closed(Clock::now());
    executor_.drain();
  }
  auto c = connect_with(broker(), executor_, 1, "unsub", 10, false, 60);
  auto got = only<mqtt::Publish>(c->take());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].dup);
  EXPECT_EQ(got[0].payload, "in-flight");
}

}  // namespace
}  // namespace allscene::broker::testing
