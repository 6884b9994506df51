// Counters kept per shard; written only by the shard's own loop (relaxed
// stores, no read-modify-write across cores) and summed by readers.
#pragma once

#include <atomic>
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

struct ShardStats {
  Counter connections_total;
  Counter connections_current;
  Counter messages_received;
  Counter messages_sent;
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
  Counter outbound_bytes;         // gauge: bytes in connection write buffers
  Counter paused_reads;           // connections not read because memory is high
  Counter quota_refused;          // connects and publishes refused by a quota
  Counter access_denied;          // publishes and subscriptions refused by access control
  // Message bytes routed to other shards / received from them; the sums'
  // difference is what sits in loop queues between shards.
  Counter crossing_out;
  Counter crossing_in;
};

}  // namespace allscene::broker
