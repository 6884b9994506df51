// The broker's plug-in points, driven with fakes: access control decides
// every CONNECT, PUBLISH and SUBSCRIBE; topic handlers claim a topic space.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <thread>

#include "broker/local_client.hpp"
#include "broker_fixture.hpp"

namespace allscene::broker::testing {
namespace {

using mqtt::ReasonCode;

class DenyTopics final : public AccessControl {
 public:
  AuthResult authenticate(const PeerInfo&, const mqtt::Connect& c) override {
    if (c.username == std::string("bad")) return {ReasonCode::bad_user_name_or_password, {}};
    return {ReasonCode::success, c.username.value_or("")};
  }
  bool may_publish(std::string_view identity, std::string_view, std::string_view topic) override {
    last_identity = identity;
    return !topic.starts_with("secret/");
  }
  bool may_subscribe(std::string_view, std::string_view, std::string_view filter) override {
    return !filter.starts_with("secret/");
  }
  std::string last_identity;
};

class AccessTest : public BrokerTest {
 protected:
  std::unique_ptr<FakeClient> connect_as(const std::string& user, mqtt::Version v) {
    broker_ = std::make_unique<Broker>(limits_, executor_, deny_);
    auto c = std::make_unique<FakeClient>(broker_->shard(0), v);
    mqtt::Connect conn;
    conn.version = v;
    conn.client_id = "c-" + user;
    conn.username = user;
    c->write(conn);
    executor_.drain();
    return c;
  }
  DenyTopics deny_;
};

// [MQTT-3.1.4-2] [MQTT-3.2.2-7]
TEST_F(AccessTest, WrongCredentialsGetConnack86AndClose_3_2_2_2) {
  auto c = connect_as("bad", mqtt::Version::v5);
  auto acks = only<mqtt::Connack>(c->take());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::bad_user_name_or_password);
  EXPECT_TRUE(c->closed);
}

// [MQTT-3.8.4-7] the SUBACK code shows the failure.
TEST_F(AccessTest, DeniedPublishAndSubscribeGet87) {
  auto c = connect_as("alice", mqtt::Version::v5);
  c->take();
  subscribe(*c, "secret/#", 1);
  EXPECT_EQ(only<mqtt::Suback>(c->take())[0].reason_codes, std::vector{ReasonCode::not_authorized});
  publish(*c, "secret/x", "p", 1);
  auto acks = only<mqtt::PubAck>(c->take());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::not_authorized);
  EXPECT_EQ(deny_.last_identity, "alice");
}

// A device that is disabled or removed loses its live connections: on every
// loop, with DISCONNECT 0x98 (Administrative action) under v5; others stay.
TEST_F(AccessTest, DisconnectIdentityEndsOnlyThatIdentitysConnections) {
  auto a = connect_as("dev-a", mqtt::Version::v5);
  auto b = std::make_unique<FakeClient>(broker_->shard(1), mqtt::Version::v5);
  mqtt::Connect conn;
  conn.client_id = "c-dev-a-2";
  conn.username = "dev-a";
  b->write(conn);
  mqtt::Connect other;
  other.client_id = "c-dev-b";
  other.username = "dev-b";
  auto c = std::make_unique<FakeClient>(broker_->shard(1), mqtt::Version::v5);
  c->write(other);
  executor_.drain();
  a->take();
  b->take();
  c->take();
  broker_->disconnect_identity("dev-a", ReasonCode::administrative_action);
  executor_.drain();
  for (auto* gone : {a.get(), b.get()}) {
    const auto bye = only<mqtt::Disconnect>(gone->take());
    ASSERT_EQ(bye.size(), 1u);
    EXPECT_EQ(bye[0].reason_code, ReasonCode::administrative_action);
    EXPECT_TRUE(gone->closed);
  }
  EXPECT_FALSE(c->closed);
}

// [v3.1.1 MQTT-3.3.5-2] an unauthorised PUBLISH is acknowledged normally.
TEST_F(AccessTest, DeniedPublishUnder311IsAckedAndDiscarded) {
  auto watcher = connect_as("w", mqtt::Version::v311);
  // Subscribing with a filter the fake allows, to see nothing arrives.
  subscribe(*watcher, "#", 1);
  watcher->take();
  auto c = std::make_unique<FakeClient>(broker_->shard(1), mqtt::Version::v311);
  mqtt::Connect conn;
  conn.version = mqtt::Version::v311;
  conn.client_id = "pub311";
  c->write(conn);
  executor_.drain();
  c->take();
  publish(*c, "secret/y", "p", 1);
  auto acks = only<mqtt::PubAck>(c->take());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::success);
  EXPECT_TRUE(only<mqtt::Publish>(watcher->take()).empty());
}

// [v3.1.1 MQTT-3.3.5-2] or, as configured, the connection is closed; every
// denial is counted.
TEST_F(AccessTest, DeniedPublishUnder311ClosesWhenConfigured) {
  limits_.close_on_denied_publish_v311 = true;
  auto c = connect_as("carol", mqtt::Version::v311);
  c->take();
  publish(*c, "secret/z", "p", 1);
  EXPECT_TRUE(only<mqtt::PubAck>(c->take()).empty());
  EXPECT_TRUE(c->closed);
  EXPECT_EQ(broker_->totals().access_denied, 1u);
}

class EchoHandler final : public TopicHandler {
 public:
  std::string_view prefix() const override { return "$echo/"; }
  void on_publish(std::string_view client_id, std::string_view, const mqtt::Publish& p,
                  HandlerReply& reply) override {
    reply.publish("$echo/reply/" + std::string(client_id), p.payload, {});
  }
};

TEST_F(BrokerTest, TopicHandlerAnswersOnTheSameConnectionAndIsNotRouted) {
  EchoHandler echo;
  broker().add_topic_handler(echo);
  auto spy = connect(1, "spy");
  subscribe(*spy, "$echo/#", 0);
  spy->take();
  auto c = connect(0, "dev");
  c->take();
  publish(*c, "$echo/ping", "hi", 1);
  auto packets = c->take();
  auto replies = only<mqtt::Publish>(packets);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].topic, "$echo/reply/dev");
  EXPECT_EQ(replies[0].payload, "hi");
  EXPECT_EQ(only<mqtt::PubAck>(packets).size(), 1u);
  EXPECT_TRUE(only<mqtt::Publish>(spy->take()).empty());
  publish(*c, "$echo/ping", "q2", 2);  // handler topics take QoS 0/1 only
  auto d = only<mqtt::Disconnect>(c->take());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::qos_not_supported);
}

std::shared_ptr<Message> hub_message(std::string topic, std::string payload, std::uint8_t qos) {
  auto m = std::make_shared<Message>();
  m->topic = std::move(topic);
  m->payload = std::move(payload);
  m->qos = qos;
  return m;
}

TEST_F(BrokerTest, SendToClientReachesOnlyThatClientsMatchingSubscription) {
  auto dev = subscriber(1, "dev", "$iothub/methods/POST/#");
  auto other = subscriber(0, "other", "$iothub/methods/POST/#");
  std::vector<bool> results;
  auto record = [&](bool delivered) { results.push_back(delivered); };
  broker().send_to_client("dev", hub_message("$iothub/methods/POST/ring/?$rid=1", "{}", 0), record);
  broker().send_to_client("dev", hub_message("$iothub/twin/res/200/?$rid=2", "{}", 0), record);
  broker().send_to_client("nobody", hub_message("$iothub/methods/POST/x/?$rid=3", "", 0), record);
  executor_.drain();
  EXPECT_EQ(results, (std::vector<bool>{false, true, false}));  // "nobody" answers at once
  auto got = only<mqtt::Publish>(dev->take());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "$iothub/methods/POST/ring/?$rid=1");
  EXPECT_EQ(got[0].qos, 0);
  EXPECT_TRUE(only<mqtt::Publish>(other->take()).empty());
}

TEST_F(BrokerTest, SendToClientSkipsAnOfflineSession) {
  auto dev = connect(0, "dev", mqtt::Version::v5, true, 600);
  subscribe(*dev, "$iothub/#", 1);
  mqtt::Disconnect bye;
  dev->write(bye);
  executor_.drain();
  bool delivered = true;
  broker().send_to_client("dev", hub_message("$iothub/twin/res/200/?$rid=1", "{}", 0),
                          [&](bool d) { delivered = d; });
  executor_.drain();
  EXPECT_FALSE(delivered);
}

TEST_F(BrokerTest, InjectRoutesLikeAClientPublishAndReportsCompletion) {
  auto a = subscriber(0, "a", "devices/+/messages/devicebound/#");
  auto b = subscriber(1, "b", "devices/lamp/messages/devicebound/#");
  int done = 0;
  broker().inject(hub_message("devices/lamp/messages/devicebound/k=v", "on", 1), [&](bool ok) {
    EXPECT_TRUE(ok);
    ++done;
  });
  executor_.drain();
  EXPECT_EQ(done, 1);
  for (auto* c : {a.get(), b.get()}) {
    auto got = only<mqtt::Publish>(c->take());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].payload, "on");
    EXPECT_EQ(got[0].qos, 1);
  }
}

TEST_F(BrokerTest, ReceiptsTellWhenASubscriberAcknowledgedOrTheMessageExpired) {
  std::vector<std::pair<std::string, bool>> receipts;
  broker().set_receipt_handler([&](const std::string& client, const MessagePtr& m, bool ok) {
    EXPECT_EQ(m->payload, "on");
    receipts.emplace_back(client, ok);
  });
  auto lamp = subscriber(1, "lamp", "devices/lamp/messages/devicebound/#");
  auto away = connect(0, "away", mqtt::Version::v5, true, 600);
  subscribe(*away, "devices/lamp/messages/devicebound/#", 1);
  mqtt::Disconnect bye;
  away->write(bye);
  executor_.drain();
  auto m = hub_message("devices/lamp/messages/devicebound/x=1", "on", 1);
  m->receipt = true;
  m->expires_at = Clock::now() + std::chrono::milliseconds(50);
  broker().inject(m, nullptr);
  executor_.drain();
  EXPECT_TRUE(receipts.empty()) << "not acknowledged yet";
  auto got = only<mqtt::Publish>(lamp->take());
  ASSERT_EQ(got.size(), 1u);
  lamp->write(mqtt::PubAck{mqtt::PacketType::puback, got[0].packet_id, ReasonCode::success, {}});
  executor_.drain();
  ASSERT_EQ(receipts, (std::vector<std::pair<std::string, bool>>{{"lamp", true}}));
  // "away" is offline; its copy expires in its queue.
  const auto later = Clock::now() + std::chrono::seconds(1);
  broker().shard(0).tick(later);
  auto again = connect(0, "away", mqtt::Version::v5, false, 600);
  executor_.drain();
  ASSERT_EQ(receipts.size(), 2u);
  EXPECT_EQ(receipts[1], (std::pair<std::string, bool>{"away", false}));
}

TEST_F(BrokerTest, LocalClientReceivesWhatItSubscribedToUntilStopped) {
  std::vector<std::string> got;
  std::vector<mqtt::ReasonCode> ended;
  auto local = LocalClient::start(
      broker(), "svc-stream", {"devices/+/messages/events/#"},
      [&](const mqtt::Publish& p) { got.push_back(p.topic + "=" + p.payload); },
      [&](mqtt::ReasonCode r) { ended.push_back(r); });
  executor_.drain();
  auto dev = connect(1, "lamp");
  publish(*dev, "devices/lamp/messages/events/a=1", "21C", 1);
  publish(*dev, "devices/lamp/state", "ignored", 0);
  EXPECT_EQ(got, (std::vector<std::string>{"devices/lamp/messages/events/a=1=21C"}));
  local->set_backlog(SIZE_MAX);  // a consumer that fell behind: QoS 0 to it is dropped
  publish(*dev, "devices/lamp/messages/events/a=2", "22C", 0);
  EXPECT_EQ(got.size(), 1u);
  local->set_backlog(0);
  local->stop();
  executor_.drain();
  publish(*dev, "devices/lamp/messages/events/a=3", "23C", 0);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_TRUE(ended.empty()) << "stop() is not an end to report";
}

TEST_F(BrokerTest, LocalClientHearsWhyItEnded) {
  std::vector<mqtt::ReasonCode> ended;
  auto local = LocalClient::start(
      broker(), "svc-x", {"a/#"}, [](const mqtt::Publish&) {},
      [&](mqtt::ReasonCode r) { ended.push_back(r); });
  executor_.drain();
  auto thief = connect(0, "svc-x");  // takes the client id over
  EXPECT_EQ(ended, (std::vector<mqtt::ReasonCode>{ReasonCode::session_taken_over}));
  local->stop();
  executor_.drain();
}

// Each shard a thread of its own, as the hub's loops are.
class ThreadedExecutor final : public Executor {
 public:
  explicit ThreadedExecutor(std::size_t shards) {
    for (std::size_t i = 0; i < shards; ++i) {
      loops_.push_back(std::make_unique<boost::asio::io_context>());
      guards_.emplace_back(loops_.back()->get_executor());
    }
    for (auto& loop : loops_) threads_.emplace_back([&io = *loop] { io.run(); });
  }
  ~ThreadedExecutor() override {
    guards_.clear();
    for (auto& t : threads_) t.join();
  }
  std::size_t shard_count() const override { return loops_.size(); }
  void post(std::size_t shard, std::function<void()> task) override {
    boost::asio::post(*loops_[shard], std::move(task));
  }

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

TEST(UpdateLimits, ChangesWhileEveryLoopWaitsAtTheBarrier) {
  ThreadedExecutor loops(3);
  AllowAll access;
  Broker broker(Limits{}, loops, access);
  Limits next;
  next.max_queued_messages = 7;
  EXPECT_TRUE(broker.update_limits(next));
  EXPECT_EQ(broker.limits().max_queued_messages, 7u);
}

TEST(UpdateLimits, LoopsThatDoNotRunLeaveTheLimitsAlone) {
  ManualExecutor idle(2);  // nothing runs its tasks until drained
  AllowAll access;
  Broker broker(Limits{}, idle, access);
  Limits next;
  next.max_queued_messages = 7;
  EXPECT_FALSE(broker.update_limits(next, std::chrono::milliseconds(20)));
  EXPECT_NE(broker.limits().max_queued_messages, 7u);
  EXPECT_TRUE(idle.drain());  // the late barrier tasks return at once
}

}  // namespace
}  // namespace allscene::broker::testing
