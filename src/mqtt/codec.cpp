// Primitives shared by the decoder and encoder: UTF-8 validation, Variable
// Byte Integers, fixed-header parsing and framing.
#include <cstring>

#include "mqtt/codec.hpp"
#include "mqtt/codec_internal.hpp"

namespace allscene::mqtt {

namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// True when any of the 8 bytes has its high bit set or is zero.
inline bool needs_slow_path(std::uint64_t v) {
  return ((v | ((v - kOnes) & ~v)) & kHighBits) != 0;
}

inline bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  while (p < end) {
    // ASCII without NUL is by far the common case in topics and identifiers.
    while (end - p >= 8) {
      std::uint64_t v;
      std::memcpy(&v, p, sizeof v);
      if (needs_slow_path(v)) break;
      p += 8;
    }
    if (p == end) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      if (c == 0) return false;  // U+0000 [MQTT-1.5.4-2]
      ++p;
      continue;
    }
    // Lead bytes C0, C1 and F5..FF never occur; the second byte's range rules
    // out overlong forms, surrogates (ED A0..BF) and code points > U+10FFFF.
    if (c < 0xC2) return false;
    if (c < 0xE0) {
      if (end - p < 2 || !is_continuation(p[1])) return false;
      p += 2;
      continue;
    }
    if (c < 0xF0) {
      if (end - p < 3) return false;
      const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
      const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
      if (p[1] < lo || p[1] > hi || !is_continuation(p[2])) return false;
      p += 3;
      continue;
    }
    if (c < 0xF5) {
      if (end - p < 4) return false;
      const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
      const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
      if (p[1] < lo || p[1] > hi || !is_continuation(p[2]) || !is_continuation(p[3])) {
        return false;
      }
      p += 4;
      continue;
    }
    return false;
  }
  return true;
}

std::size_t vbi_size(std::uint32_t value) {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  return 4;
}

void append_vbi(std::uint32_t value, std::vector<std::uint8_t>& out) {
  do {
    std::uint8_t b = value & 0x7F;
    value >>= 7;
    if (value != 0) b |= 0x80;
    out.push_back(b);
  } while (value != 0);
}

namespace detail {

HeaderStatus parse_fixed_header(std::span<const std::uint8_t> buffer, FixedHeader& header) {
  if (buffer.empty()) return HeaderStatus::incomplete;
  std::uint32_t value = 0;
  for (std::size_t i = 1; i <= 4; ++i) {
    if (i >= buffer.size()) return HeaderStatus::incomplete;
    const std::uint8_t b = buffer[i];
    value |= static_cast<std::uint32_t>(b & 0x7F) << (7 * (i - 1));
    if ((b & 0x80) == 0) {
      // A zero final byte after the first means a longer encoding than
      // needed [MQTT-1.5.5-1].
      if (b == 0 && i > 1) return HeaderStatus::malformed;
      header.first_byte = buffer[0];
      header.remaining_length = value;
      header.size = i + 1;
      return HeaderStatus::ok;
    }
  }
  return HeaderStatus::malformed;
}

}  // namespace detail

Frame frame(std::span<const std::uint8_t> buffer, std::uint32_t max_packet_size) {
  Frame f;
  detail::FixedHeader header;
  switch (detail::parse_fixed_header(buffer, header)) {
    case detail::HeaderStatus::incomplete:
      return f;
    case detail::HeaderStatus::malformed:
      f.status = FrameStatus::error;
      f.error = {ReasonCode::malformed_packet, "invalid remaining length"};
      return f;
    case detail::HeaderStatus::ok:
      break;
  }
  const std::size_t total = header.size + header.remaining_length;
  if (total > max_packet_size) {
    f.status = FrameStatus::error;
    f.error = {ReasonCode::packet_too_large, "packet exceeds maximum packet size"};
    return f;
  }
  if (buffer.size() < total) return f;
  f.status = FrameStatus::complete;
  f.size = total;
  return f;
}

}  // namespace allscene::mqtt
