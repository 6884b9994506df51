// Broker limits with their safe defaults (documented in docs/configuration.md).
#pragma once

#include <cstdint>

#include "broker/quota.hpp"

namespace allscene::broker {

struct Limits {
  std::uint32_t max_packet_size = 1024 * 1024;  // bytes, both directions
  std::uint32_t max_topic_length = 4096;        // bytes
  std::uint32_t max_topic_levels = 128;
  std::uint32_t max_subscriptions_per_client = 10000;
  std::uint32_t max_queued_messages = 10000;      // per session, QoS 1/2
  std::uint16_t max_inflight = 64;                // Receive Maximum both ways
  std::uint16_t topic_alias_maximum = 64;         // client-to-server aliases
  std::uint16_t max_keep_alive = 65535;           // seconds; 0 is allowed by clients
  std::uint32_t max_session_expiry = 0xFFFFFFFF;  // seconds; 0xFFFFFFFF: never
  std::uint32_t max_client_id_length = 256;
  // Backpressure and memory bounds (docs/operations.md).
  std::uint64_t max_queued_bytes = 16 * 1024 * 1024;       // per session, QoS 1/2 payload+topic
  bool drop_oldest = false;                                // full queue: drop oldest, not newest
  std::uint64_t max_outbound_bytes = 4 * 1024 * 1024;      // per connection write buffer
  std::uint64_t memory_high_water = 512ull * 1024 * 1024;  // stop reading sockets above
  std::uint64_t memory_low_water = 384ull * 1024 * 1024;   // resume reading below
  std::uint32_t sys_interval = 10;                         // seconds between $SYS updates; 0: none
  Quota quota;  // every listener's, unless it sets its own (PeerInfo::quota)
  // A 3.1.1 PUBLISH that access control denies: acknowledged and dropped
  // (false), or the connection is closed (true); 3.1.1 §3.3.5 allows both.
  bool close_on_denied_publish_v311 = false;
};

}  // namespace allscene::broker
