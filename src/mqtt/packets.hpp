// Decoded MQTT control packets (§3). The same structs serve 3.1.1 and 5;
// fields that 3.1.1 lacks (properties, most reason codes) stay at defaults.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mqtt/properties.hpp"
#include "mqtt/types.hpp"

namespace allscene::mqtt {

struct Will {
  std::string topic;
  std::string payload;
  std::uint8_t qos = 0;
  bool retain = false;
  Properties properties;  // will properties (§3.1.3.2)
  bool operator==(const Will&) const = default;
};

struct Connect {
  Version version = Version::v5;
  bool clean_start = true;  // "clean session" in 3.1.1
  std::uint16_t keep_alive = 0;
  std::string client_id;
  std::optional<Will> will;
  std::optional<std::string> username;
  std::optional<std::string> password;  // binary data
  Properties properties;
  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  // For 3.1.1 the encoder writes to_v311_return_code(reason_code).
  ReasonCode reason_code = ReasonCode::success;
  Properties properties;
  bool operator==(const Connack&) const = default;
};

struct Publish {
  bool dup = false;
  std::uint8_t qos = 0;
  bool retain = false;
  std::string topic;  // may be empty in v5 when a topic alias is set
  std::uint16_t packet_id = 0;  // 0 for QoS 0
  std::string payload;
  Properties properties;
  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape (§3.4–§3.7).
struct PubAck {
  PacketType type = PacketType::puback;
  std::uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::success;
  Properties properties;
  bool operator==(const PubAck&) const = default;
};

struct SubscribeOptions {
  std::uint8_t max_qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  std::uint8_t retain_handling = 0;  // 0 send, 1 send if new, 2 don't send
  bool operator==(const SubscribeOptions&) const = default;
};

struct TopicSubscription {
  std::string filter;
  SubscribeOptions options;
  bool operator==(const TopicSubscription&) const = default;
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  std::vector<TopicSubscription> subscriptions;
  Properties properties;
  bool operator==(const Subscribe&) const = default;
};

struct Suback {
  std::uint16_t packet_id = 0;
  // 3.1.1 encodes granted QoS 0/1/2 or 0x80 for failure (any error code).
  std::vector<ReasonCode> reason_codes;
  Properties properties;
  bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  std::vector<std::string> filters;
  Properties properties;
  bool operator==(const Unsubscribe&) const = default;
};

struct Unsuback {
  std::uint16_t packet_id = 0;
  std::vector<ReasonCode> reason_codes;  // not encoded for 3.1.1
  Properties properties;
  bool operator==(const Unsuback&) const = default;
};

struct Pingreq {
  bool operator==(const Pingreq&) const = default;
};
struct Pingresp {
  bool operator==(const Pingresp&) const = default;
};

struct Disconnect {
  ReasonCode reason_code = ReasonCode::success;
  Properties properties;
  bool operator==(const Disconnect&) const = default;
};

struct Auth {
  ReasonCode reason_code = ReasonCode::success;
  Properties properties;
  bool operator==(const Auth&) const = default;
};

using Packet = std::variant<Connect, Connack, Publish, PubAck, Subscribe, Suback, Unsubscribe,
                            Unsuback, Pingreq, Pingresp, Disconnect, Auth>;

}  // namespace allscene::mqtt
