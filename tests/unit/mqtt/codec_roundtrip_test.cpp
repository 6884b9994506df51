// Round trips: decode(encode(p)) == p for packets that use every field the
// version can carry, and encode(decode(bytes)) == bytes for canonical bytes.
#include "codec_test_util.hpp"

namespace allscene::mqtt::test {
namespace {

// Every property, so each place can pick the ones it allows.
Properties all_properties() {
  Properties p;
  p.payload_format_indicator = 1;
  p.message_expiry_interval = 100;
  p.content_type = "application/json";
  p.response_topic = "reply/here";
  p.correlation_data = std::string("\x00\x01\x02", 3);
  p.subscription_identifiers = {1, 268'435'455};
  p.session_expiry_interval = 0xFFFFFFFF;
  p.assigned_client_identifier = "auto-1";
  p.server_keep_alive = 30;
  p.authentication_method = "SCRAM-SHA-256";
  p.authentication_data = std::string("\xFF\x00", 2);
  p.request_problem_information = 0;
  p.will_delay_interval = 5;
  p.request_response_information = 1;
  p.response_information = "resp/";
  p.server_reference = "other:1883";
  p.reason_string = "because";
  p.receive_maximum = 65535;
  p.topic_alias_maximum = 10;
  p.topic_alias = 4;
  p.maximum_qos = 1;
  p.retain_available = 1;
  p.user_properties = {{"k1", "v1"}, {"k1", "v2"}, {"ключ", "значение"}};
  p.maximum_packet_size = 1 << 20;
  p.wildcard_subscription_available = 0;
  p.subscription_identifier_available = 1;
  p.shared_subscription_available = 0;
  return p;
}

// Encodes for v5, then checks that decoding gives back exactly the
// properties the place allows, and that re-encoding is byte-identical.
template <typename P>
void round_trip_v5(P packet) {
  const Bytes wire = encoded(packet, Version::v5);
  const DecodeResult r = decode(wire, Version::v5);
  ASSERT_TRUE(r.ok()) << r.error->what;
  ASSERT_TRUE(std::holds_alternative<P>(r.packet));
  EXPECT_EQ(encoded(r.packet, Version::v5), wire);
}

TEST(RoundTrip, V5EveryPacketWithEveryAllowedProperty) {
  const Properties all = all_properties();
  Connect c;
  c.client_id = "c";
  c.properties = all;
  c.will = Will{"w", "payload", 2, true, all};
  c.username = "user";
  c.password = "secret";
  round_trip_v5(c);
  round_trip_v5(Connack{false, ReasonCode::success, all});
  Publish p;
  p.qos = 1;
  p.packet_id = 1;
  p.topic = "t";
  p.payload = std::string(1000, '\0');
  p.properties = all;
  round_trip_v5(p);
  for (const PacketType t :
       {PacketType::puback, PacketType::pubrec, PacketType::pubrel, PacketType::pubcomp}) {
    round_trip_v5(PubAck{t, 65535, ReasonCode::success, all});
  }
  round_trip_v5(Subscribe{1, {{"a/#", {2, true, false, 1}}}, all});
  round_trip_v5(Suback{1, {ReasonCode::granted_qos2}, all});
  round_trip_v5(Unsubscribe{1, {"a/#"}, all});
  round_trip_v5(Unsuback{1, {ReasonCode::no_subscription_existed}, all});
  round_trip_v5(Disconnect{ReasonCode::session_taken_over, all});
  round_trip_v5(Auth{ReasonCode::continue_authentication, all});
}

// Decoded properties are exactly the allowed subset of what was set.
TEST(RoundTrip, V5DecodedPropertiesAreTheAllowedSubset) {
  const Properties all = all_properties();
  Publish p;
  p.topic = "t";
  p.properties = all;
  const auto d = decoded_as<Publish>(encoded(p, Version::v5), Version::v5);
  Properties expected;
  expected.payload_format_indicator = all.payload_format_indicator;
  expected.message_expiry_interval = all.message_expiry_interval;
  expected.content_type = all.content_type;
  expected.response_topic = all.response_topic;
  expected.correlation_data = all.correlation_data;
  expected.subscription_identifiers = all.subscription_identifiers;
  expected.topic_alias = all.topic_alias;
  expected.user_properties = all.user_properties;
  EXPECT_EQ(d.properties, expected);

  const auto a = decoded_as<Auth>(encoded(Auth{ReasonCode::reauthenticate, all}, Version::v5),
                                  Version::v5);
  Properties auth_expected;
  auth_expected.authentication_method = all.authentication_method;
  auth_expected.authentication_data = all.authentication_data;
  auth_expected.reason_string = all.reason_string;
  auth_expected.user_properties = all.user_properties;
  EXPECT_EQ(a.properties, auth_expected);
}

TEST(RoundTrip, V311Packets) {
  Connect c;
  c.version = Version::v311;
  c.clean_start = false;
  c.keep_alive = 65535;
  c.client_id = "dev-1";
  c.will = Will{"status/dev-1", "offline", 1, true, {}};
  c.username = "u";
  c.password = std::string("\x00\xFF", 2);
  Publish p;
  p.qos = 2;
  p.dup = true;
  p.packet_id = 65535;
  p.topic = "a/b/c";
  p.payload = "x";
  const Packet packets[] = {
      c,
      Connack{true, ReasonCode::success, {}},
      Connack{false, ReasonCode::bad_user_name_or_password, {}},
      p,
      PubAck{PacketType::pubrel, 1, ReasonCode::success, {}},
      Subscribe{9, {{"a", {0, false, false, 0}}, {"b/+", {2, false, false, 0}}}, {}},
      Suback{9, {ReasonCode::success, ReasonCode::unspecified_error}, {}},
      Unsubscribe{9, {"a", "b/+"}, {}},
      Unsuback{9, {}, {}},
      Pingreq{},
      Pingresp{},
      Disconnect{},
  };
  for (const Packet& packet : packets) {
    const Bytes wire = encoded(packet, Version::v311);
    const DecodeResult r = decode(wire, Version::v311);
    ASSERT_TRUE(r.ok()) << packet.index() << ": " << r.error->what;
    EXPECT_EQ(r.packet, packet) << packet.index();
  }
}

// Several packets in one buffer: frame() finds each in turn.
TEST(RoundTrip, StreamOfPackets) {
  Bytes stream;
  encode(Pingreq{}, Version::v5, stream);
  Publish p;
  p.topic = "t";
  p.payload = std::string(200, 'x');
  encode(p, Version::v5, stream);
  encode(Disconnect{}, Version::v5, stream);
  std::span<const std::uint8_t> rest(stream);
  std::vector<Packet> got;
  while (!rest.empty()) {
    const Frame f = frame(rest, 1024);
    ASSERT_EQ(f.status, FrameStatus::complete);
    const DecodeResult r = decode(rest.first(f.size), Version::v5);
    ASSERT_TRUE(r.ok());
    got.push_back(r.packet);
    rest = rest.subspan(f.size);
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1], Packet(p));
  EXPECT_TRUE(std::holds_alternative<Disconnect>(got[2]));
}

}  // namespace
}  // namespace allscene::mqtt::test
