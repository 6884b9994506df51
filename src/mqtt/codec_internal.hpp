// Internal to the codec: the property table (§2.2.2.2) and fixed-header
// parsing shared by frame(), decode() and encode().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mqtt/properties.hpp"
#include "mqtt/types.hpp"

namespace allscene::mqtt::detail {

inline constexpr std::uint32_t kMaxVbi = 268'435'455;  // §1.5.5
inline constexpr std::size_t kMaxString = 65'535;       // §1.5.4, §1.5.6

// The places a property may appear. Will properties are a place of their own;
// the four PUBLISH acknowledgements share one.
enum PropertyPlace : std::uint16_t {
  kInConnect = 1u << 0,
  kInConnack = 1u << 1,
  kInPublish = 1u << 2,
  kInWill = 1u << 3,
  kInPubAck = 1u << 4,
  kInSubscribe = 1u << 5,
  kInSuback = 1u << 6,
  kInUnsubscribe = 1u << 7,
  kInUnsuback = 1u << 8,
  kInDisconnect = 1u << 9,
  kInAuth = 1u << 10,
};

enum class PropertyType : std::uint8_t {
  none,
  byte,
  two_byte,
  four_byte,
  vbi,
  utf8,
  binary,
  utf8_pair,
};

struct PropertyRule {
  PropertyType type = PropertyType::none;
  std::uint16_t places = 0;
};

inline constexpr std::size_t kPropertyIdLimit = 0x2B;

inline constexpr std::array<PropertyRule, kPropertyIdLimit> kPropertyRules = [] {
  std::array<PropertyRule, kPropertyIdLimit> t{};
  auto set = [&t](PropertyId id, PropertyType type, unsigned places) {
    t[static_cast<std::uint8_t>(id)] = {type, static_cast<std::uint16_t>(places)};
  };
  using P = PropertyId;
  using T = PropertyType;
  constexpr unsigned kMessage = kInPublish | kInWill;
  constexpr unsigned kAcks = kInConnack | kInPubAck | kInSuback | kInUnsuback | kInDisconnect |
                             kInAuth;
  set(P::payload_format_indicator, T::byte, kMessage);
  set(P::message_expiry_interval, T::four_byte, kMessage);
  set(P::content_type, T::utf8, kMessage);
  set(P::response_topic, T::utf8, kMessage);
  set(P::correlation_data, T::binary, kMessage);
  set(P::subscription_identifier, T::vbi, kInPublish | kInSubscribe);
  set(P::session_expiry_interval, T::four_byte, kInConnect | kInConnack | kInDisconnect);
  set(P::assigned_client_identifier, T::utf8, kInConnack);
  set(P::server_keep_alive, T::two_byte, kInConnack);
  set(P::authentication_method, T::utf8, kInConnect | kInConnack | kInAuth);
  set(P::authentication_data, T::binary, kInConnect | kInConnack | kInAuth);
  set(P::request_problem_information, T::byte, kInConnect);
  set(P::will_delay_interval, T::four_byte, kInWill);
  set(P::request_response_information, T::byte, kInConnect);
  set(P::response_information, T::utf8, kInConnack);
  set(P::server_reference, T::utf8, kInConnack | kInDisconnect);
  set(P::reason_string, T::utf8, kAcks);
  set(P::receive_maximum, T::two_byte, kInConnect | kInConnack);
  set(P::topic_alias_maximum, T::two_byte, kInConnect | kInConnack);
  set(P::topic_alias, T::two_byte, kInPublish);
  set(P::maximum_qos, T::byte, kInConnack);
  set(P::retain_available, T::byte, kInConnack);
  set(P::user_property, T::utf8_pair, 0x7FF);  // every place
  set(P::maximum_packet_size, T::four_byte, kInConnect | kInConnack);
  set(P::wildcard_subscription_available, T::byte, kInConnack);
  set(P::subscription_identifier_available, T::byte, kInConnack);
  set(P::shared_subscription_available, T::byte, kInConnack);
  return t;
}();

constexpr bool property_allowed(PropertyId id, std::uint16_t place) {
  const auto i = static_cast<std::uint8_t>(id);
  return i < kPropertyIdLimit && (kPropertyRules[i].places & place) != 0;
}

enum class HeaderStatus { ok, incomplete, malformed };
struct FixedHeader {
  std::uint8_t first_byte = 0;
  std::uint32_t remaining_length = 0;
  std::size_t size = 0;  // first byte plus the remaining length's bytes
};
// Reads the fixed header at the front of `buffer`: at most 4 length bytes,
// minimally encoded (§1.5.5).
HeaderStatus parse_fixed_header(std::span<const std::uint8_t> buffer, FixedHeader& header);

}  // namespace allscene::mqtt::detail
