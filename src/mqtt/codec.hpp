// MQTT wire codec: pure functions over bytes, no I/O, no threads.
// Every decoder is total: any input yields a packet or a DecodeError carrying
// the reason code the spec requires. Decoded strings are never longer than the
// input; lists (filters, user properties) cost a bounded number of bytes of
// struct per input byte, so memory stays proportional to the input size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "mqtt/packets.hpp"

namespace allscene::mqtt {

struct DecodeError {
  ReasonCode reason = ReasonCode::malformed_packet;
  std::string_view what;  // static text naming the fault, for logs
};

// Framing: finds the first complete control packet at the front of `buffer`.
enum class FrameStatus { incomplete, complete, error };
struct Frame {
  FrameStatus status = FrameStatus::incomplete;
  std::size_t size = 0;  // whole packet, fixed header included (when complete)
  DecodeError error;     // when status == error
};
// A remaining length above 4 bytes is malformed (§1.5.5); a packet larger than
// max_packet_size is an error with ReasonCode::packet_too_large (§3.1.2.11.4).
// Reports error as soon as the fixed header proves the packet is too large,
// before the body arrives.
Frame frame(std::span<const std::uint8_t> buffer, std::uint32_t max_packet_size);

struct DecodeResult {
  Packet packet;
  std::optional<DecodeError> error;
  bool ok() const { return !error; }
};

// Decodes one complete packet (as delimited by frame()). `version` is the
// connection's negotiated version; for CONNECT it is ignored and the packet's
// own protocol level is used (an unknown level or name gives
// unsupported_protocol_version). Checks every "MUST" on the packet's own
// bytes: reserved flags (§2.1.3), QoS 3, UTF-8 (§1.5.4), property set and
// duplicates per packet type (§2.2.2.2), zero packet ids, empty SUBSCRIBE
// payloads. Topic name and filter syntax (§4.7) is left to the broker, which
// answers those with per-filter SUBACK codes or topic_name_invalid.
// When a CONNECT fails to decode, `packet` still holds a Connect whose
// `version` is the packet's protocol level, or v311 when the level is
// unknown or unreadable, so the broker can answer in the CONNACK form the
// client understands. The decoder never throws.
DecodeResult decode(std::span<const std::uint8_t> packet, Version version);

// Appends the encoding of `packet` for `version` to `out`. The `version`
// argument (not Connect::version) picks the CONNECT protocol level. Only the
// properties the packet type may carry are written. AUTH has no 3.1.1 form:
// nothing is appended. A string over 65535 bytes or a packet over the
// maximum remaining length is a programmer error: std::length_error, with
// `out` unchanged.
void encode(const Packet& packet, Version version, std::vector<std::uint8_t>& out);

// The header of an outbound PUBLISH: everything but the payload, so one
// payload buffer can be shared by every receiver (scatter-gather write).
struct PublishHeader {
  bool dup = false;
  std::uint8_t qos = 0;
  bool retain = false;
  std::string_view topic;  // empty when only a topic alias is sent
  std::uint16_t packet_id = 0;
  // Message properties forwarded as-is: payload format, content type,
  // response topic, correlation data, user properties. Its expiry, topic
  // alias and subscription identifiers are ignored; the fields below set them.
  const Properties* properties = nullptr;
  std::optional<std::uint32_t> message_expiry_interval;
  std::uint16_t topic_alias = 0;  // 0: none
  std::span<const std::uint32_t> subscription_identifiers;
  std::size_t payload_size = 0;
};
// Appends fixed header, topic, packet id and (v5) properties to `out`;
// the full packet is out.size() growth + payload_size bytes.
void encode_publish_header(const PublishHeader& header, Version version,
                           std::vector<std::uint8_t>& out);

// UTF-8 Encoded String rules (§1.5.4): well-formed UTF-8, no surrogates,
// no U+0000.
bool valid_utf8(std::string_view s);

// Variable Byte Integer helpers (§1.5.5).
std::size_t vbi_size(std::uint32_t value);
void append_vbi(std::uint32_t value, std::vector<std::uint8_t>& out);

}  // namespace allscene::mqtt
