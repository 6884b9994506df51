// Exact-byte tests for every MQTT 5 packet type. Expected bytes are written
// by hand from the OASIS MQTT 5.0 specification; section numbers name the
// layout each test follows.
#include "codec_test_util.hpp"

namespace allscene::mqtt::test {
namespace {

constexpr Version v5 = Version::v5;

// §3.1.2 variable header, §3.1.3 payload: the smallest CONNECT.
// [MQTT-2.2.2-1] no properties: a Property Length of zero.
// [MQTT-3.1.3-3] client id first; [MQTT-3.1.2-13] [MQTT-3.1.2-16] [MQTT-3.1.2-18] no will,
// user name or password: flags 0 and no such fields.
TEST(CodecV5, Connect_3_1_Minimal) {
  Connect c;
  c.version = v5;
  c.clean_start = true;
  c.keep_alive = 60;
  c.client_id = "c1";
  expect_wire(c, v5,
              {0x10, 0x0F,                              // CONNECT, remaining length 15
               0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05,    // §3.1.2.1-2 name, level 5
               0x02,                                    // §3.1.2.3 flags: clean start
               0x00, 0x3C,                              // §3.1.2.10 keep alive 60
               0x00,                                    // §3.1.2.11 no properties
               0x00, 0x02, 'c', '1'});                  // §3.1.3.1 client id
}

// §3.1.2.3 Connect Flags, §3.1.2.11 CONNECT Properties, §3.1.3.2 Will
// Properties, binary will payload and password.
// [MQTT-3.1.3-1] [MQTT-3.1.2-9] [MQTT-3.1.2-17] [MQTT-3.1.2-19]
TEST(CodecV5, Connect_3_1_2_3_AllFlagsAndProperties) {
  Connect c;
  c.version = v5;
  c.clean_start = true;
  c.keep_alive = 10;
  c.client_id = "id";
  c.properties.session_expiry_interval = 3600;
  c.properties.receive_maximum = 20;
  c.properties.user_properties = {{"a", "b"}};
  Will w;
  w.topic = "w/t";
  w.payload = std::string("\x00\xFF", 2);
  w.qos = 1;
  w.retain = true;
  w.properties.will_delay_interval = 5;
  w.properties.payload_format_indicator = 1;
  c.will = w;
  c.username = "u";
  c.password = std::string("\xFF\x00", 2);
  expect_wire(c, v5,
              {0x10, 0x36,
               0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05,
               0xEE,  // user name, password, will retain, will QoS 1, will, clean start
               0x00, 0x0A,
               0x0F,                                           // property length 15
               0x11, 0x00, 0x00, 0x0E, 0x10,                   // session expiry 3600
               0x21, 0x00, 0x14,                               // receive maximum 20
               0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b',         // user property
               0x00, 0x02, 'i', 'd',                           // client id
               0x07, 0x01, 0x01, 0x18, 0x00, 0x00, 0x00, 0x05,  // will properties
               0x00, 0x03, 'w', '/', 't',                      // will topic
               0x00, 0x02, 0x00, 0xFF,                         // will payload
               0x00, 0x01, 'u',                                // user name
               0x00, 0x02, 0xFF, 0x00});                       // password
}

// §3.1.2.9: MQTT 5 allows a password without a user name.
TEST(CodecV5, Connect_3_1_2_9_PasswordWithoutUserName) {
  Connect c;
  c.client_id = "x";
  c.password = "pw";
  expect_wire(c, v5,
              {0x10, 0x12, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x42, 0x00, 0x00, 0x00, 0x00, 0x01,
               'x', 0x00, 0x02, 'p', 'w'});
}

// §3.2.2: acknowledge flags, reason code, properties in identifier order.
// [MQTT-3.2.2-1] acknowledge flags bits 7-1 are 0.
TEST(CodecV5, Connack_3_2_2_WithProperties) {
  Connack c;
  c.properties.assigned_client_identifier = "x";
  c.properties.topic_alias_maximum = 10;
  c.properties.maximum_qos = 1;
  c.properties.retain_available = 0;
  expect_wire(c, v5,
              {0x20, 0x0E, 0x00, 0x00, 0x0B,
               0x12, 0x00, 0x01, 'x',  // assigned client identifier
               0x22, 0x00, 0x0A,       // topic alias maximum 10
               0x24, 0x01,             // maximum QoS 1
               0x25, 0x00});           // retain available 0
}

// §3.2.2.3: user properties come last, after identifiers above 0x26.
TEST(CodecV5, Connack_3_2_2_3_UserPropertiesLast) {
  Connack c;
  c.session_present = true;
  c.properties.user_properties = {{"k", "v"}};
  c.properties.maximum_packet_size = 1024;
  c.properties.shared_subscription_available = 0;
  expect_wire(c, v5,
              {0x20, 0x11, 0x01, 0x00, 0x0E,
               0x27, 0x00, 0x00, 0x04, 0x00,               // maximum packet size
               0x2A, 0x00,                                 // shared subscriptions
               0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v'});   // user property
}

// §3.2.2.2: an error reason code; the property length is always present.
// [MQTT-2.2.2-1]
TEST(CodecV5, Connack_3_2_2_2_ErrorReason) {
  Connack c;
  c.reason_code = ReasonCode::not_authorized;
  expect_wire(c, v5, {0x20, 0x03, 0x00, 0x87, 0x00});
}

// §3.3.1 fixed header flags, §3.3.2 topic, packet id and every PUBLISH
// property, §3.3.3 payload.
// [MQTT-3.3.2-1] the topic is the first variable header field.
TEST(CodecV5, Publish_3_3_AllProperties) {
  Publish p;
  p.qos = 1;
  p.retain = true;
  p.topic = "a/b";
  p.packet_id = 10;
  p.payload = "hi";
  p.properties.payload_format_indicator = 1;
  p.properties.message_expiry_interval = 60;
  p.properties.content_type = "t";
  p.properties.response_topic = "r";
  p.properties.correlation_data = std::string("\x01\x02", 2);
  p.properties.subscription_identifiers = {1, 200};
  p.properties.topic_alias = 3;
  p.properties.user_properties = {{"k", "v"}};
  expect_wire(p, v5,
              {0x33, 0x2D,                          // QoS 1, retain; remaining 45
               0x00, 0x03, 'a', '/', 'b',           // topic
               0x00, 0x0A,                          // packet id 10
               0x23,                                // property length 35
               0x01, 0x01,                          // payload format indicator
               0x02, 0x00, 0x00, 0x00, 0x3C,        // message expiry 60
               0x03, 0x00, 0x01, 't',               // content type
               0x08, 0x00, 0x01, 'r',               // response topic
               0x09, 0x00, 0x02, 0x01, 0x02,        // correlation data
               0x0B, 0x01,                          // subscription identifier 1
               0x0B, 0xC8, 0x01,                    // subscription identifier 200
               0x23, 0x00, 0x03,                    // topic alias 3
               0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',
               'h', 'i'});
}

// §3.3.1: QoS 0 carries no packet identifier.
// [MQTT-2.2.1-2] [MQTT-4.3.1-1]
TEST(CodecV5, Publish_3_3_1_QoS0) {
  Publish p;
  p.topic = "a/b";
  p.payload = "x";
  expect_wire(p, v5, {0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x00, 'x'});
}

// §3.3.1.1 DUP with QoS 2; §3.3.2.3.4 an empty topic with a topic alias.
TEST(CodecV5, Publish_3_3_2_3_4_AliasOnly) {
  Publish p;
  p.dup = true;
  p.qos = 2;
  p.packet_id = 0x1234;
  p.properties.topic_alias = 7;
  expect_wire(p, v5, {0x3C, 0x08, 0x00, 0x00, 0x12, 0x34, 0x03, 0x23, 0x00, 0x07});
}

// §3.4.2.1: success without properties drops reason code and property length.
TEST(CodecV5, Puback_3_4_2_1_ShortForm) {
  PubAck a;
  a.packet_id = 7;
  expect_wire(a, v5, {0x40, 0x02, 0x00, 0x07});
}

// §3.4.2.2.1: with a reason code and no properties, no property length.
TEST(CodecV5, Puback_3_4_2_2_ReasonWithoutProperties) {
  PubAck a;
  a.packet_id = 7;
  a.reason_code = ReasonCode::no_matching_subscribers;
  expect_wire(a, v5, {0x40, 0x03, 0x00, 0x07, 0x10});
}

TEST(CodecV5, Puback_3_4_2_2_ReasonString) {
  PubAck a;
  a.packet_id = 7;
  a.reason_code = ReasonCode::no_matching_subscribers;
  a.properties.reason_string = "no";
  expect_wire(a, v5, {0x40, 0x09, 0x00, 0x07, 0x10, 0x05, 0x1F, 0x00, 0x02, 'n', 'o'});
}

// §3.4.2.1: the long form of success is accepted and reads the same.
TEST(CodecV5, Puback_3_4_2_1_LongFormAccepted) {
  const auto a = decoded_as<PubAck>({0x40, 0x04, 0x00, 0x07, 0x00, 0x00}, v5);
  EXPECT_EQ(a.type, PacketType::puback);
  EXPECT_EQ(a.packet_id, 7);
  EXPECT_EQ(a.reason_code, ReasonCode::success);
}

// §3.5, §3.6 (flags 0010), §3.7.
TEST(CodecV5, Pubrec_3_5) {
  PubAck a{PacketType::pubrec, 1, ReasonCode::quota_exceeded, {}};
  expect_wire(a, v5, {0x50, 0x03, 0x00, 0x01, 0x97});
}

// [MQTT-3.6.1-1]
TEST(CodecV5, Pubrel_3_6_1_FlagsAndNotFound) {
  PubAck a{PacketType::pubrel, 0x0102, ReasonCode::packet_identifier_not_found, {}};
  expect_wire(a, v5, {0x62, 0x03, 0x01, 0x02, 0x92});
}

TEST(CodecV5, Pubcomp_3_7) {
  PubAck a{PacketType::pubcomp, 9, ReasonCode::success, {}};
  a.properties.user_properties = {{"", ""}};
  expect_wire(a, v5, {0x70, 0x09, 0x00, 0x09, 0x00, 0x05, 0x26, 0x00, 0x00, 0x00, 0x00});
}

// §3.7.2.1: 0x92 Packet Identifier not found is a PUBCOMP reason code (a
// client answers a PUBREL it already completed, e.g. after a hub restart);
// PUBACK's codes such as 0x10 are not.
TEST(CodecV5, Pubcomp_3_7_2_1_ReasonCodes) {
  PubAck a{PacketType::pubcomp, 9, ReasonCode::packet_identifier_not_found, {}};
  expect_wire(a, v5, {0x70, 0x03, 0x00, 0x09, 0x92});
  const std::vector<std::uint8_t> no_subscribers{0x70, 0x03, 0x00, 0x09, 0x10};
  EXPECT_FALSE(decode(no_subscribers, v5).ok());
}

// §3.8.2 properties, §3.8.3.1 subscription options.
TEST(CodecV5, Subscribe_3_8_3_1_Options) {
  Subscribe s;
  s.packet_id = 1;
  s.properties.subscription_identifiers = {5};
  s.subscriptions = {{"a/+", {1, true, true, 2}}, {"#", {}}};
  expect_wire(s, v5,
              {0x82, 0x0F, 0x00, 0x01,
               0x02, 0x0B, 0x05,                   // subscription identifier 5
               0x00, 0x03, 'a', '/', '+', 0x2D,    // QoS 1, no local, RAP, retain handling 2
               0x00, 0x01, '#', 0x00});
}

// §3.9.
TEST(CodecV5, Suback_3_9) {
  Suback s;
  s.packet_id = 1;
  s.reason_codes = {ReasonCode::granted_qos1, ReasonCode::unspecified_error,
                    ReasonCode::shared_subscriptions_not_supported};
  s.properties.reason_string = "r";
  expect_wire(s, v5,
              {0x90, 0x0A, 0x00, 0x01, 0x04, 0x1F, 0x00, 0x01, 'r', 0x01, 0x80, 0x9E});
}

// §3.10.
TEST(CodecV5, Unsubscribe_3_10) {
  Unsubscribe u;
  u.packet_id = 2;
  u.filters = {"a", "b/c"};
  expect_wire(u, v5, {0xA2, 0x0B, 0x00, 0x02, 0x00, 0x00, 0x01, 'a', 0x00, 0x03, 'b', '/', 'c'});
}

// §3.11.
TEST(CodecV5, Unsuback_3_11) {
  Unsuback u;
  u.packet_id = 2;
  u.reason_codes = {ReasonCode::success, ReasonCode::no_subscription_existed};
  expect_wire(u, v5, {0xB0, 0x05, 0x00, 0x02, 0x00, 0x00, 0x11});
}

// §3.12, §3.13.
TEST(CodecV5, Ping_3_12_3_13) {
  expect_wire(Pingreq{}, v5, {0xC0, 0x00});
  expect_wire(Pingresp{}, v5, {0xD0, 0x00});
}

// §3.14.2.1: normal disconnection without properties has remaining length 0.
TEST(CodecV5, Disconnect_3_14_2_1_ShortForm) { expect_wire(Disconnect{}, v5, {0xE0, 0x00}); }

// §3.14.2.2.1: a remaining length of 1 means no property length.
TEST(CodecV5, Disconnect_3_14_2_2_1_ReasonOnly) {
  expect_wire(Disconnect{ReasonCode::disconnect_with_will, {}}, v5, {0xE0, 0x01, 0x04});
}

TEST(CodecV5, Disconnect_3_14_2_2_Properties) {
  Disconnect d;
  d.properties.session_expiry_interval = 0;
  d.properties.server_reference = "s";
  expect_wire(d, v5,
              {0xE0, 0x0B, 0x00, 0x09, 0x11, 0x00, 0x00, 0x00, 0x00, 0x1C, 0x00, 0x01, 's'});
}

// §3.15.2.1: success without properties has remaining length 0.
TEST(CodecV5, Auth_3_15_2_1_ShortForm) { expect_wire(Auth{}, v5, {0xF0, 0x00}); }

// §3.15.2.2: method and data.
TEST(CodecV5, Auth_3_15_2_2_ContinueAuthentication) {
  Auth a;
  a.reason_code = ReasonCode::continue_authentication;
  a.properties.authentication_method = "SCRAM";
  a.properties.authentication_data = std::string("\xAA\xBB", 2);
  expect_wire(a, v5,
              {0xF0, 0x0F, 0x18, 0x0D,
               0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M',
               0x16, 0x00, 0x02, 0xAA, 0xBB});
}

// §3.15.2.2.1 has no short form for the property length; a bare reason
// code is still read.
TEST(CodecV5, Auth_3_15_2_ReasonOnlyEncodesPropertyLength) {
  Auth a{ReasonCode::reauthenticate, {}};
  EXPECT_EQ(encoded(a, v5), (Bytes{0xF0, 0x02, 0x19, 0x00}));
  EXPECT_EQ(decoded_as<Auth>({0xF0, 0x01, 0x19}, v5), a);
}

// §2.2.2.2: the encoder writes only properties the packet type may carry.
TEST(CodecV5, Encode_2_2_2_2_DropsPropertiesNotAllowed) {
  PubAck a;
  a.packet_id = 1;
  a.properties.content_type = "not allowed in PUBACK";
  a.properties.topic_alias = 4;
  EXPECT_EQ(encoded(a, v5), (Bytes{0x40, 0x02, 0x00, 0x01}));
}

// §3.3.2.3.8: several subscription identifiers only in PUBLISH.
TEST(CodecV5, Subscribe_3_8_2_1_2_OneSubscriptionIdentifier) {
  Subscribe s;
  s.packet_id = 1;
  s.properties.subscription_identifiers = {3, 4};
  s.subscriptions = {{"t", {}}};
  EXPECT_EQ(encoded(s, v5), (Bytes{0x82, 0x09, 0x00, 0x01, 0x02, 0x0B, 0x03, 0x00, 0x01, 't', 0x00}));
}

// The PUBLISH header alone: payload counted in the remaining length but not
// written; expiry, alias and subscription ids taken from the header fields.
TEST(CodecV5, EncodePublishHeader_3_3_SharedPayload) {
  Properties props;
  props.content_type = "x";
  props.message_expiry_interval = 999;  // ignored
  props.topic_alias = 9;                // ignored
  props.subscription_identifiers = {8};  // ignored
  props.user_properties = {{"k", "v"}};
  const std::uint32_t ids[] = {7};
  const std::string payload(300, 'p');
  PublishHeader h;
  h.qos = 1;
  h.topic = "t";
  h.packet_id = 5;
  h.properties = &props;
  h.message_expiry_interval = 30;
  h.topic_alias = 2;
  h.subscription_identifiers = ids;
  h.payload_size = payload.size();
  Bytes out{0xEE};  // appends after existing content
  encode_publish_header(h, v5, out);
  const Bytes expected{0xEE,
                       0x32, 0xC7, 0x02,                 // remaining length 327
                       0x00, 0x01, 't', 0x00, 0x05,
                       0x15,                             // property length 21
                       0x02, 0x00, 0x00, 0x00, 0x1E,     // expiry 30
                       0x03, 0x00, 0x01, 'x',
                       0x0B, 0x07,
                       0x23, 0x00, 0x02,
                       0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v'};
  EXPECT_EQ(out, expected);

  Bytes whole(out.begin() + 1, out.end());
  whole.insert(whole.end(), payload.begin(), payload.end());
  const auto p = decoded_as<Publish>(whole, v5);
  EXPECT_EQ(p.topic, "t");
  EXPECT_EQ(p.packet_id, 5);
  EXPECT_EQ(p.payload, payload);
  EXPECT_EQ(p.properties.message_expiry_interval, 30u);
  EXPECT_EQ(p.properties.topic_alias, 2);
  EXPECT_EQ(p.properties.subscription_identifiers, std::vector<std::uint32_t>{7});
  EXPECT_EQ(p.properties.content_type, "x");
}

TEST(CodecV5, EncodePublishHeader_NoPropertiesAliasOnly) {
  PublishHeader h;
  h.topic_alias = 1;
  h.payload_size = 2;
  Bytes out;
  encode_publish_header(h, v5, out);
  EXPECT_EQ(out, (Bytes{0x30, 0x08, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01}));
}

// The encoder rejects what the wire cannot carry, leaving `out` untouched.
TEST(CodecV5, Encode_1_5_4_StringTooLongThrows) {
  Publish p;
  p.topic.assign(65'536, 'a');
  Bytes out{1, 2, 3};
  EXPECT_THROW(encode(p, v5, out), std::length_error);
  EXPECT_EQ(out, (Bytes{1, 2, 3}));
}

// §3.3.2.3: multi-byte remaining length on a large payload (§1.5.5).
// [MQTT-1.5.5-1]
TEST(CodecV5, Publish_1_5_5_FourByteRemainingLength) {
  Publish p;
  p.topic = "t";
  p.payload.assign(2'097'152, 'z');  // remaining length 2097152 + 4 needs 4 bytes
  const Bytes wire = encoded(p, v5);
  ASSERT_GE(wire.size(), 5u);
  EXPECT_EQ((Bytes{wire.begin(), wire.begin() + 5}), (Bytes{0x30, 0x84, 0x80, 0x80, 0x01}));
  EXPECT_EQ(decoded_as<Publish>(wire, v5), p);
}

}  // namespace
}  // namespace allscene::mqtt::test
