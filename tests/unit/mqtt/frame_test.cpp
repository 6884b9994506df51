// frame(): the fixed header (§2.1.1) and the Variable Byte Integer remaining
// length (§1.5.5).
#include "codec_test_util.hpp"

namespace allscene::mqtt::test {
namespace {

constexpr std::uint32_t kNoLimit = 268'435'460;

TEST(Frame, Incomplete_2_1_1) {
  EXPECT_EQ(frame(Bytes{}, kNoLimit).status, FrameStatus::incomplete);
  EXPECT_EQ(frame(Bytes{0x30}, kNoLimit).status, FrameStatus::incomplete);
  EXPECT_EQ(frame(Bytes{0x30, 0x80}, kNoLimit).status, FrameStatus::incomplete);
  EXPECT_EQ(frame(Bytes{0x30, 0x80, 0x80, 0x80}, kNoLimit).status, FrameStatus::incomplete);
  EXPECT_EQ(frame(Bytes{0x30, 0x03, 0x00, 0x01}, kNoLimit).status, FrameStatus::incomplete);
}

TEST(Frame, CompleteReportsSizeOfFirstPacket) {
  const Frame f = frame(Bytes{0xC0, 0x00, 0xD0, 0x00}, kNoLimit);
  EXPECT_EQ(f.status, FrameStatus::complete);
  EXPECT_EQ(f.size, 2u);
  const Frame g = frame(Bytes{0x30, 0x03, 0x00, 0x01, 't', 0xFF}, kNoLimit);
  EXPECT_EQ(g.status, FrameStatus::complete);
  EXPECT_EQ(g.size, 5u);
}

// §1.5.5: at most four bytes; the fourth may not continue.
TEST(Frame, RemainingLength_1_5_5_FiveBytesMalformed) {
  const Frame f = frame(Bytes{0x30, 0xFF, 0xFF, 0xFF, 0xFF}, kNoLimit);
  EXPECT_EQ(f.status, FrameStatus::error);
  EXPECT_EQ(f.error.reason, ReasonCode::malformed_packet);
}

// [MQTT-1.5.5-1]: the minimum number of bytes.
TEST(Frame, RemainingLength_1_5_5_NotMinimalMalformed) {
  const Frame f = frame(Bytes{0x30, 0x81, 0x00, 0x00}, kNoLimit);
  EXPECT_EQ(f.status, FrameStatus::error);
  EXPECT_EQ(f.error.reason, ReasonCode::malformed_packet);
}

// §1.5.5 table: boundaries of each length.
// [MQTT-1.5.5-1] each value in the fewest bytes.
TEST(Frame, RemainingLength_1_5_5_Boundaries) {
  const struct {
    std::uint32_t value;
    Bytes wire;
  } cases[] = {
      {0, {0x00}},
      {127, {0x7F}},
      {128, {0x80, 0x01}},
      {16'383, {0xFF, 0x7F}},
      {16'384, {0x80, 0x80, 0x01}},
      {2'097'151, {0xFF, 0xFF, 0x7F}},
      {2'097'152, {0x80, 0x80, 0x80, 0x01}},
      {268'435'455, {0xFF, 0xFF, 0xFF, 0x7F}},
  };
  for (const auto& c : cases) {
    Bytes vbi;
    append_vbi(c.value, vbi);
    EXPECT_EQ(vbi, c.wire) << c.value;
    EXPECT_EQ(vbi_size(c.value), c.wire.size()) << c.value;
    Bytes header{0x30};
    header.insert(header.end(), c.wire.begin(), c.wire.end());
    const Frame f = frame(header, kNoLimit);
    if (c.value == 0) {
      EXPECT_EQ(f.status, FrameStatus::complete);
    } else {
      EXPECT_EQ(f.status, FrameStatus::incomplete) << c.value;
    }
  }
}

// §3.1.2.11.4: too large is known from the header, before the body arrives.
TEST(Frame, PacketTooLarge_3_1_2_11_4) {
  const Frame f = frame(Bytes{0x30, 0x80, 0x01}, 100);  // 131 bytes declared
  EXPECT_EQ(f.status, FrameStatus::error);
  EXPECT_EQ(f.error.reason, ReasonCode::packet_too_large);
  // The limit counts the whole packet, fixed header included.
  EXPECT_EQ(frame(Bytes{0xC0, 0x00}, 2).status, FrameStatus::complete);
  EXPECT_EQ(frame(Bytes{0x30, 0x01}, 2).status, FrameStatus::error);
}

}  // namespace
}  // namespace allscene::mqtt::test
