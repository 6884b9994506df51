// encode() and encode_publish_header(). Each packet body is written by one
// template run twice: first with a Counter to learn the remaining length, then
// with a Writer straight into the caller's vector, grown once.
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "mqtt/codec.hpp"
#include "mqtt/codec_internal.hpp"

namespace allscene::mqtt {

namespace {

using detail::kInAuth;
using detail::kInConnack;
using detail::kInConnect;
using detail::kInDisconnect;
using detail::kInPubAck;
using detail::kInPublish;
using detail::kInSuback;
using detail::kInSubscribe;
using detail::kInUnsuback;
using detail::kInUnsubscribe;
using detail::kInWill;
using detail::kMaxString;
using detail::kMaxVbi;

// Sizes are checked here, on the first pass, so the Writer can trust them.
class Counter {
 public:
  void u8(std::uint8_t) { n_ += 1; }
  void u16(std::uint16_t) { n_ += 2; }
  void u32(std::uint32_t) { n_ += 4; }
  void vbi(std::uint32_t v) {
    if (v > kMaxVbi) throw std::length_error("MQTT variable byte integer out of range");
    n_ += vbi_size(v);
  }
  void raw(std::string_view s) { n_ += s.size(); }
  void prefixed(std::string_view s) {
    if (s.size() > kMaxString) throw std::length_error("MQTT string longer than 65535 bytes");
    n_ += 2 + s.size();
  }
  void skip(std::size_t n) { n_ += n; }
  std::size_t size() const { return n_; }

 private:
  std::size_t n_ = 0;
};

class Writer {
 public:
  explicit Writer(std::uint8_t* p) : p_(p) {}
  void u8(std::uint8_t v) { *p_++ = v; }
  void u16(std::uint16_t v) {
    p_[0] = static_cast<std::uint8_t>(v >> 8);
    p_[1] = static_cast<std::uint8_t>(v);
    p_ += 2;
  }
  void u32(std::uint32_t v) {
    p_[0] = static_cast<std::uint8_t>(v >> 24);
    p_[1] = static_cast<std::uint8_t>(v >> 16);
    p_[2] = static_cast<std::uint8_t>(v >> 8);
    p_[3] = static_cast<std::uint8_t>(v);
    p_ += 4;
  }
  void vbi(std::uint32_t v) {
    do {
      std::uint8_t b = v & 0x7F;
      v >>= 7;
      if (v != 0) b |= 0x80;
      *p_++ = b;
    } while (v != 0);
  }
  void raw(std::string_view s) {
    if (s.empty()) return;
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void prefixed(std::string_view s) {
    u16(static_cast<std::uint16_t>(s.size()));
    raw(s);
  }

 private:
  std::uint8_t* p_;
};

std::uint32_t checked_length(std::size_t n) {
  if (n > kMaxVbi) throw std::length_error("MQTT packet larger than 268435455 bytes");
  return static_cast<std::uint32_t>(n);
}

const Properties kNoProperties{};

// PUBLISH fields that encode_publish_header() takes from its arguments rather
// than from the forwarded Properties.
struct PublishOverrides {
  std::optional<std::uint32_t> message_expiry_interval;
  std::optional<std::uint16_t> topic_alias;
  std::span<const std::uint32_t> subscription_identifiers;
};

// Writes the properties allowed at `place`, ascending by identifier, user
// properties last.
template <typename W>
void put_property_list(W& w, const Properties& p, std::uint16_t place,
                       const PublishOverrides* ov) {
  using P = PropertyId;
  const auto present = [place](P id, const auto& v) {
    return v.has_value() && detail::property_allowed(id, place);
  };
  const auto byte = [&](P id, const std::optional<std::uint8_t>& v) {
    if (!present(id, v)) return;
    w.u8(static_cast<std::uint8_t>(id));
    w.u8(*v);
  };
  const auto two = [&](P id, const std::optional<std::uint16_t>& v) {
    if (!present(id, v)) return;
    w.u8(static_cast<std::uint8_t>(id));
    w.u16(*v);
  };
  const auto four = [&](P id, const std::optional<std::uint32_t>& v) {
    if (!present(id, v)) return;
    w.u8(static_cast<std::uint8_t>(id));
    w.u32(*v);
  };
  // UTF-8 strings and binary data share the wire form.
  const auto str = [&](P id, const std::optional<std::string>& v) {
    if (!present(id, v)) return;
    w.u8(static_cast<std::uint8_t>(id));
    w.prefixed(*v);
  };

  byte(P::payload_format_indicator, p.payload_format_indicator);
  four(P::message_expiry_interval, ov ? ov->message_expiry_interval : p.message_expiry_interval);
  str(P::content_type, p.content_type);
  str(P::response_topic, p.response_topic);
  str(P::correlation_data, p.correlation_data);
  if (detail::property_allowed(P::subscription_identifier, place)) {
    std::span<const std::uint32_t> ids =
        ov ? ov->subscription_identifiers : std::span<const std::uint32_t>(p.subscription_identifiers);
    if (place != kInPublish && ids.size() > 1) ids = ids.first(1);
    for (const std::uint32_t id : ids) {
      w.u8(static_cast<std::uint8_t>(P::subscription_identifier));
      w.vbi(id);
    }
  }
  four(P::session_expiry_interval, p.session_expiry_interval);
  str(P::assigned_client_identifier, p.assigned_client_identifier);
  two(P::server_keep_alive, p.server_keep_alive);
  str(P::authentication_method, p.authentication_method);
  str(P::authentication_data, p.authentication_data);
  byte(P::request_problem_information, p.request_problem_information);
  four(P::will_delay_interval, p.will_delay_interval);
  byte(P::request_response_information, p.request_response_information);
  str(P::response_information, p.response_information);
  str(P::server_reference, p.server_reference);
  str(P::reason_string, p.reason_string);
  two(P::receive_maximum, p.receive_maximum);
  two(P::topic_alias_maximum, p.topic_alias_maximum);
  two(P::topic_alias, ov ? ov->topic_alias : p.topic_alias);
  byte(P::maximum_qos, p.maximum_qos);
  byte(P::retain_available, p.retain_available);
  four(P::maximum_packet_size, p.maximum_packet_size);
  byte(P::wildcard_subscription_available, p.wildcard_subscription_available);
  byte(P::subscription_identifier_available, p.subscription_identifier_available);
  byte(P::shared_subscription_available, p.shared_subscription_available);
  for (const UserProperty& up : p.user_properties) {
    w.u8(static_cast<std::uint8_t>(P::user_property));
    w.prefixed(up.key);
    w.prefixed(up.value);
  }
}

std::size_t property_list_size(const Properties& p, std::uint16_t place,
                               const PublishOverrides* ov = nullptr) {
  Counter c;
  put_property_list(c, p, place, ov);
  return c.size();
}

// Property Length then the properties (§2.2.2.1).
template <typename W>
void put_properties(W& w, const Properties& p, std::uint16_t place,
                    const PublishOverrides* ov = nullptr) {
  const std::uint32_t length = checked_length(property_list_size(p, place, ov));
  w.vbi(length);
  if constexpr (std::is_same_v<W, Counter>) {
    w.skip(length);
  } else {
    put_property_list(w, p, place, ov);
  }
}

bool has_properties(const Properties& p, std::uint16_t place) {
  return property_list_size(p, place) != 0;
}

// ---- Packet bodies: everything after the fixed header ----

// §3.1
template <typename W>
void put_body(W& w, const Connect& c, Version v) {
  const bool v5 = v == Version::v5;
  std::uint8_t flags = c.clean_start ? 0x02 : 0x00;
  if (c.will) {
    flags |= 0x04 | ((c.will->qos & 0x03) << 3) | (c.will->retain ? 0x20 : 0x00);
  }
  if (c.password) flags |= 0x40;
  if (c.username) flags |= 0x80;
  w.prefixed("MQTT");
  w.u8(static_cast<std::uint8_t>(v5 ? Version::v5 : Version::v311));
  w.u8(flags);
  w.u16(c.keep_alive);
  if (v5) put_properties(w, c.properties, kInConnect);
  w.prefixed(c.client_id);
  if (c.will) {
    if (v5) put_properties(w, c.will->properties, kInWill);
    w.prefixed(c.will->topic);
    w.prefixed(c.will->payload);
  }
  if (c.username) w.prefixed(*c.username);
  if (c.password) w.prefixed(*c.password);
}

// §3.2
template <typename W>
void put_body(W& w, const Connack& c, Version v) {
  w.u8(c.session_present ? 0x01 : 0x00);
  if (v == Version::v5) {
    w.u8(static_cast<std::uint8_t>(c.reason_code));
    put_properties(w, c.properties, kInConnack);
  } else {
    w.u8(static_cast<std::uint8_t>(to_v311_return_code(c.reason_code)));
  }
}

// §3.4-§3.7: in 5 the reason code and property length may be left out when
// the reason code is success and there are no properties (§3.4.2.1), and the
// property length when there are no properties (§3.4.2.2.1).
template <typename W>
void put_body(W& w, const PubAck& a, Version v) {
  w.u16(a.packet_id);
  if (v != Version::v5) return;
  const bool props = has_properties(a.properties, kInPubAck);
  if (a.reason_code == ReasonCode::success && !props) return;
  w.u8(static_cast<std::uint8_t>(a.reason_code));
  if (props) put_properties(w, a.properties, kInPubAck);
}

// §3.8
template <typename W>
void put_body(W& w, const Subscribe& s, Version v) {
  const bool v5 = v == Version::v5;
  w.u16(s.packet_id);
  if (v5) put_properties(w, s.properties, kInSubscribe);
  for (const TopicSubscription& t : s.subscriptions) {
    w.prefixed(t.filter);
    std::uint8_t options = t.options.max_qos & 0x03;
    if (v5) {
      options |= (t.options.no_local ? 0x04 : 0x00) | (t.options.retain_as_published ? 0x08 : 0x00) |
                 ((t.options.retain_handling & 0x03) << 4);
    }
    w.u8(options);
  }
}

// §3.9; 3.1.1 knows granted QoS 0..2 and 0x80 for any failure.
template <typename W>
void put_body(W& w, const Suback& s, Version v) {
  const bool v5 = v == Version::v5;
  w.u16(s.packet_id);
  if (v5) put_properties(w, s.properties, kInSuback);
  for (const ReasonCode rc : s.reason_codes) {
    const auto code = static_cast<std::uint8_t>(rc);
    w.u8(v5 || code <= 2 ? code : 0x80);
  }
}

// §3.10
template <typename W>
void put_body(W& w, const Unsubscribe& u, Version v) {
  w.u16(u.packet_id);
  if (v == Version::v5) put_properties(w, u.properties, kInUnsubscribe);
  for (const std::string& f : u.filters) w.prefixed(f);
}

// §3.11; the 3.1.1 UNSUBACK is the packet id alone.
template <typename W>
void put_body(W& w, const Unsuback& u, Version v) {
  w.u16(u.packet_id);
  if (v != Version::v5) return;
  put_properties(w, u.properties, kInUnsuback);
  for (const ReasonCode rc : u.reason_codes) w.u8(static_cast<std::uint8_t>(rc));
}

template <typename W>
void put_body(W&, const Pingreq&, Version) {}
template <typename W>
void put_body(W&, const Pingresp&, Version) {}

// §3.14: remaining length 0 for a normal disconnection without properties,
// 1 (reason code only) when there are no properties (§3.14.2.2.1).
template <typename W>
void put_body(W& w, const Disconnect& d, Version v) {
  if (v != Version::v5) return;
  const bool props = has_properties(d.properties, kInDisconnect);
  if (d.reason_code == ReasonCode::success && !props) return;
  w.u8(static_cast<std::uint8_t>(d.reason_code));
  if (props) put_properties(w, d.properties, kInDisconnect);
}

// §3.15: remaining length 0 for success without properties; otherwise the
// property length is always written (§3.15.2.2 has no short form for it).
template <typename W>
void put_body(W& w, const Auth& a, Version) {
  if (a.reason_code == ReasonCode::success && !has_properties(a.properties, kInAuth)) return;
  w.u8(static_cast<std::uint8_t>(a.reason_code));
  put_properties(w, a.properties, kInAuth);
}

constexpr std::uint8_t first_byte(const Connect&) { return 0x10; }
constexpr std::uint8_t first_byte(const Connack&) { return 0x20; }
constexpr std::uint8_t first_byte(const PubAck& a) {
  const auto type = static_cast<std::uint8_t>(a.type);
  return static_cast<std::uint8_t>(type << 4 | (a.type == PacketType::pubrel ? 0x02 : 0x00));
}
constexpr std::uint8_t first_byte(const Subscribe&) { return 0x82; }
constexpr std::uint8_t first_byte(const Suback&) { return 0x90; }
constexpr std::uint8_t first_byte(const Unsubscribe&) { return 0xA2; }
constexpr std::uint8_t first_byte(const Unsuback&) { return 0xB0; }
constexpr std::uint8_t first_byte(const Pingreq&) { return 0xC0; }
constexpr std::uint8_t first_byte(const Pingresp&) { return 0xD0; }
constexpr std::uint8_t first_byte(const Disconnect&) { return 0xE0; }
constexpr std::uint8_t first_byte(const Auth&) { return 0xF0; }

template <typename P>
void encode_packet(const P& packet, Version v, std::vector<std::uint8_t>& out) {
  Counter c;
  put_body(c, packet, v);
  const std::uint32_t remaining = checked_length(c.size());
  const std::size_t start = out.size();
  out.resize(start + 1 + vbi_size(remaining) + remaining);
  Writer w(out.data() + start);
  w.u8(first_byte(packet));
  w.vbi(remaining);
  put_body(w, packet, v);
}

// §3.3.2: topic name, packet id (QoS > 0), properties (5).
template <typename W>
void put_publish_header(W& w, const PublishHeader& h, const PublishOverrides& ov, Version v) {
  w.prefixed(h.topic);
  if ((h.qos & 0x03) != 0) w.u16(h.packet_id);
  if (v == Version::v5) {
    put_properties(w, h.properties ? *h.properties : kNoProperties, kInPublish, &ov);
  }
}

// Appends the PUBLISH header and, when given, the payload.
void encode_publish(const PublishHeader& h, Version v, const std::string* payload,
                    std::vector<std::uint8_t>& out) {
  const PublishOverrides ov{
      h.message_expiry_interval,
      h.topic_alias != 0 ? std::optional<std::uint16_t>(h.topic_alias) : std::nullopt,
      h.subscription_identifiers};
  Counter c;
  put_publish_header(c, h, ov, v);
  const std::uint32_t remaining = checked_length(c.size() + h.payload_size);
  const std::size_t header_size = 1 + vbi_size(remaining) + c.size();
  const std::size_t start = out.size();
  out.resize(start + header_size + (payload ? payload->size() : 0));
  Writer w(out.data() + start);
  w.u8(static_cast<std::uint8_t>(0x30 | (h.dup ? 0x08 : 0x00) | ((h.qos & 0x03) << 1) |
                                 (h.retain ? 0x01 : 0x00)));
  w.vbi(remaining);
  put_publish_header(w, h, ov, v);
  if (payload) w.raw(*payload);
}

void encode_packet(const Publish& p, Version v, std::vector<std::uint8_t>& out) {
  PublishHeader h;
  h.dup = p.dup;
  h.qos = p.qos;
  h.retain = p.retain;
  h.topic = p.topic;
  h.packet_id = p.packet_id;
  h.properties = &p.properties;
  h.message_expiry_interval = p.properties.message_expiry_interval;
  h.topic_alias = p.properties.topic_alias.value_or(0);
  h.subscription_identifiers = p.properties.subscription_identifiers;
  h.payload_size = p.payload.size();
  encode_publish(h, v, &p.payload, out);
}

}  // namespace

void encode(const Packet& packet, Version version, std::vector<std::uint8_t>& out) {
  std::visit(
      [&](const auto& p) {
        using P = std::decay_t<decltype(p)>;
        // AUTH has no 3.1.1 form.
        if constexpr (std::is_same_v<P, Auth>) {
          if (version != Version::v5) return;
        }
        encode_packet(p, version, out);
      },
      packet);
}

void encode_publish_header(const PublishHeader& header, Version version,
                           std::vector<std::uint8_t>& out) {
  encode_publish(header, version, nullptr, out);
}

}  // namespace allscene::mqtt
