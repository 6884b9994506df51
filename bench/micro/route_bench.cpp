// Routing one PUBLISH to 1,000 subscribers through the broker without
// sockets: a manual executor runs the shards' tasks, fake transports count
// the bytes they are given.
#include <benchmark/benchmark.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker.hpp"
#include "broker/connection.hpp"
#include "broker/manual_executor.hpp"
#include "mqtt/codec.hpp"

namespace {

using namespace allscene;
using broker::Clock;

using broker::ManualExecutor;

class SinkClient final : public broker::Transport {
 public:
  SinkClient(broker::Shard& shard, mqtt::Version v) : version_(v) {
    connection = std::make_unique<broker::Connection>(
        shard, *this,
        broker::PeerInfo{.address = "127.0.0.1:1", .loopback = true, .listener = "bench"},
        Clock::now());
  }
  void send(std::span<const std::uint8_t> bytes) override { bytes_ += bytes.size(); }
  void send_publish(std::span<const std::uint8_t> header, const broker::MessagePtr& m) override {
    bytes_ += header.size() + m->payload.size();
    ++publishes;
  }
  void close() override {}
  std::size_t buffered_bytes() const override { return 0; }
  void write(const mqtt::Packet& packet) {
    std::vector<std::uint8_t> bytes;
    mqtt::encode(packet, version_, bytes);
    connection->on_data(bytes, Clock::now());
  }

  std::unique_ptr<broker::Connection> connection;
  std::uint64_t publishes = 0;

 private:
  mqtt::Version version_;
  std::uint64_t bytes_ = 0;
};

void BM_RouteToSubscribers(benchmark::State& state) {
  const auto shards = static_cast<std::size_t>(state.range(0));
  const auto subscribers = static_cast<std::size_t>(state.range(1));
  const auto qos = static_cast<std::uint8_t>(state.range(2));
  const auto v = mqtt::Version::v5;
  broker::Limits limits;
  ManualExecutor executor(shards);
  broker::AllowAll access;
  broker::Broker b(limits, executor, access);
  std::vector<std::unique_ptr<SinkClient>> subs;
  for (std::size_t i = 0; i < subscribers; ++i) {
    auto c = std::make_unique<SinkClient>(b.shard(i % shards), v);
    mqtt::Connect connect;
    connect.client_id = "sub" + std::to_string(i);
    c->write(connect);
    mqtt::Subscribe s;
    s.packet_id = 1;
    s.subscriptions.push_back({"bench/fan/out", {qos, false, false, 0}});
    c->write(s);
    executor.drain();
    subs.push_back(std::move(c));
  }
  SinkClient pub(b.shard(0), v);
  mqtt::Connect connect;
  connect.client_id = "pub";
  pub.write(connect);
  executor.drain();

  mqtt::Publish p;
  p.topic = "bench/fan/out";
  p.payload = std::string(64, 'x');
  std::vector<std::uint8_t> bytes;
  mqtt::encode(p, v, bytes);
  for (auto _ : state) {
    pub.connection->on_data(bytes, Clock::now());
    executor.drain();
  }
  std::uint64_t delivered = 0;
  for (auto& s : subs) delivered += s->publishes;
  state.counters["deliveries_per_publish"] =
      static_cast<double>(delivered) / static_cast<double>(state.iterations());
  state.counters["deliveries_per_s"] =
      benchmark::Counter(static_cast<double>(delivered), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RouteToSubscribers)
    ->ArgNames({"shards", "subs", "qos"})
    ->Args({1, 1000, 0})
    ->Args({2, 1000, 0})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
