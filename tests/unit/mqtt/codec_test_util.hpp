// Helpers for the codec tests: byte vectors, encode/decode shorthands and a
// check that a packet and its wire bytes correspond in both directions.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "mqtt/codec.hpp"

namespace allscene::mqtt::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes encoded(const Packet& p, Version v) {
  Bytes out;
  encode(p, v, out);
  return out;
}

// Expects encode(packet) == wire and decode(wire) == packet.
inline void expect_wire(const Packet& packet, Version v, const Bytes& wire) {
  EXPECT_EQ(encoded(packet, v), wire);
  const DecodeResult r = decode(wire, v);
  ASSERT_TRUE(r.ok()) << r.error->what;
  EXPECT_EQ(r.packet, packet);
  const Frame f = frame(wire, 268'435'460);
  EXPECT_EQ(f.status, FrameStatus::complete);
  EXPECT_EQ(f.size, wire.size());
}

template <typename T>
T decoded_as(const Bytes& wire, Version v) {
  const DecodeResult r = decode(wire, v);
  EXPECT_TRUE(r.ok()) << (r.error ? r.error->what : "");
  if (!r.ok() || !std::holds_alternative<T>(r.packet)) {
    ADD_FAILURE() << "wrong packet type " << r.packet.index();
    return T{};
  }
  return std::get<T>(r.packet);
}

inline ReasonCode decode_error(const Bytes& wire, Version v) {
  const DecodeResult r = decode(wire, v);
  return r.error ? r.error->reason : ReasonCode::success;
}

// Bytes of a string, for splicing text into hand-written packets.
inline Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace allscene::mqtt::test
