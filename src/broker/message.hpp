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

  bool expired(TimePoint now) const { return expires_at && now >= *expires_at; }
  // Remaining Message Expiry Interval to forward (§3.3.2.3.3), whole seconds.
  std::optional<std::uint32_t> remaining_expiry(TimePoint now) const;
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace allscene::broker
