// Bad input: each row is a packet that breaks one rule, and the reason code
// the specification requires for it (MQTT 5 §4.13, §2.2.2.2, §1.5.4 and the
// section named in the row).
#include "codec_test_util.hpp"

namespace allscene::mqtt::test {
namespace {

constexpr Version v5 = Version::v5;
constexpr Version v311 = Version::v311;
constexpr ReasonCode kMalformed = ReasonCode::malformed_packet;
constexpr ReasonCode kProtocol = ReasonCode::protocol_error;

struct BadPacket {
  const char* name;
  Version version;
  Bytes wire;
  ReasonCode expected;
};

void PrintTo(const BadPacket& b, std::ostream* os) { *os << b.name; }

// A v5 PUBLISH QoS 0 on topic "t" with the given property bytes.
Bytes publish_with_properties(const Bytes& props) {
  Bytes out{0x30, static_cast<std::uint8_t>(3 + 1 + props.size()), 0x00, 0x01, 't',
            static_cast<std::uint8_t>(props.size())};
  out.insert(out.end(), props.begin(), props.end());
  return out;
}

// A 3.1.1 PUBLISH QoS 0 whose topic is `topic` (raw bytes).
Bytes publish_topic(const Bytes& topic) {
  Bytes out{0x30, static_cast<std::uint8_t>(2 + topic.size()), 0x00,
            static_cast<std::uint8_t>(topic.size())};
  out.insert(out.end(), topic.begin(), topic.end());
  return out;
}

// A v5 CONNECT with the given flags byte, property bytes and payload bytes.
Bytes connect_v5(std::uint8_t flags, const Bytes& props, const Bytes& payload) {
  Bytes body{0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, flags, 0x00, 0x00,
             static_cast<std::uint8_t>(props.size())};
  body.insert(body.end(), props.begin(), props.end());
  body.insert(body.end(), payload.begin(), payload.end());
  Bytes out{0x10, static_cast<std::uint8_t>(body.size())};
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// A 3.1.1 CONNECT with the given flags byte and payload bytes.
Bytes connect_v311(std::uint8_t flags, const Bytes& payload) {
  Bytes body{0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, flags, 0x00, 0x00};
  body.insert(body.end(), payload.begin(), payload.end());
  Bytes out{0x10, static_cast<std::uint8_t>(body.size())};
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// A v5 SUBSCRIBE, packet id 1, no properties, one filter "t" with options.
Bytes subscribe_v5(std::uint8_t options) {
  return {0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 't', options};
}

const Bytes kClientIdA{0x00, 0x01, 'a'};

const BadPacket kBadPackets[] = {
    // ---- Fixed header and framing (§2.1, §1.5.5) ----
    {"truncated_body", v5, {0x10, 0x0F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05}, kMalformed},
    {"truncated_header", v5, {0x30}, kMalformed},
    {"empty_input", v5, {}, kMalformed},
    {"remaining_length_5_bytes", v5, {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, kMalformed},
    // [MQTT-1.5.5-1]
    {"remaining_length_not_minimal", v5, {0xC0, 0x80, 0x00}, kMalformed},
    {"trailing_bytes_pingreq", v5, {0xC0, 0x01, 0x00}, kMalformed},
    {"bytes_after_remaining_length", v5, {0xC0, 0x00, 0x00}, kMalformed},
    {"packet_type_0", v5, {0x00, 0x00}, kMalformed},
    {"auth_in_311", v311, {0xF0, 0x00}, kMalformed},
    // §2.1.3 reserved flags
    // [MQTT-2.1.3-1]
    {"reserved_flags_connect", v5, {0x11, 0x00}, kMalformed},
    // [MQTT-2.1.3-1]
    {"reserved_flags_puback", v5, {0x41, 0x02, 0x00, 0x01}, kMalformed},
    // [MQTT-3.6.1-1]
    {"reserved_flags_pubrel_0000", v5, {0x60, 0x02, 0x00, 0x01}, kMalformed},
    // [MQTT-3.8.1-1]
    {"reserved_flags_subscribe_0000", v5, {0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 't', 0x00}, kMalformed},
    // [v3.1.1 MQTT-3.10.1-1]
    {"reserved_flags_unsubscribe_0011", v311, {0xA3, 0x05, 0x00, 0x01, 0x00, 0x01, 't'}, kMalformed},
    // [v3.1.1 MQTT-2.2.2-1] [v3.1.1 MQTT-2.2.2-2]
    {"reserved_flags_pingreq", v311, {0xC8, 0x00}, kMalformed},
    // [MQTT-3.14.1-1]
    {"reserved_flags_disconnect", v5, {0xE2, 0x00}, kMalformed},
    // [MQTT-3.15.1-1]
    {"reserved_flags_auth", v5, {0xF1, 0x00}, kMalformed},
    // ---- PUBLISH §3.3.1 ----
    // [MQTT-3.3.1-4]
    {"publish_qos3", v5, {0x36, 0x06, 0x00, 0x01, 't', 0x00, 0x01, 0x00}, kMalformed},
    // [v3.1.1 MQTT-3.3.1-4]
    {"publish_qos3_311", v311, {0x37, 0x05, 0x00, 0x01, 't', 0x00, 0x01}, kMalformed},
    // [v3.1.1 MQTT-3.3.1-2]
    {"publish_dup_qos0", v311, {0x38, 0x03, 0x00, 0x01, 't'}, kMalformed},
    {"publish_topic_overruns", v311, {0x30, 0x02, 0x00, 0x05}, kMalformed},
    {"publish_packet_id_missing", v311, {0x32, 0x03, 0x00, 0x01, 't'}, kMalformed},
    // [v3.1.1 MQTT-2.3.1-1]
    {"publish_packet_id_0", v311, {0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00}, kProtocol},
    // [MQTT-2.2.2-1]
    {"publish_v5_missing_property_length", v5, {0x30, 0x03, 0x00, 0x01, 't'}, kMalformed},
    // ---- UTF-8 §1.5.4 ----
    // [v3.1.1 MQTT-1.5.3-1]
    {"utf8_invalid_byte", v311, publish_topic({'a', 0xFF, 'b'}), kMalformed},
    // [v3.1.1 MQTT-1.5.3-2] [v3.1.1 MQTT-4.7.3-2]
    {"utf8_nul", v311, publish_topic({'a', 0x00, 'b'}), kMalformed},
    {"utf8_overlong_2_byte", v311, publish_topic({0xC0, 0xAF}), kMalformed},
    {"utf8_overlong_3_byte", v311, publish_topic({0xE0, 0x80, 0xAF}), kMalformed},
    {"utf8_overlong_4_byte", v311, publish_topic({0xF0, 0x80, 0x80, 0xAF}), kMalformed},
    {"utf8_overlong_nul", v311, publish_topic({0xC0, 0x80}), kMalformed},
    // [v3.1.1 MQTT-1.5.3-1]
    {"utf8_surrogate_high", v311, publish_topic({0xED, 0xA0, 0x80}), kMalformed},
    // [v3.1.1 MQTT-1.5.3-1]
    {"utf8_surrogate_low", v311, publish_topic({0xED, 0xBF, 0xBF}), kMalformed},
    {"utf8_above_10FFFF", v311, publish_topic({0xF4, 0x90, 0x80, 0x80}), kMalformed},
    {"utf8_lead_F5", v311, publish_topic({0xF5, 0x80, 0x80, 0x80}), kMalformed},
    {"utf8_truncated_sequence", v311, publish_topic({'a', 0xE2, 0x82}), kMalformed},
    {"utf8_lone_continuation", v311, publish_topic({0x80}), kMalformed},
    {"utf8_nul_after_8_ascii", v311, publish_topic({'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 0x00}),
     kMalformed},
    // [MQTT-3.1.3-4]
    {"utf8_client_id", v5, connect_v5(0x02, {}, {0x00, 0x01, 0xC1}), kMalformed},
    // [v3.1.1 MQTT-3.1.3-11]
    {"utf8_user_name", v311, connect_v311(0x82, {0x00, 0x01, 'a', 0x00, 0x01, 0xFE}), kMalformed},
    // [v3.1.1 MQTT-3.1.3-10]
    {"utf8_will_topic", v311,
     connect_v311(0x06, {0x00, 0x01, 'a', 0x00, 0x01, 0x00, 0x00, 0x00}), kMalformed},
    // [MQTT-1.5.7-1]
    {"utf8_user_property_key", v5,
     publish_with_properties({0x26, 0x00, 0x01, 0xFF, 0x00, 0x00}), kMalformed},
    // [MQTT-1.5.7-1]
    {"utf8_user_property_value", v5,
     publish_with_properties({0x26, 0x00, 0x00, 0x00, 0x02, 0xED, 0xA0}), kMalformed},
    // [MQTT-3.3.2-19]
    {"utf8_content_type", v5, publish_with_properties({0x03, 0x00, 0x01, 0x00}), kMalformed},
    // [MQTT-3.8.3-1]
    {"utf8_subscribe_filter", v5, {0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0xFF, 0x00},
     kMalformed},
    // [v3.1.1 MQTT-3.10.3-1]
    {"utf8_unsubscribe_filter", v311, {0xA2, 0x05, 0x00, 0x01, 0x00, 0x01, 0x00}, kMalformed},
    // ---- Properties §2.2.2 ----
    {"property_length_overruns", v5, {0x30, 0x05, 0x00, 0x01, 't', 0x05, 0x01}, kMalformed},
    {"property_value_overruns_length", v5, publish_with_properties({0x02, 0x00, 0x00}), kMalformed},
    {"property_length_5_byte_vbi", v5,
     {0x30, 0x08, 0x00, 0x01, 't', 0x80, 0x80, 0x80, 0x80, 0x00}, kMalformed},
    {"property_unknown_id", v5, publish_with_properties({0x7F, 0x00}), kMalformed},
    {"property_id_0", v5, publish_with_properties({0x00}), kMalformed},
    {"property_not_allowed_publish_session_expiry", v5,
     publish_with_properties({0x11, 0x00, 0x00, 0x00, 0x00}), kMalformed},
    {"property_not_allowed_puback_content_type", v5,
     {0x40, 0x08, 0x00, 0x01, 0x00, 0x04, 0x03, 0x00, 0x01, 'x'}, kMalformed},
    {"property_not_allowed_connect_will_delay", v5,
     connect_v5(0x02, {0x18, 0x00, 0x00, 0x00, 0x01}, kClientIdA), kMalformed},
    {"property_not_allowed_will_session_expiry", v5,
     connect_v5(0x06, {}, {0x00, 0x01, 'a', 0x05, 0x11, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',
                           0x00, 0x00}),
     kMalformed},
    {"property_not_allowed_unsubscribe_subscription_id", v5,
     {0xA2, 0x07, 0x00, 0x01, 0x02, 0x0B, 0x01, 0x00, 0x00}, kMalformed},
    {"property_duplicate_content_type", v5,
     publish_with_properties({0x03, 0x00, 0x00, 0x03, 0x00, 0x00}), kProtocol},
    {"property_duplicate_message_expiry", v5,
     publish_with_properties({0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 1}), kProtocol},
    {"property_duplicate_topic_alias", v5,
     publish_with_properties({0x23, 0x00, 0x01, 0x23, 0x00, 0x01}), kProtocol},
    {"property_duplicate_receive_maximum", v5,
     connect_v5(0x02, {0x21, 0x00, 0x01, 0x21, 0x00, 0x01}, kClientIdA), kProtocol},
    {"property_duplicate_reason_string", v5,
     {0x40, 0x0C, 0x00, 0x01, 0x00, 0x08, 0x1F, 0x00, 0x01, 'a', 0x1F, 0x00, 0x01, 'b'}, kProtocol},
    {"property_duplicate_subscription_id_in_subscribe", v5,
     {0x82, 0x0B, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, 't', 0x00}, kProtocol},
    {"subscription_identifier_0", v5, publish_with_properties({0x0B, 0x00}), kProtocol},
    {"subscription_identifier_not_minimal", v5, publish_with_properties({0x0B, 0x81, 0x00}),
     kMalformed},
    // [MQTT-3.3.2-8]
    {"topic_alias_0", v5, publish_with_properties({0x23, 0x00, 0x00}),
     ReasonCode::topic_alias_invalid},
    {"receive_maximum_0", v5, connect_v5(0x02, {0x21, 0x00, 0x00}, kClientIdA), kProtocol},
    {"maximum_packet_size_0", v5, connect_v5(0x02, {0x27, 0, 0, 0, 0}, kClientIdA), kProtocol},
    {"request_problem_information_2", v5, connect_v5(0x02, {0x17, 0x02}, kClientIdA), kProtocol},
    {"request_response_information_2", v5, connect_v5(0x02, {0x19, 0x02}, kClientIdA), kProtocol},
    {"connack_maximum_qos_2", v5, {0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02}, kProtocol},
    {"connack_retain_available_2", v5, {0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x02}, kProtocol},
    // [MQTT-3.3.2-14]
    {"response_topic_wildcard", v5, publish_with_properties({0x08, 0x00, 0x03, 'a', '/', '#'}),
     kProtocol},
    {"response_topic_empty", v5, publish_with_properties({0x08, 0x00, 0x00}), kProtocol},
    {"will_response_topic_wildcard", v5,
     connect_v5(0x06, {}, {0x00, 0x01, 'a', 0x04, 0x08, 0x00, 0x01, '+', 0x00, 0x01, 't', 0x00,
                           0x00}),
     kProtocol},
    {"authentication_data_without_method", v5,
     connect_v5(0x02, {0x16, 0x00, 0x01, 0x00}, kClientIdA), kProtocol},
    // ---- CONNECT §3.1 ----
    {"connect_protocol_name_MQIsdp", v311,
     {0x10, 0x0F, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x00, 0x00, 0x01, 'a'},
     ReasonCode::unsupported_protocol_version},
    // [MQTT-3.1.2-2]
    {"connect_protocol_level_6", v5,
     {0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x00, 0x00, 0x01, 'a'},
     ReasonCode::unsupported_protocol_version},
    // [MQTT-3.1.2-1]
    {"connect_protocol_name_lowercase", v5,
     {0x10, 0x0D, 0x00, 0x04, 'm', 'q', 't', 't', 0x04, 0x02, 0x00, 0x00, 0x00, 0x01, 'a'},
     ReasonCode::unsupported_protocol_version},
    {"connect_truncated_name", v5, {0x10, 0x03, 0x00, 0x04, 'M'}, kMalformed},
    // [MQTT-3.1.2-3]
    {"connect_reserved_flag", v5, connect_v5(0x03, {}, kClientIdA), kMalformed},
    // [v3.1.1 MQTT-3.1.2-3]
    {"connect_reserved_flag_311", v311, connect_v311(0x03, kClientIdA), kMalformed},
    // [MQTT-3.1.2-11]
    {"connect_will_qos_without_will", v5, connect_v5(0x0A, {}, kClientIdA), kMalformed},
    // [v3.1.1 MQTT-3.1.2-15] [v3.1.1 MQTT-3.1.2-11]
    {"connect_will_retain_without_will", v311, connect_v311(0x22, kClientIdA), kMalformed},
    // [v3.1.1 MQTT-3.1.2-14]
    {"connect_will_qos_3", v311,
     connect_v311(0x1E, {0x00, 0x01, 'a', 0x00, 0x01, 't', 0x00, 0x00}), kMalformed},
    // [v3.1.1 MQTT-3.1.2-22]
    {"connect_password_without_user_name_311", v311,
     connect_v311(0x42, {0x00, 0x01, 'a', 0x00, 0x01, 'p'}), kMalformed},
    // [v3.1.1 MQTT-3.1.2-19]
    {"connect_user_name_missing", v311, connect_v311(0x82, kClientIdA), kMalformed},
    // [MQTT-3.1.2-9]
    {"connect_will_payload_missing", v5,
     connect_v5(0x06, {}, {0x00, 0x01, 'a', 0x00, 0x00, 0x01, 't'}), kMalformed},
    {"connect_trailing_bytes", v5, connect_v5(0x02, {}, {0x00, 0x01, 'a', 0x00}), kMalformed},
    // [v3.1.1 MQTT-3.1.3-8]
    {"connect_empty_client_id_without_clean_session_311", v311, connect_v311(0x00, {0x00, 0x00}),
     ReasonCode::client_identifier_not_valid},
    // ---- CONNACK §3.2 ----
    {"connack_reserved_flags", v311, {0x20, 0x02, 0x02, 0x00}, kMalformed},
    {"connack_return_code_6_311", v311, {0x20, 0x02, 0x00, 0x06}, kProtocol},
    {"connack_session_present_with_error", v311, {0x20, 0x02, 0x01, 0x05}, kProtocol},
    {"connack_reason_not_allowed", v5, {0x20, 0x03, 0x00, 0x10, 0x00}, kProtocol},
    {"connack_v5_missing_property_length", v5, {0x20, 0x02, 0x00, 0x00}, kMalformed},
    {"connack_311_trailing", v311, {0x20, 0x03, 0x00, 0x00, 0x00}, kMalformed},
    // ---- PUBACK family §3.4-§3.7 ----
    {"puback_truncated", v5, {0x40, 0x01, 0x00}, kMalformed},
    {"puback_311_trailing", v311, {0x40, 0x03, 0x00, 0x01, 0x00}, kMalformed},
    // [MQTT-3.4.2-1]
    {"puback_reason_not_allowed", v5, {0x40, 0x03, 0x00, 0x01, 0x05}, kProtocol},
    // [MQTT-3.6.2-1]
    {"pubrel_reason_not_allowed", v5, {0x62, 0x03, 0x00, 0x01, 0x10}, kProtocol},
    {"puback_trailing_after_properties", v5, {0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00},
     kMalformed},
    // ---- SUBSCRIBE §3.8 ----
    // [MQTT-2.2.1-3]
    {"subscribe_packet_id_0", v5, {0x82, 0x07, 0x00, 0x00, 0x00, 0x00, 0x01, 't', 0x00}, kProtocol},
    // [MQTT-3.8.3-2]
    {"subscribe_empty", v5, {0x82, 0x03, 0x00, 0x01, 0x00}, kProtocol},
    // [v3.1.1 MQTT-3.8.3-3]
    {"subscribe_empty_311", v311, {0x82, 0x02, 0x00, 0x01}, kMalformed},
    {"subscribe_options_missing", v5, {0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 't'}, kMalformed},
    // [MQTT-3.8.3-5]
    {"subscribe_options_reserved_bits", v5, subscribe_v5(0x40), kMalformed},
    // [MQTT-3.8.3-5]
    {"subscribe_options_reserved_bit_7", v5, subscribe_v5(0x80), kMalformed},
    {"subscribe_max_qos_3", v5, subscribe_v5(0x03), kProtocol},
    {"subscribe_retain_handling_3", v5, subscribe_v5(0x30), kProtocol},
    // [v3.1.1 MQTT-3.8.3-4]
    {"subscribe_311_upper_bits", v311, {0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 't', 0x04}, kMalformed},
    // [v3.1.1 MQTT-3.8.3-4]
    {"subscribe_311_qos_3", v311, {0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 't', 0x03}, kMalformed},
    // [MQTT-3.8.3-4]
    {"subscribe_no_local_shared", v5,
     {0x82, 0x10, 0x00, 0x01, 0x00, 0x00, 0x0A, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 't',
      0x04},
     kProtocol},
    // ---- SUBACK §3.9 ----
    {"suback_311_bad_code", v311, {0x90, 0x03, 0x00, 0x01, 0x03}, kProtocol},
    {"suback_bad_code", v5, {0x90, 0x04, 0x00, 0x01, 0x00, 0x10}, kProtocol},
    {"suback_empty", v5, {0x90, 0x03, 0x00, 0x01, 0x00}, kProtocol},
    // ---- UNSUBSCRIBE / UNSUBACK §3.10-§3.11 ----
    // [v3.1.1 MQTT-2.3.1-1]
    {"unsubscribe_packet_id_0", v311, {0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, 't'}, kProtocol},
    // [MQTT-3.10.3-2]
    {"unsubscribe_empty", v5, {0xA2, 0x03, 0x00, 0x01, 0x00}, kProtocol},
    // [v3.1.1 MQTT-3.10.3-2]
    {"unsubscribe_empty_311", v311, {0xA2, 0x02, 0x00, 0x01}, kMalformed},
    {"unsubscribe_filter_overruns", v311, {0xA2, 0x05, 0x00, 0x01, 0x00, 0x05, 't'}, kMalformed},
    {"unsuback_311_payload", v311, {0xB0, 0x03, 0x00, 0x01, 0x00}, kMalformed},
    {"unsuback_bad_code", v5, {0xB0, 0x04, 0x00, 0x01, 0x00, 0x01}, kProtocol},
    {"unsuback_empty", v5, {0xB0, 0x03, 0x00, 0x01, 0x00}, kProtocol},
    // ---- PINGRESP, DISCONNECT, AUTH ----
    {"pingresp_trailing", v311, {0xD0, 0x01, 0x00}, kMalformed},
    {"disconnect_311_payload", v311, {0xE0, 0x01, 0x00}, kMalformed},
    // [MQTT-3.14.2-1]
    {"disconnect_reason_not_allowed", v5, {0xE0, 0x01, 0x01}, kProtocol},
    {"disconnect_property_not_allowed", v5, {0xE0, 0x04, 0x00, 0x02, 0x23, 0x00}, kMalformed},
    // [MQTT-3.15.2-1]
    {"auth_reason_not_allowed", v5, {0xF0, 0x02, 0x80, 0x00}, kProtocol},
    {"auth_trailing", v5, {0xF0, 0x03, 0x18, 0x00, 0x00}, kMalformed},
};

class Malformed : public ::testing::TestWithParam<BadPacket> {};

TEST_P(Malformed, DecodeReportsReason) {
  const BadPacket& b = GetParam();
  const DecodeResult r = decode(b.wire, b.version);
  ASSERT_FALSE(r.ok()) << "decoded without error";
  EXPECT_EQ(r.error->reason, b.expected) << r.error->what;
  EXPECT_FALSE(r.error->what.empty());
}

INSTANTIATE_TEST_SUITE_P(Table, Malformed, ::testing::ValuesIn(kBadPackets),
                         [](const ::testing::TestParamInfo<BadPacket>& info) {
                           return std::string(info.param.name);
                         });

// The rows above must be wrong in one way only: fixing the flaw decodes.
TEST(MalformedControls, NearMissesDecode) {
  EXPECT_EQ(decode_error(publish_with_properties({0x0B, 0x01, 0x0B, 0x02}), v5), ReasonCode::success)
      << "several subscription identifiers are allowed in PUBLISH";
  EXPECT_EQ(decode_error(publish_with_properties({0x26, 0, 0, 0, 0, 0x26, 0, 0, 0, 0}), v5),
            ReasonCode::success)
      << "user properties may repeat";
  EXPECT_EQ(decode_error(publish_with_properties({0x01, 0x07}), v5), ReasonCode::success)
      << "payload format indicator has no value rule";
  EXPECT_EQ(decode_error(publish_topic({0xF0, 0x9F, 0x98, 0x80, 0xE2, 0x82, 0xAC, 0xC3, 0xA9}), v311),
            ReasonCode::success);
  EXPECT_EQ(decode_error(publish_topic({0xF4, 0x8F, 0xBF, 0xBF, 0xEE, 0x80, 0x80, 0xEF, 0xBF, 0xBF}),
                         v311),
            ReasonCode::success)
      << "U+10FFFF, U+E000 and U+FFFF are well formed";
  EXPECT_EQ(decode_error(connect_v5(0x42, {}, {0x00, 0x01, 'a', 0x00, 0x01, 0xFF}), v5),
            ReasonCode::success)
      << "password without user name is allowed in 5; password is binary";
  EXPECT_EQ(decode_error(connect_v5(0x00, {}, {0x00, 0x00}), v5), ReasonCode::success)
      << "5 lets the server assign an id even without clean start";
  EXPECT_EQ(decode_error(subscribe_v5(0x2E), v5), ReasonCode::success);
  EXPECT_EQ(decode_error({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 't', 0x02}, v311), ReasonCode::success);
  EXPECT_EQ(decode_error({0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x01}, v311), ReasonCode::success);
  EXPECT_EQ(decode_error({0x40, 0x02, 0x00, 0x00}, v5), ReasonCode::success)
      << "a PUBACK for id 0 is the broker's to reject";
}

// A failed CONNECT still reports the version to answer in.
TEST(MalformedControls, ConnectErrorCarriesVersion) {
  DecodeResult r = decode(connect_v5(0x03, {}, kClientIdA), v311);
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(std::holds_alternative<Connect>(r.packet));
  EXPECT_EQ(std::get<Connect>(r.packet).version, Version::v5);

  r = decode(Bytes{0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x07, 0x02, 0x00, 0x00, 0x00, 0x01,
                   'a'},
             v5);
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(std::holds_alternative<Connect>(r.packet));
  EXPECT_EQ(std::get<Connect>(r.packet).version, Version::v311);
}

// Every strict prefix of a valid packet fails to decode, and frame() waits.
TEST(MalformedControls, EveryTruncationIsRejected) {
  Connect c;
  c.client_id = "client";
  c.will = Will{"w", "p", 1, true, {}};
  c.will->properties.content_type = "c";
  c.username = "u";
  c.password = "p";
  c.properties.user_properties = {{"a", "b"}};
  Publish p;
  p.qos = 2;
  p.packet_id = 3;
  p.topic = "x/y";
  p.payload = "payload";
  p.properties.subscription_identifiers = {300};
  Subscribe s;
  s.packet_id = 4;
  s.subscriptions = {{"a", {1, false, false, 0}}, {"b/#", {}}};
  const Packet packets[] = {c, p, s, Suback{4, {ReasonCode::success}, {}}, Unsubscribe{5, {"q"}, {}}};
  for (const Packet& packet : packets) {
    for (const Version v : {Version::v5, Version::v311}) {
      const Bytes wire = encoded(packet, v);
      ASSERT_TRUE(decode(wire, v).ok());
      for (std::size_t n = 0; n < wire.size(); ++n) {
        const Bytes prefix(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_EQ(decode_error(prefix, v), ReasonCode::malformed_packet) << n;
        EXPECT_EQ(frame(prefix, 1 << 20).status, FrameStatus::incomplete) << n;
      }
    }
  }
}

}  // namespace
}  // namespace allscene::mqtt::test
