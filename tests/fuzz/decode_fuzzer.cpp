// libFuzzer target for the MQTT codec. The input is read as a stream of
// packets: each framed packet is decoded as MQTT 5 and as 3.1.1, and every
// packet that decodes is re-encoded and decoded again, which must give the
// same packet and the same bytes (the round-trip property).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "mqtt/codec.hpp"
#include "mqtt/topic.hpp"

namespace {

using allscene::mqtt::Connect;
using allscene::mqtt::DecodeResult;
using allscene::mqtt::FrameStatus;
using allscene::mqtt::Version;

constexpr std::uint32_t kNoLimit = 268'435'460;

void require(bool condition) {
  if (!condition) std::abort();
}

void check_packet(std::span<const std::uint8_t> bytes) {
  for (const Version version : {Version::v5, Version::v311}) {
    const DecodeResult first = allscene::mqtt::decode(bytes, version);
    if (!first.ok()) {
      require(!first.error->what.empty());
      continue;
    }
    // A CONNECT carries its own protocol level.
    const Version v = std::holds_alternative<Connect>(first.packet)
                          ? std::get<Connect>(first.packet).version
                          : version;
    std::vector<std::uint8_t> wire;
    allscene::mqtt::encode(first.packet, v, wire);
    const auto framed = allscene::mqtt::frame(wire, kNoLimit);
    require(framed.status == FrameStatus::complete && framed.size == wire.size());
    const DecodeResult second = allscene::mqtt::decode(wire, v);
    require(second.ok());
    require(second.packet == first.packet);
    std::vector<std::uint8_t> again;
    allscene::mqtt::encode(second.packet, v, again);
    require(again == wire);
  }
}

// Topic helpers must agree with each other on any string.
void check_topic(std::span<const std::uint8_t> bytes) {
  const std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const bool name = allscene::mqtt::valid_topic_name(s);
  const bool filter = allscene::mqtt::valid_topic_filter(s);
  if (name && !s.starts_with("$share/")) require(filter);
  if (name || filter) require(allscene::mqtt::valid_utf8(s));
  if (const auto shared = allscene::mqtt::parse_shared(s)) {
    require(shared->filter.size() + shared->group.size() < s.size());
  }
  require(allscene::mqtt::topic_levels(s) >= 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> rest(data, size);
  check_topic(rest.first(std::min<std::size_t>(rest.size(), 256)));
  while (!rest.empty()) {
    const auto f = allscene::mqtt::frame(rest, kNoLimit);
    if (f.status != FrameStatus::complete) {
      // Not a whole packet: decode() must still reject it cleanly.
      require(!allscene::mqtt::decode(rest, Version::v5).ok());
      break;
    }
    // A smaller limit either reports the same packet or rejects it.
    const auto limited = allscene::mqtt::frame(rest, 64);
    require(limited.status == FrameStatus::error || limited.size == f.size);
    check_packet(rest.first(f.size));
    rest = rest.subspan(f.size);
  }
  return 0;
}
