// The durability contract (DESIGN.md) from the broker's side, with a store
// whose commits complete when the test says: a QoS 1/2 PUBLISH is
// acknowledged only after it is durable for every persistent session it
// was routed to; a SUBSCRIBE after the subscription is durable; recovered
// state resumes where it stopped (§4.4).
#include <mutex>

#include "broker_fixture.hpp"

namespace allscene::broker::testing {
namespace {

using mqtt::PacketType;
using mqtt::ReasonCode;

class FakeStore final : public SessionStore {
 public:
  void submit(std::vector<StoreOp> ops, Done done) override {
    std::lock_guard lock(mutex_);
    for (auto& o : ops) log.push_back(std::move(o));
    pending_.push_back(std::move(done));
  }
  bool healthy() const override { return healthy_; }

  // Completes every batch submitted so far.
  void commit(bool ok = true) {
    std::vector<Done> batches;
    {
      std::lock_guard lock(mutex_);
      batches.swap(pending_);
    }
    for (auto& d : batches) d(ok);
  }
  std::size_t pending() const { return pending_.size(); }
  template <typename T>
  std::vector<T> ops() const {
    std::vector<T> out;
    for (const auto& o : log) {
      if (auto* x = std::get_if<T>(&o)) out.push_back(*x);
    }
    return out;
  }

  std::vector<StoreOp> log;
  bool healthy_ = true;

 private:
  std::mutex mutex_;
  std::vector<Done> pending_;
};

// A message as the store hands it back, on topic "t".
std::shared_ptr<Message> stored_message(const std::string& payload, std::uint8_t qos,
                                        std::uint64_t id) {
  auto m = std::make_shared<Message>();
  m->topic = "t";
  m->payload = payload;
  m->qos = qos;
  m->id = id;
  return m;
}

class StoreContractTest : public BrokerTest {
 protected:
  Broker& durable_broker() {
    Broker& b = broker();
    b.set_store(&store_);
    return b;
  }
  // Commits and lets the shards run what waited for the commit.
  void commit(bool ok = true) {
    store_.commit(ok);
    executor_.drain();
  }
  std::unique_ptr<FakeClient> persistent(std::size_t shard, const std::string& id,
                                         mqtt::Version v = mqtt::Version::v5) {
    durable_broker();
    auto c = connect(shard, id, v, /*clean=*/false, 3600);
    commit();
    c->take();
    return c;
  }

  FakeStore store_;
};

TEST_F(StoreContractTest, PubackWaitsUntilTheDeliveryToAPersistentSessionIsDurable) {
  auto sub = persistent(1, "sub");
  subscribe(*sub, "t", 1);
  commit();
  sub->take();
  auto pub = connect(0, "pub");
  publish(*pub, "t", "x", 1);
  EXPECT_TRUE(only<mqtt::PubAck>(pub->take()).empty()) << "PUBACK before the commit";
  const auto saved = store_.ops<store_op::SaveDelivery>();
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].client_id, "sub");
  EXPECT_NE(saved[0].message->id, 0u);
  commit();
  const auto acks = only<mqtt::PubAck>(pub->take());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::success);
}

TEST_F(StoreContractTest, WithoutPersistentSessionsPubackNeedsNoDisk) {
  durable_broker();
  auto sub = connect(1, "clean-sub");
  subscribe(*sub, "t", 1);
  auto pub = connect(0, "pub");
  publish(*pub, "t", "x", 1);
  EXPECT_EQ(only<mqtt::PubAck>(pub->take()).size(), 1u);
  EXPECT_TRUE(store_.log.empty());
  EXPECT_EQ(store_.pending(), 0u);
}

TEST_F(StoreContractTest, UnsafeEarlyAckAcknowledgesBeforeTheCommit) {
  auto sub = persistent(1, "sub");
  subscribe(*sub, "t", 1);
  commit();
  broker().set_unsafe_early_ack(true);
  auto pub = connect(0, "pub");
  publish(*pub, "t", "x", 1);
  EXPECT_EQ(only<mqtt::PubAck>(pub->take()).size(), 1u);
}

TEST_F(StoreContractTest, AFailedCommitAnswersQuotaExceededUnderV5AndClosesUnder311) {
  auto sub = persistent(1, "sub");
  subscribe(*sub, "t", 1);
  commit();
  auto v5 = connect(0, "p5");
  auto v3 = connect(0, "p3", mqtt::Version::v311);
  publish(*v5, "t", "a", 1);
  publish(*v3, "t", "b", 1);
  commit(false);
  const auto acks = only<mqtt::PubAck>(v5->take());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::quota_exceeded);
  EXPECT_TRUE(only<mqtt::PubAck>(v3->take()).empty());
  EXPECT_TRUE(v3->closed);
}

TEST_F(StoreContractTest, AnUnhealthyStoreRefusesQos1ButServesQos0) {
  auto sub = persistent(1, "sub");
  subscribe(*sub, "t", 1);
  commit();
  sub->take();
  store_.healthy_ = false;
  auto pub = connect(0, "pub");
  publish(*pub, "t", "kept?", 1);
  const auto acks = only<mqtt::PubAck>(pub->take());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::quota_exceeded);
  publish(*pub, "t", "q0", 0);
  const auto got = only<mqtt::Publish>(sub->take());
  ASSERT_EQ(got.size(), 1u) << "only the QoS 0 message is routed";
  EXPECT_EQ(got[0].payload, "q0");
}

TEST_F(StoreContractTest, SubackWaitsUntilTheSubscriptionIsDurable) {
  auto sub = persistent(0, "sub");
  mqtt::Subscribe s;
  s.packet_id = 7;
  s.subscriptions.push_back({"a/#", {2, true, true, 0}});
  s.properties.subscription_identifiers.push_back(5);
  sub->write(s);
  executor_.drain();
  EXPECT_TRUE(only<mqtt::Suback>(sub->take()).empty());
  const auto saved = store_.ops<store_op::SaveSubscription>();
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].filter, "a/#");
  EXPECT_EQ(saved[0].options, (mqtt::SubscribeOptions{2, true, true, 0}));
  EXPECT_EQ(saved[0].subscription_id, 5u);
  commit();
  EXPECT_EQ(only<mqtt::Suback>(sub->take()).size(), 1u);
}

TEST_F(StoreContractTest, InboundQos2IsDurableBeforePubrecAndItsReleaseBeforePubcomp) {
  auto pub = persistent(0, "pub");
  mqtt::Publish p{false, 2, false, "t", 9, "x", {}};
  pub->write(p);
  executor_.drain();
  EXPECT_TRUE(only<mqtt::PubAck>(pub->take()).empty());
  ASSERT_EQ(store_.ops<store_op::SaveInboundQos2>().size(), 1u);
  commit();
  auto acks = only<mqtt::PubAck>(pub->take());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].type, PacketType::pubrec);
  pub->write(mqtt::PubAck{PacketType::pubrel, 9, ReasonCode::success, {}});
  executor_.drain();
  EXPECT_TRUE(only<mqtt::PubAck>(pub->take()).empty()) << "PUBCOMP before the release is durable";
  ASSERT_EQ(store_.ops<store_op::DeleteInboundQos2>().size(), 1u);
  commit();
  acks = only<mqtt::PubAck>(pub->take());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].type, PacketType::pubcomp);
}

// With several loops each commits its own part of a routing; a crash
// between the commits must not lose the message for one loop's sessions
// while the packet id (in another loop's part) blocks the resend (§4.3.3).
// So the message is stored with its packet id, and completed deliveries of
// it leave "done" marks until the PUBREL.
TEST_F(StoreContractTest, InboundQos2FromAPersistentSessionIsKeptUntilReleased) {
  auto sub = persistent(1, "sub");
  subscribe(*sub, "t", 2);
  commit();
  sub->take();
  auto pub = persistent(0, "pub");
  pub->write(mqtt::Publish{false, 2, false, "t", 9, "x", {}});
  executor_.drain();
  const auto saved = store_.ops<store_op::SaveInboundQos2>();
  ASSERT_EQ(saved.size(), 1u);
  ASSERT_NE(saved[0].message, nullptr);
  EXPECT_TRUE(saved[0].message->recoverable);
  commit();
  commit();  // the delivery is durable: now it is sent
  const auto pubs = only<mqtt::Publish>(sub->take());
  ASSERT_EQ(pubs.size(), 1u);
  sub->write(mqtt::PubAck{PacketType::pubrec, pubs[0].packet_id, ReasonCode::success, {}});
  executor_.drain();
  commit();
  sub->write(mqtt::PubAck{PacketType::pubcomp, pubs[0].packet_id, ReasonCode::success, {}});
  executor_.drain();
  const auto deleted = store_.ops<store_op::DeleteDelivery>();
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_TRUE(deleted[0].leave_mark);
}

// Start-up routes an unreleased message again, to the matching sessions
// that have had it neither as a delivery nor as a done mark.
TEST_F(StoreContractTest, StartUpFinishesARoutingCutShortByACrash) {
  Broker& b = durable_broker();
  auto m = stored_message("x", 2, 50);
  m->origin_client_id = "pub";
  m->recoverable = true;
  auto stored = [&](const std::string& id, const std::string& filter) {
    StoredSession s;
    s.session.client_id = id;
    s.session.expiry_interval = 3600;
    s.subscriptions.push_back({id, filter, {2, false, false, 0}, 0});
    return s;
  };
  StoredState state;
  state.sessions.push_back(stored("pub", "other"));
  state.sessions.back().inbound_qos2.push_back(9);
  state.sessions.push_back(stored("queued", "t"));
  state.sessions.back().deliveries.push_back({1, m, 2, false, {}, false});
  state.sessions.push_back(stored("done", "t"));
  state.sessions.back().done.push_back(50);
  state.sessions.push_back(stored("lost", "t"));
  state.sessions.push_back(stored("elsewhere", "u"));
  state.unfinished_routes.push_back(m);
  state.next_message_id = 51;
  const auto summary = b.restore(std::move(state), Clock::now());
  EXPECT_EQ(summary.unfinished_routes, 1u);
  executor_.drain();
  const auto saved = store_.ops<store_op::SaveDelivery>();
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].client_id, "lost");
  EXPECT_EQ(saved[0].message->id, 50u);
  EXPECT_EQ(saved[0].qos, 2);
}

TEST_F(StoreContractTest, OutboundPubrelWaitsUntilTheReleaseIsDurable) {
  auto sub = persistent(1, "sub");
  subscribe(*sub, "t", 2);
  commit();
  sub->take();
  auto pub = connect(0, "pub");
  publish(*pub, "t", "x", 2);
  commit();
  const auto got = only<mqtt::Publish>(sub->take());
  ASSERT_EQ(got.size(), 1u);
  sub->write(mqtt::PubAck{PacketType::pubrec, got[0].packet_id, ReasonCode::success, {}});
  executor_.drain();
  EXPECT_TRUE(only<mqtt::PubAck>(sub->take()).empty()) << "PUBREL before the release is durable";
  ASSERT_EQ(store_.ops<store_op::ReleaseDelivery>().size(), 1u);
  commit();
  const auto rel = only<mqtt::PubAck>(sub->take());
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(rel[0].type, PacketType::pubrel);
  sub->write(mqtt::PubAck{PacketType::pubcomp, got[0].packet_id, ReasonCode::success, {}});
  executor_.drain();
  EXPECT_EQ(store_.ops<store_op::DeleteDelivery>().size(), 1u);
}

TEST_F(StoreContractTest, AnEndingSessionIsDeletedAndACleanSessionNeverStored) {
  auto durable = persistent(0, "d");
  auto clean = connect(1, "c");
  subscribe(*clean, "t", 1);
  mqtt::Disconnect bye;
  bye.properties.session_expiry_interval = 0;
  durable->write(bye);
  clean->write(mqtt::Disconnect{});
  executor_.drain();
  const auto deleted = store_.ops<store_op::DeleteSession>();
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].client_id, "d");
  for (const auto& s : store_.ops<store_op::SaveSession>()) EXPECT_NE(s.client_id, "c");
  EXPECT_EQ(broker().durable_sessions(), 0);
}

TEST_F(StoreContractTest, ExpiredMessagesLeaveAnOfflineSessionsQueueAndTheStore) {
  auto sub = persistent(1, "sub");
  subscribe(*sub, "t", 1);
  commit();
  sub->write(mqtt::Disconnect{});
  executor_.drain();
  auto pub = connect(0, "pub");
  mqtt::Publish p{false, 1, false, "t", 3, "short-lived", {}};
  p.properties.message_expiry_interval = 1;
  pub->write(p);
  executor_.drain();
  commit();
  ASSERT_EQ(store_.ops<store_op::SaveDelivery>().size(), 1u);
  broker().shard(1).tick(Clock::now() + std::chrono::seconds(20));
  executor_.drain();
  const auto deleted = store_.ops<store_op::DeleteDelivery>();
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].client_id, "sub");
  EXPECT_EQ(broker().totals().dropped_expired, 1u);
}

// §4.4: after a restart the recovered session resends unacknowledged
// PUBLISHes with DUP and their original packet ids, and PUBREL for
// released ones; a QoS 2 id awaiting PUBREL still deduplicates.
TEST_F(StoreContractTest, RecoveredStateResumesWithOriginalPacketIds) {
  Broker& b = durable_broker();
  auto m = stored_message("queued", 1, 41);
  StoredState state;
  StoredSession s;
  s.session.client_id = "sub";
  s.session.expiry_interval = 3600;
  s.subscriptions.push_back({"sub", "t", {1, false, false, 0}, 0});
  s.deliveries.push_back({10, m, 1, false, {}, false});
  s.deliveries.push_back({11, m, 2, false, {}, true});
  s.inbound_qos2.push_back(77);
  state.sessions.push_back(std::move(s));
  state.next_message_id = 42;
  const auto summary = b.restore(std::move(state), Clock::now());
  EXPECT_EQ(summary.sessions, 1u);
  EXPECT_EQ(summary.deliveries, 2u);
  executor_.drain();

  auto c = std::make_unique<FakeClient>(b.shard(0), mqtt::Version::v5);
  mqtt::Connect hello;
  hello.client_id = "sub";
  hello.clean_start = false;
  hello.properties.session_expiry_interval = 3600;
  c->write(hello);
  executor_.drain();
  commit();
  const auto packets = c->take();
  const auto connack = only<mqtt::Connack>(packets);
  ASSERT_EQ(connack.size(), 1u);
  EXPECT_TRUE(connack[0].session_present);
  const auto pubs = only<mqtt::Publish>(packets);
  ASSERT_EQ(pubs.size(), 1u);
  EXPECT_TRUE(pubs[0].dup);
  EXPECT_EQ(pubs[0].packet_id, 11);  // seq 10 % 65535 + 1
  const auto rels = only<mqtt::PubAck>(packets);
  ASSERT_EQ(rels.size(), 1u);
  EXPECT_EQ(rels[0].type, PacketType::pubrel);
  EXPECT_EQ(rels[0].packet_id, 12);

  // The recovered subscription routes, and the QoS 2 id 77 is a duplicate.
  mqtt::Publish dup{true, 2, false, "t", 77, "again", {}};
  c->write(dup);
  executor_.drain();
  commit();
  auto after = c->take();
  EXPECT_TRUE(only<mqtt::Publish>(after).empty()) << "a duplicate was routed again";
  EXPECT_EQ(only<mqtt::PubAck>(after).size(), 1u);  // PUBREC
  // Fresh messages get ids above the recovered ones.
  auto pub = connect(1, "pub");
  publish(*pub, "t", "new", 1);
  commit();
  const auto deliveries = store_.ops<store_op::SaveDelivery>();
  ASSERT_FALSE(deliveries.empty());
  EXPECT_GE(deliveries.back().message->id, 42u);
}

}  // namespace
}  // namespace allscene::broker::testing
