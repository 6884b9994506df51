// Quotas: per-connection publish rates and payload size, per-listener and
// per-device connection rates. Each refusal has its reason code and is
// counted; other clients go on.
#include <gtest/gtest.h>

#include "broker_fixture.hpp"

namespace allscene::broker::testing {
namespace {

using mqtt::PacketType;
using mqtt::ReasonCode;

TEST(TokenBucketTest, HoldsOneSecondOfRateAndRefillsContinuously) {
  TokenBucket b;
  const TimePoint t0{};
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.take(1, 5, t0)) << i;
  EXPECT_FALSE(b.take(1, 5, t0));
  EXPECT_FALSE(b.take(1, 5, t0 + std::chrono::milliseconds(150)));
  EXPECT_TRUE(b.take(1, 5, t0 + std::chrono::milliseconds(250)));
  // A long pause refills to one second's worth, not more.
  const TimePoint later = t0 + std::chrono::seconds(60);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.take(1, 5, later)) << i;
  EXPECT_FALSE(b.take(1, 5, later));
  EXPECT_FALSE(b.take(6, 5, later + std::chrono::seconds(9))) << "more than a second's worth";
}

class QuotaTest : public BrokerTest {
 protected:
  std::vector<mqtt::PubAck> publish_acks(FakeClient& c, int n, std::uint8_t qos,
                                         std::size_t payload = 4) {
    for (int i = 0; i < n; ++i) publish(c, "q/t", std::string(payload, 'x'), qos);
    return only<mqtt::PubAck>(c.take());
  }
  std::uint64_t refused() { return broker().totals().quota_refused; }
};

// §3.14.2.1: DISCONNECT 0x96 Message rate too high (PUBACK cannot carry it).
TEST_F(QuotaTest, PublishingFasterThanTheRateDisconnectsWith0x96) {
  limits_.quota.messages_per_second = 3;
  auto sub = connect(1, "sub");
  subscribe(*sub, "q/#", 1);
  sub->take();
  auto pub = connect(0, "pub");
  pub->take();
  for (int i = 0; i < 4; ++i) publish(*pub, "q/t", "x", 0);
  const auto bye = only<mqtt::Disconnect>(pub->take());
  ASSERT_EQ(bye.size(), 1u);
  EXPECT_EQ(bye[0].reason_code, ReasonCode::message_rate_too_high);
  EXPECT_TRUE(pub->closed);
  EXPECT_EQ(only<mqtt::Publish>(sub->take()).size(), 3u);
  EXPECT_EQ(refused(), 1u);
  // Another device has its own budget.
  auto other = connect(1, "other");
  other->take();
  const auto acks = publish_acks(*other, 3, 1);
  ASSERT_EQ(acks.size(), 3u);
  for (const auto& a : acks) EXPECT_EQ(a.reason_code, ReasonCode::success);
  EXPECT_FALSE(other->closed);
}

TEST_F(QuotaTest, Qos0BeyondTheByteRateIsDroppedAndCounted) {
  limits_.quota.bytes_per_second = 10;
  auto sub = connect(1, "sub");
  subscribe(*sub, "q/#", 0);
  sub->take();
  auto pub = connect(0, "pub");
  publish_acks(*pub, 4, 0, 4);
  EXPECT_EQ(only<mqtt::Publish>(sub->take()).size(), 2u);
  EXPECT_EQ(refused(), 2u);
  EXPECT_FALSE(pub->closed);
}

// 3.1.1 has no reason code for it: the connection is closed.
TEST_F(QuotaTest, Under311AQos1BeyondTheByteRateClosesTheConnection) {
  limits_.quota.bytes_per_second = 5;
  auto pub = connect(0, "pub", mqtt::Version::v311);
  pub->take();
  publish_acks(*pub, 2, 1);
  EXPECT_TRUE(pub->closed);
}

// §3.4.2.1: 0x97 Quota exceeded (bytes per second).
TEST_F(QuotaTest, BytesBeyondTheRateGet0x97) {
  limits_.quota.bytes_per_second = 100;
  auto pub = connect(0, "pub");
  pub->take();
  const auto acks = publish_acks(*pub, 2, 2, 60);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].type, PacketType::pubrec);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::success);
  EXPECT_EQ(acks[1].reason_code, ReasonCode::quota_exceeded);
}

// §3.14.2.1: DISCONNECT 0x95 Packet too large.
TEST_F(QuotaTest, APayloadAboveTheMaximumDisconnectsWith0x95) {
  limits_.quota.max_payload = 10;
  auto pub = connect(0, "pub");
  pub->take();
  publish_acks(*pub, 1, 1, 10);
  EXPECT_FALSE(pub->closed);
  publish(*pub, "q/t", std::string(11, 'x'), 1);
  const auto bye = only<mqtt::Disconnect>(pub->take());
  ASSERT_EQ(bye.size(), 1u);
  EXPECT_EQ(bye[0].reason_code, ReasonCode::packet_too_large);
  EXPECT_TRUE(pub->closed);
}

// §3.2.2.2: CONNACK 0x9F Connection rate exceeded.
TEST_F(QuotaTest, ReconnectingFasterThanTheDeviceRateGets0x9F) {
  limits_.quota.device_connections_per_second = 1;
  auto first = connect(0, "dev");
  EXPECT_EQ(only<mqtt::Connack>(first->take())[0].reason_code, ReasonCode::success);
  auto again = connect(1, "dev");
  EXPECT_EQ(only<mqtt::Connack>(again->take())[0].reason_code,
            ReasonCode::connection_rate_exceeded);
  auto other = connect(1, "other-dev");
  EXPECT_EQ(only<mqtt::Connack>(other->take())[0].reason_code, ReasonCode::success);
}

TEST_F(QuotaTest, TheListenerRateCountsEveryDevice) {
  limits_.quota.listener_connections_per_second = 2;
  std::vector<ReasonCode> got;
  std::vector<std::unique_ptr<FakeClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(connect(0, "d" + std::to_string(i)));
    got.push_back(only<mqtt::Connack>(clients.back()->take())[0].reason_code);
  }
  EXPECT_EQ(got, (std::vector{ReasonCode::success, ReasonCode::success,
                              ReasonCode::connection_rate_exceeded}));
  EXPECT_EQ(refused(), 1u);
}

}  // namespace
}  // namespace allscene::broker::testing
