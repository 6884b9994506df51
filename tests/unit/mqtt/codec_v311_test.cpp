// Exact-byte tests for every MQTT 3.1.1 packet type, hand-written from the
// OASIS MQTT 3.1.1 specification (section numbers are that document's).
#include "codec_test_util.hpp"

namespace allscene::mqtt::test {
namespace {

constexpr Version v311 = Version::v311;

// §3.1.2.1-§3.1.2.10: name "MQTT", level 4, flags, keep alive; no properties.
// [v3.1.1 MQTT-3.1.3-3] [v3.1.1 MQTT-3.1.2-13] [v3.1.1 MQTT-3.1.2-18] [v3.1.1 MQTT-3.1.2-20]
TEST(CodecV311, Connect_3_1_Minimal) {
  Connect c;
  c.version = v311;
  c.keep_alive = 60;
  c.client_id = "c1";
  expect_wire(c, v311,
              {0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x02,
               'c', '1'});
}

// §3.1.2.3 Connect Flags: user name, password, will QoS 2, will, clean session.
// [v3.1.1 MQTT-3.1.3-1] [v3.1.1 MQTT-3.1.2-9] [v3.1.1 MQTT-3.1.2-19]
// [v3.1.1 MQTT-3.1.2-21]
TEST(CodecV311, Connect_3_1_2_3_WillUserPassword) {
  Connect c;
  c.version = v311;
  c.client_id = "id";
  c.will = Will{"w", "bye", 2, false, {}};
  c.username = "u";
  c.password = "pw";
  expect_wire(c, v311,
              {0x10, 0x1D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
               0xD6,  // 1101 0110
               0x00, 0x00,
               0x00, 0x02, 'i', 'd',
               0x00, 0x01, 'w',
               0x00, 0x03, 'b', 'y', 'e',
               0x00, 0x01, 'u',
               0x00, 0x02, 'p', 'w'});
}

// §3.1.3.1: a zero-byte client id is fine with a clean session.
TEST(CodecV311, Connect_3_1_3_1_EmptyClientIdCleanSession) {
  Connect c;
  c.version = v311;
  expect_wire(c, v311,
              {0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00, 0x00, 0x00});
}

// The encoder picks the level from its argument and drops v5 properties.
TEST(CodecV311, Connect_EncodeIgnoresProperties) {
  Connect c;
  c.version = Version::v5;
  c.client_id = "a";
  c.properties.session_expiry_interval = 10;
  EXPECT_EQ(encoded(c, v311), (Bytes{0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02,
                                     0x00, 0x00, 0x00, 0x01, 'a'}));
}

// §3.2.2.2 Session Present, §3.2.2.3 return codes.
TEST(CodecV311, Connack_3_2_2_Accepted) {
  expect_wire(Connack{}, v311, {0x20, 0x02, 0x00, 0x00});
  expect_wire(Connack{true, ReasonCode::success, {}}, v311, {0x20, 0x02, 0x01, 0x00});
}

TEST(CodecV311, Connack_3_2_2_3_ReturnCodes) {
  const struct {
    ReasonCode rc;
    std::uint8_t wire;
  } cases[] = {
      {ReasonCode::unsupported_protocol_version, 1}, {ReasonCode::client_identifier_not_valid, 2},
      {ReasonCode::server_unavailable, 3},           {ReasonCode::server_busy, 3},
      {ReasonCode::bad_user_name_or_password, 4},    {ReasonCode::bad_authentication_method, 4},
      {ReasonCode::not_authorized, 5},               {ReasonCode::banned, 5},
      {ReasonCode::malformed_packet, 3},             {ReasonCode::quota_exceeded, 3},
  };
  for (const auto& c : cases) {
    Connack ack;
    ack.reason_code = c.rc;
    ack.properties.reason_string = "dropped in 3.1.1";
    EXPECT_EQ(encoded(ack, v311), (Bytes{0x20, 0x02, 0x00, c.wire}))
        << reason_code_name(c.rc);
  }
  // Decoding maps 1..5 back to the reason codes that produce them.
  EXPECT_EQ(decoded_as<Connack>({0x20, 0x02, 0x00, 0x05}, v311).reason_code,
            ReasonCode::not_authorized);
  EXPECT_EQ(decoded_as<Connack>({0x20, 0x02, 0x00, 0x01}, v311).reason_code,
            ReasonCode::unsupported_protocol_version);
}

// §3.3: QoS 1 with retain; no properties in 3.1.1.
// [v3.1.1 MQTT-3.3.2-1] the topic is the first variable header field.
TEST(CodecV311, Publish_3_3_QoS1) {
  Publish p;
  p.qos = 1;
  p.retain = true;
  p.topic = "a/b";
  p.packet_id = 10;
  p.payload = "hi";
  expect_wire(p, v311, {0x33, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i'});
  p.properties.content_type = "dropped";
  p.properties.topic_alias = 1;
  EXPECT_EQ(encoded(p, v311), (Bytes{0x33, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i'}));
}

// §3.3.1.1-3 with QoS 0 and an empty payload.
// [v3.1.1 MQTT-2.3.1-5] [v3.1.1 MQTT-3.3.1-2] [v3.1.1 MQTT-4.3.1-1]
TEST(CodecV311, Publish_3_3_1_QoS0EmptyPayload) {
  Publish p;
  p.topic = "t";
  expect_wire(p, v311, {0x30, 0x03, 0x00, 0x01, 't'});
}

TEST(CodecV311, EncodePublishHeader) {
  Properties props;
  props.content_type = "ignored in 3.1.1";
  PublishHeader h;
  h.qos = 2;
  h.dup = true;
  h.topic = "t";
  h.packet_id = 1;
  h.properties = &props;
  h.topic_alias = 3;
  h.payload_size = 4;
  Bytes out;
  encode_publish_header(h, v311, out);
  EXPECT_EQ(out, (Bytes{0x3C, 0x09, 0x00, 0x01, 't', 0x00, 0x01}));
}

// §3.4-§3.7: packet id only; the reason code is not encoded.
TEST(CodecV311, PubAckFamily_3_4_to_3_7) {
  expect_wire(PubAck{PacketType::puback, 7, ReasonCode::success, {}}, v311, {0x40, 0x02, 0x00, 0x07});
  expect_wire(PubAck{PacketType::pubrec, 7, ReasonCode::success, {}}, v311, {0x50, 0x02, 0x00, 0x07});
  expect_wire(PubAck{PacketType::pubrel, 7, ReasonCode::success, {}}, v311, {0x62, 0x02, 0x00, 0x07});
  expect_wire(PubAck{PacketType::pubcomp, 7, ReasonCode::success, {}}, v311, {0x70, 0x02, 0x00, 0x07});
  EXPECT_EQ(encoded(PubAck{PacketType::puback, 7, ReasonCode::quota_exceeded, {}}, v311),
            (Bytes{0x40, 0x02, 0x00, 0x07}));
}

// §3.8.3.1: requested QoS in the low two bits; v5 options are not encoded.
TEST(CodecV311, Subscribe_3_8) {
  Subscribe s;
  s.packet_id = 1;
  s.subscriptions = {{"a/+", {1, false, false, 0}}, {"#", {2, false, false, 0}}};
  expect_wire(s, v311,
              {0x82, 0x0C, 0x00, 0x01, 0x00, 0x03, 'a', '/', '+', 0x01, 0x00, 0x01, '#', 0x02});
  s.subscriptions = {{"x", {0, true, true, 2}}};
  EXPECT_EQ(encoded(s, v311), (Bytes{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'x', 0x00}));
}

// §3.9.3: granted QoS 0..2 or 0x80 for any failure.
// [v3.1.1 MQTT-3.9.3-2]
TEST(CodecV311, Suback_3_9_3) {
  Suback s;
  s.packet_id = 1;
  s.reason_codes = {ReasonCode::success, ReasonCode::granted_qos2, ReasonCode::unspecified_error};
  expect_wire(s, v311, {0x90, 0x05, 0x00, 0x01, 0x00, 0x02, 0x80});
  s.reason_codes = {ReasonCode::not_authorized, ReasonCode::granted_qos1};
  s.properties.reason_string = "dropped";
  EXPECT_EQ(encoded(s, v311), (Bytes{0x90, 0x04, 0x00, 0x01, 0x80, 0x01}));
}

// §3.10.
TEST(CodecV311, Unsubscribe_3_10) {
  Unsubscribe u;
  u.packet_id = 2;
  u.filters = {"a"};
  expect_wire(u, v311, {0xA2, 0x05, 0x00, 0x02, 0x00, 0x01, 'a'});
}

// §3.11: UNSUBACK has no payload.
TEST(CodecV311, Unsuback_3_11) {
  expect_wire(Unsuback{2, {}, {}}, v311, {0xB0, 0x02, 0x00, 0x02});
  EXPECT_EQ(encoded(Unsuback{2, {ReasonCode::success}, {}}, v311), (Bytes{0xB0, 0x02, 0x00, 0x02}));
}

// §3.12, §3.13.
TEST(CodecV311, Ping_3_12_3_13) {
  expect_wire(Pingreq{}, v311, {0xC0, 0x00});
  expect_wire(Pingresp{}, v311, {0xD0, 0x00});
}

// §3.14: always two bytes.
TEST(CodecV311, Disconnect_3_14) {
  expect_wire(Disconnect{}, v311, {0xE0, 0x00});
  EXPECT_EQ(encoded(Disconnect{ReasonCode::server_shutting_down, {}}, v311), (Bytes{0xE0, 0x00}));
}

// 3.1.1 has no AUTH: nothing is written.
TEST(CodecV311, AuthIsNotEncoded) { EXPECT_TRUE(encoded(Auth{}, v311).empty()); }

}  // namespace
}  // namespace allscene::mqtt::test
