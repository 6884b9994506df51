// Topic match with 1M subscriptions: 90% exact filters of 3-7 levels over a
// space of device ids, 10% with '+' or '#' (issue 4 target: < 2 us per
// publish on one core).
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "broker/subscription_index.hpp"

namespace {

using namespace allscene;

constexpr const char* kApps[] = {"home", "car", "plant", "office", "city", "farm", "fleet", "lab"};
constexpr const char* kWords[] = {"telemetry", "state", "cmd",   "cfg",     "evt", "temp",
                                  "power",     "door",  "light", "battery", "gps", "alarm"};
constexpr std::uint32_t kDevices = 200000;

// app/devNNNNNN/word[/word...]: 3 to 7 levels.
std::string random_topic(std::mt19937_64& rng) {
  std::string t = kApps[rng() % std::size(kApps)];
  t += "/dev" + std::to_string(rng() % kDevices);
  const int levels = 3 + static_cast<int>(rng() % 5);
  for (int i = 2; i < levels; ++i) {
    t += '/';
    t += kWords[rng() % std::size(kWords)];
  }
  return t;
}

std::string wildcard_of(std::string topic, std::mt19937_64& rng) {
  std::vector<std::size_t> slashes;
  for (std::size_t i = 0; i < topic.size(); ++i) {
    if (topic[i] == '/') slashes.push_back(i);
  }
  if (rng() % 2 == 0) {  // "app/devN/#" or deeper: everything of one device
    const auto k = 1 + rng() % (slashes.size() - 1);
    return topic.substr(0, slashes[k]) + "/#";
  }
  // One level (the device id or a later one) becomes '+'.
  const auto k = rng() % slashes.size();
  const auto begin = slashes[k] + 1;
  const auto end = k + 1 < slashes.size() ? slashes[k + 1] : topic.size();
  return topic.substr(0, begin) + "+" + topic.substr(end);
}

struct Fixture {
  broker::SubscriptionIndex index;
  std::vector<std::string> topics;
  // Distinct owners: matching compares the pointers, never follows them.
  std::unique_ptr<std::byte[]> owners;
};

Fixture& fixture(std::size_t subscriptions) {
  static std::unique_ptr<Fixture> f;
  static std::size_t built = 0;
  if (f && built == subscriptions) return *f;
  f = std::make_unique<Fixture>();
  built = subscriptions;
  std::mt19937_64 rng(4);
  f->owners = std::make_unique<std::byte[]>(subscriptions);
  for (std::size_t i = 0; i < subscriptions; ++i) {
    auto filter = random_topic(rng);
    if (i % 10 == 0) filter = wildcard_of(std::move(filter), rng);
    broker::Subscriber s;
    s.session = reinterpret_cast<broker::Session*>(&f->owners[i]);
    f->index.insert(filter, s);
  }
  for (int i = 0; i < 8192; ++i) f->topics.push_back(random_topic(rng));
  return *f;
}

void BM_Match(benchmark::State& state) {
  auto& f = fixture(static_cast<std::size_t>(state.range(0)));
  std::vector<broker::Subscriber> out;
  out.reserve(1024);
  std::size_t i = 0, matched = 0;
  for (auto _ : state) {
    out.clear();
    f.index.match(f.topics[i++ & 8191], out);
    matched += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["subscriptions"] = static_cast<double>(f.index.size());
  state.counters["matches_per_publish"] =
      static_cast<double>(matched) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Match)->ArgName("subs")->Arg(1000)->Arg(1000000)->Unit(benchmark::kNanosecond);

}  // namespace
