#include <gtest/gtest.h>

#include "broker_fixture.hpp"

namespace allscene::broker::testing {
namespace {

using mqtt::ReasonCode;

// [MQTT-3.1.4-5] an accepted CONNECT gets CONNACK 0x00.
TEST_F(BrokerTest, ConnackCarriesServerLimits_3_2_2_3) {
  auto c = connect(0, "dev1");
  auto acks = only<mqtt::Connack>(c->take());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::success);
  EXPECT_FALSE(acks[0].session_present);
  EXPECT_EQ(acks[0].properties.receive_maximum, limits_.max_inflight);
  EXPECT_EQ(acks[0].properties.maximum_packet_size, limits_.max_packet_size);
}

// [MQTT-4.5.0-1] [MQTT-4.3.2-4]
TEST_F(BrokerTest, PublishCrossesShards) {
  auto sub = connect(0, "sub");
  auto pub = connect(1, "pub");
  sub->take();
  subscribe(*sub, "t/#", 1);
  EXPECT_EQ(only<mqtt::Suback>(sub->take())[0].reason_codes,
            std::vector{ReasonCode::granted_qos1});
  publish(*pub, "t/x", "hello", 1);
  auto got = only<mqtt::Publish>(sub->take());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "hello");
  EXPECT_EQ(got[0].qos, 1);
  EXPECT_EQ(only<mqtt::PubAck>(pub->take()).size(), 1u);
}

// [MQTT-3.3.4-2] [MQTT-3.3.4-3] [MQTT-3.3.4-4]
TEST_F(BrokerTest, OverlappingSubscriptionsGiveOneMessageWithAllIds_3_3_4) {
  auto c = connect(0, "c");
  subscribe(*c, "a/+", 0, 1);
  subscribe(*c, "a/#", 1, 2);
  c->take();
  auto p = connect(1, "p");
  publish(*p, "a/b", "x", 1);
  auto got = only<mqtt::Publish>(c->take());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].qos, 1);
  auto ids = got[0].properties.subscription_identifiers;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{1, 2}));
}

// [MQTT-3.1.4-3] [MQTT-3.1.2-5] [MQTT-3.2.2-3]
TEST_F(BrokerTest, TakeoverAcrossShardsSendsDisconnect8E_3_1_4) {
  auto first = connect(0, "same", mqtt::Version::v5, false, 300);
  first->take();
  subscribe(*first, "keep/#", 1);
  first->take();
  auto second = connect(1, "same", mqtt::Version::v5, false, 300);
  auto kicked = only<mqtt::Disconnect>(first->take());
  ASSERT_EQ(kicked.size(), 1u);
  EXPECT_EQ(kicked[0].reason_code, ReasonCode::session_taken_over);
  EXPECT_TRUE(first->closed);
  auto acks = only<mqtt::Connack>(second->take());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_TRUE(acks[0].session_present);
  // The session (with its subscription) now serves the new connection.
  auto p = connect(1, "p");
  publish(*p, "keep/1", "v", 1);
  EXPECT_EQ(only<mqtt::Publish>(second->take()).size(), 1u);
  EXPECT_TRUE(only<mqtt::Publish>(first->take()).empty());
}

// [v3.1.1 MQTT-3.1.2-5] [v3.1.1 MQTT-3.2.2-2]
TEST_F(BrokerTest, OfflineQueueDeliveredOnResume_4_1) {
  {
    auto c = connect(1, "persist", mqtt::Version::v311, false);
    subscribe(*c, "q", 1);
    c->write(mqtt::Disconnect{});
    executor_.drain();
  }
  auto p = connect(0, "p");
  for (int i = 0; i < 3; ++i) publish(*p, "q", std::to_string(i), 1);
  publish(*p, "q", "qos0-dropped", 0);
  auto c = connect(0, "persist", mqtt::Version::v311, false);
  auto packets = c->take();
  auto acks = only<mqtt::Connack>(packets);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_TRUE(acks[0].session_present);
  auto got = only<mqtt::Publish>(packets);
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i].payload, std::to_string(i));
}

// [MQTT-4.4.0-1] [MQTT-3.3.1-1]
TEST_F(BrokerTest, UnackedQos1ResentWithDupOnReconnect_4_4) {
  {
    auto c = connect(0, "r", mqtt::Version::v5, false, 60);
    subscribe(*c, "t", 1);
    c->take();
    auto p = connect(1, "p");
    publish(*p, "t", "m", 1);
    ASSERT_EQ(only<mqtt::Publish>(c->take()).size(), 1u);
    // The connection drops before PUBACK.
    c->connection->on_closed(Clock::now());
    executor_.drain();
  }
  auto c = connect(0, "r", mqtt::Version::v5, false, 60);
  auto got = only<mqtt::Publish>(c->take());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].dup);
  EXPECT_EQ(got[0].payload, "m");
}

// [MQTT-4.3.3-10] [MQTT-4.3.3-11]
TEST_F(BrokerTest, Qos2InboundExactlyOnce_4_3_3) {
  auto sub = connect(0, "s");
  subscribe(*sub, "x", 2);
  sub->take();
  auto pub = connect(1, "p");
  pub->take();
  mqtt::Publish p;
  p.topic = "x";
  p.payload = "once";
  p.qos = 2;
  p.packet_id = 9;
  pub->write(p);
  p.dup = true;
  pub->write(p);  // resent before PUBREL: must not be routed twice
  executor_.drain();
  auto recs = only<mqtt::PubAck>(pub->take());
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].type, mqtt::PacketType::pubrec);
  pub->write(mqtt::PubAck{mqtt::PacketType::pubrel, 9, ReasonCode::success, {}});
  executor_.drain();
  auto comps = only<mqtt::PubAck>(pub->take());
  ASSERT_EQ(comps.size(), 1u);
  EXPECT_EQ(comps[0].type, mqtt::PacketType::pubcomp);
  EXPECT_EQ(comps[0].reason_code, ReasonCode::success);
  EXPECT_EQ(only<mqtt::Publish>(sub->take()).size(), 1u);
}

TEST_F(BrokerTest, SharedSubscriptionSpreadsAcrossShards_4_8_2) {
  auto a = connect(0, "a");
  auto b = connect(1, "b");
  subscribe(*a, "$share/g/jobs/#", 1);
  subscribe(*b, "$share/g/jobs/#", 1);
  a->take();
  b->take();
  auto p = connect(0, "p");
  for (int i = 0; i < 10; ++i) publish(*p, "jobs/1", std::to_string(i), 1);
  const auto na = only<mqtt::Publish>(a->take()).size();
  const auto nb = only<mqtt::Publish>(b->take()).size();
  EXPECT_EQ(na + nb, 10u);
  EXPECT_EQ(na, 5u);
}

// [MQTT-3.3.1-9] Retain Handling 0: retained messages are sent on subscribe.
TEST_F(BrokerTest, RetainedSentOnSubscribeWithRetainFlag_3_3_1_3) {
  auto p = connect(1, "p");
  publish(*p, "r/1", "kept", 1, true);
  auto c = connect(0, "c");
  c->take();
  subscribe(*c, "r/#", 1);
  auto packets = c->take();
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<mqtt::Suback>(packets[0]));  // SUBACK first
  auto got = std::get<mqtt::Publish>(packets[1]);
  EXPECT_TRUE(got.retain);
  EXPECT_EQ(got.payload, "kept");
}

// [MQTT-3.1.2-8] [MQTT-3.1.2-10]
TEST_F(BrokerTest, WillPublishedOnAbnormalCloseNotOnDisconnect_3_1_2_5) {
  auto watcher = connect(0, "w");
  subscribe(*watcher, "wills/#", 0);
  watcher->take();
  auto make = [&](const std::string& id) {
    auto c = std::make_unique<FakeClient>(broker().shard(1), mqtt::Version::v5);
    mqtt::Connect conn;
    conn.client_id = id;
    conn.will = mqtt::Will{"wills/" + id, "gone", 0, false, {}};
    c->write(conn);
    executor_.drain();
    return c;
  };
  auto polite = make("polite");
  polite->write(mqtt::Disconnect{});
  executor_.drain();
  EXPECT_TRUE(only<mqtt::Publish>(watcher->take()).empty());
  auto rude = make("rude");
  rude->connection->on_closed(Clock::now());
  executor_.drain();
  auto got = only<mqtt::Publish>(watcher->take());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "wills/rude");
}

// [MQTT-3.3.4-9] [MQTT-4.9.0-2]
TEST_F(BrokerTest, ReceiveMaximumLimitsInflight_3_3_4) {
  auto c = std::make_unique<FakeClient>(broker().shard(0), mqtt::Version::v5);
  mqtt::Connect conn;
  conn.client_id = "slow";
  conn.properties.receive_maximum = 2;
  c->write(conn);
  executor_.drain();
  subscribe(*c, "f", 1);
  c->take();
  auto p = connect(1, "p");
  for (int i = 0; i < 5; ++i) publish(*p, "f", std::to_string(i), 1);
  auto got = only<mqtt::Publish>(c->take());
  ASSERT_EQ(got.size(), 2u);
  c->write(mqtt::PubAck{mqtt::PacketType::puback, got[0].packet_id, ReasonCode::success, {}});
  executor_.drain();
  auto more = only<mqtt::Publish>(c->take());
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].payload, "2");
}

// [MQTT-3.1.0-2]
TEST_F(BrokerTest, SecondConnectIsProtocolError_3_1_0_2) {
  auto c = connect(0, "twice");
  c->take();
  mqtt::Connect again;
  again.client_id = "twice";
  c->write(again);
  auto d = only<mqtt::Disconnect>(c->take());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::protocol_error);
  EXPECT_TRUE(c->closed);
}

// [MQTT-3.1.2-22]
TEST_F(BrokerTest, KeepAliveTimeoutAfterOneAndAHalfTimes_3_1_2_10) {
  auto c = std::make_unique<FakeClient>(broker().shard(0), mqtt::Version::v5);
  mqtt::Connect conn;
  conn.client_id = "ka";
  conn.keep_alive = 2;
  const auto t0 = Clock::now();
  c->write(conn, t0);
  executor_.drain();
  c->take();
  broker().shard(0).tick(t0 + std::chrono::milliseconds(2900));
  EXPECT_FALSE(c->closed);
  broker().shard(0).tick(t0 + std::chrono::milliseconds(3100));
  EXPECT_TRUE(c->closed);
  auto d = only<mqtt::Disconnect>(c->take());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::keep_alive_timeout);
}

// [MQTT-4.1.0-2]
TEST_F(BrokerTest, SessionExpiresAfterInterval_3_1_2_11_2) {
  {
    auto c = connect(1, "exp", mqtt::Version::v5, false, 1);
    subscribe(*c, "e", 1);
    c->write(mqtt::Disconnect{});
    executor_.drain();
  }
  EXPECT_EQ(broker().shard(1).session_count(), 1u);
  broker().shard(1).tick(Clock::now() + std::chrono::seconds(2));
  EXPECT_EQ(broker().shard(1).session_count(), 0u);
  EXPECT_EQ(broker().shard(1).subscription_count(), 0u);
}

// [MQTT-4.12.0-1] an Authentication Method the server does not support:
// CONNACK 0x8C and the connection is closed.
TEST_F(BrokerTest, UnsupportedAuthenticationMethodGets8C) {
  auto c = std::make_unique<FakeClient>(broker().shard(0), mqtt::Version::v5);
  mqtt::Connect conn;
  conn.client_id = "scram";
  conn.properties.authentication_method = "SCRAM-SHA-1";
  c->write(conn);
  executor_.drain();
  auto acks = only<mqtt::Connack>(c->take());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::bad_authentication_method);
  EXPECT_TRUE(c->closed);
}

// §3.14.2.2.2: a Session Expiry Interval of 0 at CONNECT cannot be raised at
// DISCONNECT (Protocol Error). [MQTT-3.14.2-2] the server's own DISCONNECT
// carries no Session Expiry Interval.
TEST_F(BrokerTest, RaisingSessionExpiryAtDisconnectIsProtocolError) {
  auto c = connect(0, "raise");
  c->take();
  mqtt::Disconnect d;
  d.properties.session_expiry_interval = 60;
  c->write(d);
  executor_.drain();
  auto out = only<mqtt::Disconnect>(c->take());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].reason_code, ReasonCode::protocol_error);
  EXPECT_FALSE(out[0].properties.session_expiry_interval);
  EXPECT_TRUE(c->closed);
  EXPECT_EQ(broker().shard(0).session_count(), 0u);
}

// [MQTT-3.1.2-14] Will Retain 0: the will is published non-retained.
TEST_F(BrokerTest, WillWithRetainZeroIsNotRetained) {
  auto watcher = connect(0, "w");
  subscribe(*watcher, "wills/#", 0);
  watcher->take();
  auto c = std::make_unique<FakeClient>(broker().shard(1), mqtt::Version::v5);
  mqtt::Connect conn;
  conn.client_id = "dies";
  conn.will = mqtt::Will{"wills/dies", "gone", 0, false, {}};
  c->write(conn);
  executor_.drain();
  c->connection->on_closed(Clock::now());
  executor_.drain();
  auto got = only<mqtt::Publish>(watcher->take());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].retain);
  EXPECT_EQ(broker().retained().size(), 0u);
}

}  // namespace
}  // namespace allscene::broker::testing
