// The forwarding engine against a fake upstream and a fake local session:
// store and forward, acknowledgement order, windows, loops, remapping.
#include "bridge/engine.hpp"

#include <gtest/gtest.h>

#include <map>

namespace allscene::bridge {
namespace {

class FakeUpstream final : public UpstreamPort {
 public:
  void send(const mqtt::Packet& packet) override { sent.push_back(packet); }
  std::size_t queued_bytes() const override { return queued; }
  void set_reading(bool on) override { reading.push_back(on); }
  template <typename T>
  std::vector<T> take() {
    std::vector<T> out;
    for (const auto& p : sent) {
      if (const auto* x = std::get_if<T>(&p)) out.push_back(*x);
    }
    sent.clear();
    return out;
  }
  std::vector<mqtt::Packet> sent;
  std::size_t queued = 0;
  std::vector<bool> reading;
};

class FakeLocal final : public LocalPort {
 public:
  void publish(mqtt::Publish publish, std::function<void(bool)> done) override {
    published.push_back(std::move(publish));
    pending.push_back(std::move(done));
  }
  void acknowledge(std::uint16_t packet_id) override { acked.push_back(packet_id); }
  std::vector<mqtt::Publish> published;
  std::vector<std::function<void(bool)>> pending;
  std::vector<std::uint16_t> acked;
};

mqtt::Publish delivery(std::string topic, std::uint16_t id, std::uint8_t qos = 1,
                       bool retain = false) {
  mqtt::Publish p;
  p.topic = std::move(topic);
  p.payload = "x";
  p.qos = qos;
  p.packet_id = qos ? id : 0;
  p.retain = retain;
  return p;
}

mqtt::Connack connack(bool session_present = true, std::uint16_t receive_maximum = 65535) {
  mqtt::Connack c;
  c.session_present = session_present;
  c.properties.receive_maximum = receive_maximum;
  return c;
}

mqtt::PubAck puback(std::uint16_t id, mqtt::ReasonCode rc = mqtt::ReasonCode::success) {
  mqtt::PubAck a;
  a.packet_id = id;
  a.reason_code = rc;
  return a;
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() {
    config_.name = "t";
    config_.rules = {Rule{"users/#", Direction::both, 1, "", ""},
                     Rule{"#", Direction::both, 1, "home/", "edge/house1/"},
                     Rule{"telemetry/#", Direction::out, 0, "", ""}};
  }
  BridgeConfig config_;
  FakeUpstream up_;
  FakeLocal local_;
  Engine engine_{config_, up_, local_};
};

TEST_F(EngineTest, OutboundIsAcknowledgedLocallyOnlyAfterTheUpstreamPuback) {
  engine_.on_upstream_up(connack());
  up_.take<mqtt::Subscribe>();
  engine_.on_local_message(delivery("home/kitchen/temp", 7));
  const auto sent = up_.take<mqtt::Publish>();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topic, "edge/house1/kitchen/temp");
  EXPECT_EQ(sent[0].qos, 1);
  EXPECT_TRUE(local_.acked.empty()) << "acknowledged before the upstream had it";
  engine_.on_upstream_packet(puback(sent[0].packet_id));
  EXPECT_EQ(local_.acked, std::vector<std::uint16_t>{7});
  EXPECT_EQ(engine_.held(), 0u);
  EXPECT_EQ(engine_.stats().forwarded_out, 1u);
}

TEST_F(EngineTest, HeldWhileDownAndSentWhenTheLinkReturns) {
  engine_.on_local_message(delivery("users/ana/clip", 1));
  engine_.on_local_message(delivery("users/ana/clip", 2));
  EXPECT_TRUE(up_.sent.empty());
  EXPECT_EQ(engine_.held(), 2u);
  engine_.on_upstream_up(connack(false));
  const auto sent = up_.take<mqtt::Publish>();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_FALSE(sent[0].dup);
  engine_.on_upstream_packet(puback(sent[1].packet_id));
  engine_.on_upstream_packet(puback(sent[0].packet_id));
  EXPECT_EQ(local_.acked, (std::vector<std::uint16_t>{2, 1}));
}

TEST_F(EngineTest, UnacknowledgedAreResentWithDupInAResumedSession) {
  // §4.4: on a resumed session the client resends unacknowledged PUBLISH
  // packets with their original packet ids and DUP set (§3.3.1.1).
  engine_.on_upstream_up(connack());
  engine_.on_local_message(delivery("users/ana/clip", 5));
  const auto first = up_.take<mqtt::Publish>();
  ASSERT_EQ(first.size(), 1u);
  engine_.on_upstream_down();
  engine_.on_upstream_up(connack(true));
  auto again = up_.take<mqtt::Publish>();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].dup);
  EXPECT_EQ(again[0].packet_id, first[0].packet_id);
  // In a new session the upstream never saw it: no DUP.
  engine_.on_upstream_down();
  engine_.on_upstream_up(connack(false));
  again = up_.take<mqtt::Publish>();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_FALSE(again[0].dup);
  EXPECT_TRUE(local_.acked.empty());
}

TEST_F(EngineTest, AcknowledgementFromAnEarlierLinkIsIgnored) {
  engine_.on_upstream_up(connack());
  engine_.on_local_message(delivery("users/a", 1));
  const auto id = up_.take<mqtt::Publish>().at(0).packet_id;
  engine_.on_upstream_down();
  engine_.on_upstream_packet(puback(id));  // cannot happen on a dead link, but must not ack
  EXPECT_TRUE(local_.acked.empty());
}

TEST_F(EngineTest, InflightWindowFollowsTheUpstreamReceiveMaximum) {
  engine_.on_upstream_up(connack(true, 2));
  for (std::uint16_t i = 1; i <= 5; ++i) engine_.on_local_message(delivery("users/a", i));
  auto sent = up_.take<mqtt::Publish>();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(engine_.inflight(), 2u);
  engine_.on_upstream_packet(puback(sent[0].packet_id));
  sent = up_.take<mqtt::Publish>();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topic, "users/a");
  EXPECT_EQ(engine_.held(), 4u);
}

TEST_F(EngineTest, OurInflightCapsTheWindowToo) {
  config_.inflight = 3;
  engine_.on_upstream_up(connack(true, 100));
  for (std::uint16_t i = 1; i <= 10; ++i) engine_.on_local_message(delivery("users/a", i));
  EXPECT_EQ(up_.take<mqtt::Publish>().size(), 3u);
}

TEST_F(EngineTest, QosZeroIsDroppedWhileDownAndCounted) {
  engine_.on_local_message(delivery("telemetry/t", 0, 0));
  EXPECT_EQ(engine_.stats().dropped_qos0_offline, 1u);
  engine_.on_upstream_up(connack());
  up_.take<mqtt::Subscribe>();
  engine_.on_local_message(delivery("telemetry/t", 0, 0));
  EXPECT_EQ(up_.take<mqtt::Publish>().size(), 1u);
}

TEST_F(EngineTest, QosZeroIsDroppedWhileTheUpstreamIsNotTakingIt) {
  engine_.on_upstream_up(connack());
  up_.take<mqtt::Subscribe>();
  up_.queued = Engine::kMaxUpstreamBuffer + 1;
  engine_.on_local_message(delivery("telemetry/t", 0, 0));
  EXPECT_TRUE(up_.take<mqtt::Publish>().empty());
  EXPECT_EQ(engine_.stats().dropped_qos0_congested, 1u);
  // QoS 1 is bounded by the window, not dropped.
  engine_.on_local_message(delivery("users/a", 1));
  EXPECT_EQ(up_.take<mqtt::Publish>().size(), 1u);
}

TEST_F(EngineTest, ReadingPausesWhileTheLocalBrokerIsBehind) {
  engine_.on_upstream_up(connack());
  for (std::size_t i = 0; i < Engine::kMaxLocalPending; ++i) {
    engine_.on_upstream_packet(delivery("users/a", 0, 0));
  }
  EXPECT_EQ(up_.reading, std::vector<bool>{false});
  EXPECT_EQ(engine_.local_pending(), Engine::kMaxLocalPending);
  // Answers below half the bound resume reading, once.
  for (std::size_t i = 0; i < Engine::kMaxLocalPending / 2; ++i) local_.pending[i](true);
  EXPECT_EQ(up_.reading, (std::vector<bool>{false, true}));
  for (std::size_t i = Engine::kMaxLocalPending / 2; i < local_.pending.size(); ++i) {
    local_.pending[i](true);
  }
  EXPECT_EQ(up_.reading.size(), 2u);
  EXPECT_EQ(engine_.local_pending(), 0u);
}

TEST_F(EngineTest, UpstreamMaximumQosZeroDowngrades) {
  auto ack = connack();
  ack.properties.maximum_qos = 0;
  engine_.on_upstream_up(ack);
  engine_.on_local_message(delivery("users/a", 9));
  const auto sent = up_.take<mqtt::Publish>();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].qos, 0);
  EXPECT_EQ(local_.acked, std::vector<std::uint16_t>{9});
}

TEST_F(EngineTest, RefusedByTheUpstreamIsDroppedNotRetried) {
  engine_.on_upstream_up(connack());
  engine_.on_local_message(delivery("users/a", 4));
  const auto id = up_.take<mqtt::Publish>().at(0).packet_id;
  engine_.on_upstream_packet(puback(id, mqtt::ReasonCode::not_authorized));
  EXPECT_EQ(local_.acked, std::vector<std::uint16_t>{4});
  EXPECT_EQ(engine_.stats().refused_upstream, 1u);
  EXPECT_EQ(engine_.held(), 0u);
}

TEST_F(EngineTest, RetainFlagAndPropertiesGoAcross) {
  engine_.on_upstream_up(connack());
  auto d = delivery("users/ana/card", 3, 1, true);
  d.properties.content_type = "application/json";
  d.properties.subscription_identifiers = {4};
  d.properties.user_properties = {{"k", "v"}};
  engine_.on_local_message(d);
  const auto sent = up_.take<mqtt::Publish>().at(0);
  EXPECT_TRUE(sent.retain);
  EXPECT_EQ(sent.properties.content_type, "application/json");
  EXPECT_TRUE(sent.properties.subscription_identifiers.empty());  // per hop
  EXPECT_EQ(sent.properties.user_properties.size(), 1u);
}

TEST_F(EngineTest, UpstreamSubscriptionsUseNoLocalAndRetainAsPublished) {
  // §3.8.3.1: No Local keeps the upstream from returning what the bridge
  // published; Retain As Published keeps retained state retained.
  engine_.on_upstream_up(connack(false));
  const auto subs = up_.take<mqtt::Subscribe>();
  ASSERT_EQ(subs.size(), 1u);
  ASSERT_EQ(subs[0].subscriptions.size(), 2u);  // the out-only rule is not subscribed
  EXPECT_EQ(subs[0].subscriptions[0].filter, "users/#");
  EXPECT_EQ(subs[0].subscriptions[1].filter, "edge/house1/#");
  for (const auto& s : subs[0].subscriptions) {
    EXPECT_TRUE(s.options.no_local);
    EXPECT_TRUE(s.options.retain_as_published);
    EXPECT_EQ(s.options.retain_handling, 1);
    EXPECT_EQ(s.options.max_qos, 1);
  }
}

TEST_F(EngineTest, LocalSubscriptionsUseNoLocal) {
  const auto subs = Engine::local_subscriptions(config_.rules);
  ASSERT_EQ(subs.size(), 3u);
  EXPECT_EQ(subs[1].filter, "home/#");
  EXPECT_EQ(subs[2].options.max_qos, 0);
  for (const auto& s : subs) {
    EXPECT_TRUE(s.options.no_local);  // §3.8.3.1
    EXPECT_TRUE(s.options.retain_as_published);
  }
}

TEST_F(EngineTest, V311ResumedSessionIsNotSubscribedAgain) {
  config_.version = mqtt::Version::v311;
  engine_.on_upstream_up(connack(true));
  EXPECT_TRUE(up_.take<mqtt::Subscribe>().empty());
  engine_.on_upstream_down();
  engine_.on_upstream_up(connack(false));
  EXPECT_EQ(up_.take<mqtt::Subscribe>().size(), 1u);
}

TEST_F(EngineTest, InboundIsAcknowledgedUpstreamOnlyOnceLocalHasIt) {
  engine_.on_upstream_up(connack());
  up_.take<mqtt::Subscribe>();
  engine_.on_upstream_packet(delivery("edge/house1/light", 11, 1, true));
  ASSERT_EQ(local_.published.size(), 1u);
  EXPECT_EQ(local_.published[0].topic, "home/light");
  EXPECT_TRUE(local_.published[0].retain);
  EXPECT_TRUE(up_.sent.empty()) << "PUBACK before the local broker had it";
  local_.pending[0](true);
  const auto acks = up_.take<mqtt::PubAck>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].packet_id, 11);
  EXPECT_EQ(engine_.stats().forwarded_in, 1u);
}

TEST_F(EngineTest, InboundAckOwedToADeadLinkIsNotSent) {
  engine_.on_upstream_up(connack());
  up_.take<mqtt::Subscribe>();
  engine_.on_upstream_packet(delivery("users/a", 12));
  engine_.on_upstream_down();
  engine_.on_upstream_up(connack());
  up_.take<mqtt::Subscribe>();
  local_.pending[0](true);
  EXPECT_TRUE(up_.take<mqtt::PubAck>().empty());
}

TEST_F(EngineTest, InboundRefusedLocallyIsNotAcknowledged) {
  engine_.on_upstream_up(connack());
  up_.take<mqtt::Subscribe>();
  engine_.on_upstream_packet(delivery("users/a", 13));
  local_.pending[0](false);
  EXPECT_TRUE(up_.take<mqtt::PubAck>().empty());
  EXPECT_EQ(engine_.stats().refused_local, 1u);
}

TEST_F(EngineTest, InboundOnAnOutOnlyRuleIsDropped) {
  engine_.on_upstream_up(connack());
  up_.take<mqtt::Subscribe>();
  engine_.on_upstream_packet(delivery("telemetry/x", 14));
  EXPECT_TRUE(local_.published.empty());
  EXPECT_EQ(up_.take<mqtt::PubAck>().size(), 1u);  // acknowledged, or it blocks the window
  EXPECT_EQ(engine_.stats().unmatched, 1u);
}

TEST_F(EngineTest, SubscribeIdOfALostLinkIsFreed) {
  // 65535 links whose SUBACK never came must not exhaust the packet ids.
  for (int i = 0; i < 70000; ++i) {
    engine_.on_upstream_up(connack(false));
    engine_.on_upstream_down();
  }
  engine_.on_upstream_up(connack(false));
  engine_.on_local_message(delivery("users/a", 1));
  EXPECT_EQ(up_.take<mqtt::Publish>().size(), 1u);
}

TEST_F(EngineTest, PacketIdsInUseAreNotReused) {
  config_.inflight = 65535;
  engine_.on_upstream_up(connack(true, 65535));
  std::map<std::uint16_t, int> seen;
  for (std::uint16_t i = 1; i <= 300; ++i) engine_.on_local_message(delivery("users/a", i));
  for (const auto& p : up_.take<mqtt::Publish>()) ++seen[p.packet_id];
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

}  // namespace
}  // namespace allscene::bridge
