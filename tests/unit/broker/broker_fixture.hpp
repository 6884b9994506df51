// A broker with N shards driven by hand: tasks queue per shard and run when
// the test says, clients are fake transports that decode what they receive.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "broker/broker.hpp"
#include "broker/connection.hpp"
#include "broker/manual_executor.hpp"
#include "mqtt/codec.hpp"

namespace allscene::broker::testing {

// Runs every shard's queued tasks; fails the test on a livelock.
class TestExecutor {
 public:
  explicit TestExecutor(std::size_t shards) : executor_(shards) {}
  operator Executor&() { return executor_; }
  void drain() {
    if (!executor_.drain()) ADD_FAILURE() << "executor did not settle";
  }

 private:
  ManualExecutor executor_;
};

class FakeClient final : public Transport {
 public:
  FakeClient(Shard& shard, mqtt::Version version) : version_(version) {
    PeerInfo peer;
    peer.address = "127.0.0.1:1";
    peer.ip = "127.0.0.1";
    peer.loopback = peer.allow_anonymous = true;
    peer.listener = "t";
    connection = std::make_unique<Connection>(shard, *this, std::move(peer), Clock::now());
  }
  void send(std::span<const std::uint8_t> bytes) override {
    received_.insert(received_.end(), bytes.begin(), bytes.end());
  }
  void send_publish(std::span<const std::uint8_t> header, const MessagePtr& m) override {
    send(header);
    received_.insert(received_.end(), m->payload.begin(), m->payload.end());
  }
  void close() override { closed = true; }
  std::size_t buffered_bytes() const override { return congested ? SIZE_MAX : 0; }

  void write(const mqtt::Packet& packet, TimePoint now = Clock::now()) {
    std::vector<std::uint8_t> bytes;
    mqtt::encode(packet, version_, bytes);
    connection->on_data(bytes, now);
  }
  // Decodes everything received since the last call.
  std::vector<mqtt::Packet> take() {
    std::vector<mqtt::Packet> out;
    std::span<const std::uint8_t> rest(received_);
    while (!rest.empty()) {
      auto f = mqtt::frame(rest, 1 << 28);
      if (f.status != mqtt::FrameStatus::complete) break;
      auto r = mqtt::decode(rest.first(f.size), version_);
      EXPECT_TRUE(r.ok()) << (r.error ? r.error->what : "");
      out.push_back(std::move(r.packet));
      rest = rest.subspan(f.size);
    }
    received_.clear();
    return out;
  }

  std::unique_ptr<Connection> connection;
  bool closed = false;
  bool congested = false;  // pretend the write buffer is full

 private:
  mqtt::Version version_;
  std::vector<std::uint8_t> received_;
};

template <typename T>
std::vector<T> only(const std::vector<mqtt::Packet>& packets) {
  std::vector<T> out;
  for (const auto& p : packets) {
    if (auto* x = std::get_if<T>(&p)) out.push_back(*x);
  }
  return out;
}

class BrokerTest : public ::testing::Test {
 protected:
  explicit BrokerTest(std::size_t shards = 2) : executor_(shards) {}

  Broker& broker() {
    if (!broker_) broker_ = std::make_unique<Broker>(limits_, executor_, access_);
    return *broker_;
  }

  std::unique_ptr<FakeClient> connect(std::size_t shard, const std::string& client_id,
                                      mqtt::Version v = mqtt::Version::v5, bool clean = true,
                                      std::uint32_t expiry = 0) {
    auto c = std::make_unique<FakeClient>(broker().shard(shard), v);
    mqtt::Connect connect;
    connect.version = v;
    connect.client_id = client_id;
    connect.clean_start = clean;
    if (v == mqtt::Version::v5 && expiry) connect.properties.session_expiry_interval = expiry;
    c->write(connect);
    executor_.drain();
    return c;
  }

  void subscribe(FakeClient& c, const std::string& filter, std::uint8_t qos = 1,
                 std::uint32_t sub_id = 0) {
    mqtt::Subscribe s;
    s.packet_id = next_id_++;
    s.subscriptions.push_back({filter, {qos, false, false, 0}});
    if (sub_id) s.properties.subscription_identifiers.push_back(sub_id);
    c.write(s);
    executor_.drain();
  }

  // A connected client subscribed to `filter`, its CONNACK and SUBACK taken.
  std::unique_ptr<FakeClient> subscriber(std::size_t shard, const std::string& client_id,
                                         const std::string& filter, std::uint8_t qos = 1) {
    auto c = connect(shard, client_id);
    subscribe(*c, filter, qos);
    c->take();
    return c;
  }
  void publish(FakeClient& c, const std::string& topic, const std::string& payload,
               std::uint8_t qos = 0, bool retain = false) {
    mqtt::Publish p;
    p.topic = topic;
    p.payload = payload;
    p.qos = qos;
    p.retain = retain;
    p.packet_id = qos ? next_id_++ : 0;
    c.write(p);
    executor_.drain();
  }

  Limits limits_;
  TestExecutor executor_;
  AllowAll access_;
  std::unique_ptr<Broker> broker_;
  std::uint16_t next_id_ = 1;
};

}  // namespace allscene::broker::testing
