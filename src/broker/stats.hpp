// Counters kept per shard; written only by the shard's own loop (relaxed
// stores, no read-modify-write across cores) and summed by readers.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace allscene::broker {

struct Counter {
  std::atomic<std::uint64_t> value{0};
  void add(std::uint64_t n = 1) {
    value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(std::uint64_t n = 1) {
    value.store(value.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  std::uint64_t get() const { return value.load(std::memory_order_relaxed); }
};

// Latencies in fixed buckets (upper bounds in seconds, Prometheus-style
// `le`), written by one thread like Counter; readers sum shards.
struct LatencyHistogram {
  static constexpr std::array<double, 12> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1,    2.5};
  std::array<Counter, kBounds.size() + 1> buckets;  // per bucket, not cumulative; last: +Inf
  Counter sum_ns;

  void observe(std::chrono::nanoseconds elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    buckets[i].add();
    sum_ns.add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, elapsed.count())));
  }
};

// A LatencyHistogram read out (summed over its writers).
struct LatencySnapshot {
  std::array<std::uint64_t, LatencyHistogram::kBounds.size() + 1> buckets{};
  std::uint64_t sum_ns = 0;

  void add(const LatencyHistogram& h) {
    for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += h.buckets[i].get();
    sum_ns += h.sum_ns.get();
  }
  std::uint64_t count() const {
    std::uint64_t n = 0;
    for (const auto b : buckets) n += b;
    return n;
  }
};

struct ShardStats {
  Counter connections_total;
  Counter connections_current;
  Counter messages_received;
  Counter messages_sent;
  std::array<Counter, 3> received_by_qos;  // PUBLISH packets from clients, by their QoS
  std::array<Counter, 3> sent_by_qos;      // PUBLISH packets to clients, by their QoS
  Counter bytes_received;
  Counter bytes_sent;
  Counter protocol_errors;
  Counter dropped_queue_full;
  Counter dropped_expired;
  Counter dropped_too_large;
  Counter dropped_qos0_offline;
  Counter dropped_no_session;
  Counter dropped_slow_consumer;  // QoS 0 to a connection whose write buffer is full
  Counter sessions;               // gauge
  Counter subscriptions;          // gauge
  Counter queued_bytes;           // gauge: QoS 1/2 bytes in session queues
  Counter queued_messages;        // gauge: messages in session queues
  Counter inflight;               // gauge: QoS 1/2 messages sent and not yet acknowledged
  Counter outbound_bytes;         // gauge: bytes in connection write buffers
  Counter paused_reads;           // connections not read because memory is high
  Counter quota_refused;          // connects and publishes refused by a quota
  Counter access_denied;          // publishes and subscriptions refused by access control
  Counter auth_failures;          // CONNECTs refused: bad credentials, unknown or disabled identity
  // QoS 1/2 PUBLISHes whose acknowledgement waited for the store: arrival
  // to PUBACK/PUBREC.
  LatencyHistogram ack_latency;
  // Message bytes routed to other shards / received from them; the sums'
  // difference is what sits in loop queues between shards.
  Counter crossing_out;
  Counter crossing_in;
};

}  // namespace allscene::broker
