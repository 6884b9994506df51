// The bridge's local session against a real broker driven by hand: No
// Local, Retain As Published, the Receive Maximum window and the
// persistent session that holds unacknowledged deliveries.
#include "bridge/local_session.hpp"

#include <gtest/gtest.h>

#include "bridge/engine.hpp"
#include "broker/connection.hpp"
#include "broker/manual_executor.hpp"
#include "mqtt/codec.hpp"

namespace allscene::bridge {
namespace {

// A plain MQTT 5 client of the broker, to watch what others see.
class Watcher final : public broker::Transport {
 public:
  Watcher(broker::Shard& shard, const std::string& client_id, const std::string& filter) {
    broker::PeerInfo peer;
    peer.address = peer.ip = "127.0.0.1";
    peer.loopback = peer.allow_anonymous = true;
    connection = std::make_unique<broker::Connection>(shard, *this, peer, broker::Clock::now());
    mqtt::Connect c;
    c.client_id = client_id;
    write(c);
    mqtt::Subscribe s;
    s.packet_id = 1;
    s.subscriptions.push_back({filter, {1, false, false, 0}});
    write(s);
  }
  void send(std::span<const std::uint8_t> b) override { in.insert(in.end(), b.begin(), b.end()); }
  void send_publish(std::span<const std::uint8_t> h, const broker::MessagePtr& m) override {
    send(h);
    in.insert(in.end(), m->payload.begin(), m->payload.end());
  }
  void close() override {}
  std::size_t buffered_bytes() const override { return 0; }
  void write(const mqtt::Packet& p) {
    std::vector<std::uint8_t> bytes;
    mqtt::encode(p, mqtt::Version::v5, bytes);
    connection->on_data(bytes, broker::Clock::now());
  }
  std::vector<mqtt::Publish> publishes() {
    std::vector<mqtt::Publish> out;
    std::span<const std::uint8_t> rest(in);
    while (!rest.empty()) {
      const auto f = mqtt::frame(rest, 1 << 28);
      if (f.status != mqtt::FrameStatus::complete) break;
      auto r = mqtt::decode(rest.first(f.size), mqtt::Version::v5);
      if (auto* p = std::get_if<mqtt::Publish>(&r.packet)) out.push_back(*p);
      rest = rest.subspan(f.size);
    }
    in.clear();
    return out;
  }
  std::vector<std::uint8_t> in;
  std::unique_ptr<broker::Connection> connection;
};

mqtt::Publish message(std::string topic, std::uint8_t qos = 1, bool retain = false) {
  mqtt::Publish p;
  p.topic = std::move(topic);
  p.payload = "v";
  p.qos = qos;
  p.retain = retain;
  return p;
}

class LocalSessionTest : public ::testing::Test {
 protected:
  LocalSessionTest() : executor_(2), broker_(limits_, executor_, access_) {}

  std::shared_ptr<LocalSession> open(std::vector<mqtt::TopicSubscription> subs,
                                     std::uint16_t receive_maximum = 32) {
    LocalSession::Options o;
    o.client_id = "allscene-bridge-local-t";
    o.subscriptions = std::move(subs);
    o.receive_maximum = receive_maximum;
    LocalSession::Callbacks cb;
    cb.message = [this](mqtt::Publish p) { delivered_.push_back(std::move(p)); };
    cb.ended = [this](mqtt::ReasonCode r) { ended_.push_back(r); };
    auto s = LocalSession::start(broker_, std::move(o), std::move(cb));
    drain();
    return s;
  }
  void drain() { ASSERT_TRUE(executor_.drain()); }
  std::vector<mqtt::TopicSubscription> out_rules() {
    return Engine::local_subscriptions(
        std::vector<Rule>{Rule{"users/#", Direction::both, 1, "", ""}});
  }

  broker::Limits limits_;
  broker::ManualExecutor executor_;
  broker::AllowAll access_;
  broker::Broker broker_;
  std::vector<mqtt::Publish> delivered_;
  std::vector<mqtt::ReasonCode> ended_;
};

TEST_F(LocalSessionTest, WhatTheBridgePublishesNeverComesBackToIt) {
  // No Local (§3.8.3.1): a message that came in over the bridge is not
  // delivered to the bridge's own subscription, so it cannot go out again;
  // other clients do get it.
  auto session = open(out_rules());
  Watcher watcher(broker_.shard(1), "phone", "users/#");
  drain();
  watcher.publishes();
  bool accepted = false;
  session->publish(message("users/ana/clip"), [&](bool ok) { accepted = ok; });
  drain();
  EXPECT_TRUE(accepted);
  EXPECT_TRUE(delivered_.empty()) << "the bridge's own message was delivered back to it";
  EXPECT_EQ(watcher.publishes().size(), 1u);
  session->stop();
  drain();
}

TEST_F(LocalSessionTest, LocalTrafficReachesTheBridgeWithItsRetainFlag) {
  // Retain As Published (§3.8.3.1): a live retained message keeps RETAIN=1.
  auto session = open(out_rules());
  Watcher device(broker_.shard(1), "device", "nothing/here");
  drain();
  mqtt::Publish p = message("users/ana/card", 1, true);
  p.packet_id = 9;
  device.write(p);
  drain();
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_TRUE(delivered_[0].retain);
  EXPECT_EQ(delivered_[0].qos, 1);
  session->stop();
  drain();
}

TEST_F(LocalSessionTest, ReceiveMaximumBoundsWhatTheBridgeHolds) {
  auto session = open(out_rules(), 2);
  Watcher device(broker_.shard(1), "device", "nothing/here");
  drain();
  for (std::uint16_t i = 1; i <= 5; ++i) {
    auto p = message("users/ana/n");
    p.packet_id = i;
    device.write(p);
  }
  drain();
  ASSERT_EQ(delivered_.size(), 2u);  // the rest waits in the session queue
  session->acknowledge(delivered_[0].packet_id);
  drain();
  EXPECT_EQ(delivered_.size(), 3u);
  session->stop();
  drain();
}

TEST_F(LocalSessionTest, UnacknowledgedDeliveriesSurviveTheSession) {
  // Store and forward: what the bridge took but never acknowledged is sent
  // again to the next session of the same client id (§4.4), with DUP.
  auto session = open(out_rules());
  Watcher device(broker_.shard(1), "device", "nothing/here");
  drain();
  auto p = message("users/ana/n");
  p.packet_id = 3;
  device.write(p);
  drain();
  ASSERT_EQ(delivered_.size(), 1u);
  session->stop();
  drain();
  delivered_.clear();
  auto again = open(out_rules());
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_TRUE(delivered_[0].dup);
  EXPECT_EQ(delivered_[0].topic, "users/ana/n");
  again->acknowledge(delivered_[0].packet_id);
  again->stop();
  drain();
  delivered_.clear();
  auto third = open(out_rules());
  EXPECT_TRUE(delivered_.empty()) << "acknowledged delivery was sent again";
  third->stop();
  drain();
}

TEST_F(LocalSessionTest, QosZeroBeyondTheBacklogIsDropped) {
  // What the bridge has not consumed counts as its write buffer: past
  // max_outbound_bytes the broker drops QoS 0 to it, as for a slow client.
  limits_.max_outbound_bytes = 100;
  broker::Broker broker(limits_, executor_, access_);
  LocalSession::Options o;
  o.client_id = "allscene-bridge-local-b";
  o.subscriptions = out_rules();
  std::vector<mqtt::Publish> got;
  auto session = LocalSession::start(broker, o, {[&](mqtt::Publish p) { got.push_back(p); }, {}});
  Watcher device(broker.shard(1), "device", "nothing/here");
  drain();
  auto p = message("users/ana/telemetry", 0);
  p.payload.assign(60, 'x');
  for (int i = 0; i < 4; ++i) device.write(p);
  drain();
  ASSERT_EQ(got.size(), 2u);  // 0, then 80 bytes: 160 is over the limit
  EXPECT_EQ(broker.totals().dropped_slow_consumer, 2u);
  for (const auto& m : got) session->consumed(LocalSession::size_of(m));
  device.write(p);
  drain();
  EXPECT_EQ(got.size(), 3u);
  session->stop();
  drain();
}

TEST_F(LocalSessionTest, PublishAfterStopFails) {
  auto session = open(out_rules());
  session->stop();
  drain();
  bool called = false;
  bool accepted = true;
  session->publish(message("users/a"), [&](bool ok) {
    called = true;
    accepted = ok;
  });
  drain();
  EXPECT_TRUE(called);
  EXPECT_FALSE(accepted);
}

}  // namespace
}  // namespace allscene::bridge
