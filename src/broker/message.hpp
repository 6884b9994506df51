// An application message as the broker routes it: immutable once published,
// shared by reference among every receiver (and every queue it sits in).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "mqtt/properties.hpp"

namespace allscene::broker {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

struct Message {
  std::string topic;
  std::string payload;
  std::uint8_t qos = 0;
  bool retain = false;
  // Forwarded properties (payload format, content type, response topic,
  // correlation data, user properties). Expiry is kept in expires_at.
  mqtt::Properties properties;
  std::optional<TimePoint> expires_at;
  std::string origin_client_id;  // for No Local (§3.8.3.1)
  // Identity in the session store: the body is stored once under it and
  // referenced by every persistent session the message is queued for.
  // 0 when there is no store or the message is QoS 0.
  std::uint64_t id = 0;
  // Inbound QoS 2 from a persistent session, routed by several event
  // loops that each commit their own part: its deliveries leave "done"
  // marks in the store until the publisher's PUBREL, so that start-up
  // after a crash can finish routing it to exactly the sessions whose
  // part never reached the disk (exactly once, §4.3.3).
  bool recoverable = false;
  // The hub wants to hear when a subscriber acknowledges it, or when it
  // expires undelivered (cloud-to-device delivery feedback). Not stored:
  // after a restart the message is still delivered, without feedback.
  bool receipt = false;

  bool expired(TimePoint now) const { return expires_at && now >= *expires_at; }
  // Remaining Message Expiry Interval to forward (§3.3.2.3.3), whole seconds.
  std::optional<std::uint32_t> remaining_expiry(TimePoint now) const;
};

using MessagePtr = std::shared_ptr<const Message>;

// Stored deadlines are wall-clock milliseconds since the Unix epoch, so
// they keep their meaning across a restart; in memory they are steady_clock.
std::int64_t to_wall_ms(TimePoint t);
TimePoint from_wall_ms(std::int64_t ms);

}  // namespace allscene::broker
