// The codec on the PUBLISH hot path: decode an inbound PUBLISH, encode the
// header of an outbound one.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "mqtt/codec.hpp"

namespace {

using namespace allscene;

std::vector<std::uint8_t> sample_publish(mqtt::Version v, std::uint8_t qos) {
  mqtt::Publish p;
  p.qos = qos;
  p.packet_id = qos ? 42 : 0;
  p.topic = "devices/dev004711/messages/events/telemetry";
  p.payload = std::string(64, 'x');
  std::vector<std::uint8_t> out;
  mqtt::encode(p, v, out);
  return out;
}

void BM_DecodePublish(benchmark::State& state) {
  const auto v = state.range(0) == 5 ? mqtt::Version::v5 : mqtt::Version::v311;
  const auto bytes = sample_publish(v, static_cast<std::uint8_t>(state.range(1)));
  for (auto _ : state) {
    auto f = mqtt::frame(bytes, 1 << 20);
    auto r = mqtt::decode(std::span(bytes).first(f.size), v);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}
BENCHMARK(BM_DecodePublish)->ArgNames({"mqtt", "qos"})->Args({5, 0})->Args({5, 1})->Args({4, 1});

void BM_EncodePublishHeader(benchmark::State& state) {
  const auto v = state.range(0) == 5 ? mqtt::Version::v5 : mqtt::Version::v311;
  std::vector<std::uint8_t> out;
  out.reserve(256);
  const std::uint32_t sub_ids[] = {7};
  mqtt::PublishHeader h;
  h.qos = 1;
  h.packet_id = 42;
  h.topic = "devices/dev004711/messages/events/telemetry";
  h.payload_size = 64;
  if (state.range(1)) h.subscription_identifiers = sub_ids;
  for (auto _ : state) {
    out.clear();
    mqtt::encode_publish_header(h, v, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_EncodePublishHeader)
    ->ArgNames({"mqtt", "sub_id"})
    ->Args({5, 0})
    ->Args({5, 1})
    ->Args({4, 0});

}  // namespace
