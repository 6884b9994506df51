// decode(): every control packet of MQTT 3.1.1 and 5. Total over any input:
// each read is bounds-checked, each loop consumes input, and nothing is
// allocated beyond the strings and lists the input itself describes.
#include <array>
#include <initializer_list>
#include <string>

#include "mqtt/codec.hpp"
#include "mqtt/codec_internal.hpp"
#include "mqtt/topic.hpp"

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

// The reason codes a packet type may carry (§2.4 and each packet's table).
class CodeSet {
 public:
  constexpr CodeSet(std::initializer_list<std::uint8_t> codes) {
    for (const std::uint8_t c : codes) bits_[c >> 6] |= std::uint64_t{1} << (c & 63);
  }
  constexpr bool contains(std::uint8_t c) const { return ((bits_[c >> 6] >> (c & 63)) & 1) != 0; }

 private:
  std::array<std::uint64_t, 4> bits_{};
};

// §3.2.2.2
constexpr CodeSet kConnackCodes{0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
                                0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
// §3.4.2.1, §3.5.2.1
constexpr CodeSet kPubackCodes{0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
// §3.6.2.1, §3.7.2.1
constexpr CodeSet kPubrelCodes{0x00, 0x92};
// §3.9.3
constexpr CodeSet kSubackCodes{0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
// §3.11.3
constexpr CodeSet kUnsubackCodes{0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
// §3.14.2.1
constexpr CodeSet kDisconnectCodes{0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D,
                                   0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
                                   0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
// §3.15.2.1
constexpr CodeSet kAuthCodes{0x00, 0x18, 0x19};

// 3.1.1 CONNACK return codes 0..5 as MQTT 5 reason codes; the inverse of
// to_v311_return_code() on these six values.
constexpr std::array<ReasonCode, 6> kV311ConnackCodes{
    ReasonCode::success,
    ReasonCode::unsupported_protocol_version,
    ReasonCode::client_identifier_not_valid,
    ReasonCode::server_unavailable,
    ReasonCode::bad_user_name_or_password,
    ReasonCode::not_authorized,
};

class Reader {
 public:
  Reader(const std::uint8_t* p, const std::uint8_t* end) : p_(p), end_(end) {}

  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }
  bool empty() const { return p_ == end_; }

  bool u8(std::uint8_t& v) {
    if (p_ == end_) return false;
    v = *p_++;
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (left() < 2) return false;
    v = static_cast<std::uint16_t>((p_[0] << 8) | p_[1]);
    p_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (left() < 4) return false;
    v = (std::uint32_t{p_[0]} << 24) | (std::uint32_t{p_[1]} << 16) | (std::uint32_t{p_[2]} << 8) |
        std::uint32_t{p_[3]};
    p_ += 4;
    return true;
  }
  // At most 4 bytes, minimally encoded (§1.5.5).
  bool vbi(std::uint32_t& v) {
    std::uint32_t value = 0;
    for (unsigned i = 0; i < 4; ++i) {
      if (p_ == end_) return false;
      const std::uint8_t b = *p_++;
      value |= static_cast<std::uint32_t>(b & 0x7F) << (7 * i);
      if ((b & 0x80) == 0) {
        if (b == 0 && i > 0) return false;
        v = value;
        return true;
      }
    }
    return false;
  }
  // A Two Byte Integer length followed by that many bytes (§1.5.6).
  bool prefixed(std::string_view& s) {
    std::uint16_t n;
    if (!u16(n) || left() < n) return false;
    s = {reinterpret_cast<const char*>(p_), n};
    p_ += n;
    return true;
  }
  std::string_view rest() {
    const std::string_view s{reinterpret_cast<const char*>(p_), left()};
    p_ = end_;
    return s;
  }
  // How many length-prefixed strings, each followed by `extra` bytes, fit
  // in what is left; lets lists be allocated once at their final size.
  std::size_t count_prefixed(std::size_t extra) const {
    std::size_t n = 0;
    for (const std::uint8_t* p = p_; end_ - p >= 2; ++n) {
      const std::size_t len = (std::size_t{p[0]} << 8 | p[1]) + extra;
      if (static_cast<std::size_t>(end_ - p) - 2 < len) break;
      p += 2 + len;
    }
    return n;
  }
  // Splits off the next n bytes (n <= left()) as their own reader.
  Reader take(std::size_t n) {
    const Reader sub{p_, p_ + n};
    p_ += n;
    return sub;
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

class Decoder {
 public:
  Decoder(Reader body, Version version, DecodeResult& out)
      : r_(body), v5_(version == Version::v5), out_(out) {}

  void run(std::uint8_t first_byte) {
    const auto type = static_cast<PacketType>(first_byte >> 4);
    const std::uint8_t flags = first_byte & 0x0F;
    if (type == PacketType::connect) {
      connect(flags);
      return;
    }
    if (type == PacketType::publish) {
      publish(flags);
      return;
    }
    if (first_byte < 0x10 || (type == PacketType::auth && !v5_)) {
      malformed("reserved packet type");
      return;
    }
    // §2.1.3: PUBREL, SUBSCRIBE and UNSUBSCRIBE carry 0010, all others 0000.
    const bool flags_0010 = type == PacketType::pubrel || type == PacketType::subscribe ||
                            type == PacketType::unsubscribe;
    if (flags != (flags_0010 ? 0x02 : 0x00)) {
      malformed("reserved fixed header flags");
      return;
    }
    switch (type) {
      case PacketType::connack: connack(); return;
      case PacketType::puback:
      case PacketType::pubrec: puback(type, kPubackCodes); return;
      case PacketType::pubrel:
      case PacketType::pubcomp: puback(type, kPubrelCodes); return;
      case PacketType::subscribe: subscribe(); return;
      case PacketType::suback: suback(); return;
      case PacketType::unsubscribe: unsubscribe(); return;
      case PacketType::unsuback: unsuback(); return;
      case PacketType::pingreq:
        out_.packet.emplace<Pingreq>();
        end_of_packet();
        return;
      case PacketType::pingresp:
        out_.packet.emplace<Pingresp>();
        end_of_packet();
        return;
      case PacketType::disconnect: disconnect(); return;
      case PacketType::auth: auth(); return;
      case PacketType::connect:
      case PacketType::publish: return;
    }
  }

 private:
  bool fail(ReasonCode rc, std::string_view what) {
    out_.error = DecodeError{rc, what};
    return false;
  }
  bool malformed(std::string_view what) { return fail(ReasonCode::malformed_packet, what); }
  bool protocol_error(std::string_view what) { return fail(ReasonCode::protocol_error, what); }
  bool truncated() { return malformed("field overruns the packet"); }
  bool end_of_packet() {
    if (!r_.empty()) return malformed("trailing bytes");
    return true;
  }

  bool read_utf8(Reader& r, std::string& out) {
    std::string_view s;
    if (!r.prefixed(s)) return truncated();
    if (!valid_utf8(s)) return malformed("invalid UTF-8 string");
    out.assign(s);
    return true;
  }
  bool read_binary(Reader& r, std::string& out) {
    std::string_view s;
    if (!r.prefixed(s)) return truncated();
    out.assign(s);
    return true;
  }
  bool packet_id(std::uint16_t& id, bool nonzero) {
    if (!r_.u16(id)) return truncated();
    // [MQTT-2.2.1-3]
    if (nonzero && id == 0) return protocol_error("packet identifier 0");
    return true;
  }
  bool reason_code(ReasonCode& rc, const CodeSet& allowed) {
    std::uint8_t b;
    if (!r_.u8(b)) return truncated();
    if (!allowed.contains(b)) return protocol_error("reason code not allowed in this packet");
    rc = static_cast<ReasonCode>(b);
    return true;
  }

  // ---- Properties (§2.2.2) ----

  bool duplicate() { return protocol_error("duplicate property"); }

  template <typename T>
  bool byte_property(Reader& r, std::optional<T>& slot, std::uint8_t max) {
    if (slot) return duplicate();
    std::uint8_t v;
    if (!r.u8(v)) return truncated();
    if (v > max) return protocol_error("property value out of range");
    slot = v;
    return true;
  }
  bool two_byte_property(Reader& r, std::optional<std::uint16_t>& slot, std::uint16_t min) {
    if (slot) return duplicate();
    std::uint16_t v;
    if (!r.u16(v)) return truncated();
    if (v < min) return protocol_error("property value out of range");
    slot = v;
    return true;
  }
  bool four_byte_property(Reader& r, std::optional<std::uint32_t>& slot, std::uint32_t min) {
    if (slot) return duplicate();
    std::uint32_t v;
    if (!r.u32(v)) return truncated();
    if (v < min) return protocol_error("property value out of range");
    slot = v;
    return true;
  }
  bool utf8_property(Reader& r, std::optional<std::string>& slot) {
    if (slot) return duplicate();
    return read_utf8(r, slot.emplace());
  }
  bool binary_property(Reader& r, std::optional<std::string>& slot) {
    if (slot) return duplicate();
    return read_binary(r, slot.emplace());
  }

  bool property(Reader& r, PropertyId id, std::uint16_t place, Properties& p) {
    using P = PropertyId;
    switch (id) {
      case P::payload_format_indicator: return byte_property(r, p.payload_format_indicator, 0xFF);
      case P::message_expiry_interval: return four_byte_property(r, p.message_expiry_interval, 0);
      case P::content_type: return utf8_property(r, p.content_type);
      case P::response_topic:
        if (!utf8_property(r, p.response_topic)) return false;
        // §3.3.2.3.5 [MQTT-3.3.2-14]: a topic name, so no wildcards.
        if (!valid_topic_name(*p.response_topic)) return protocol_error("invalid response topic");
        return true;
      case P::correlation_data: return binary_property(r, p.correlation_data);
      case P::subscription_identifier: {
        // Several only in PUBLISH (§3.3.2.3.8); once in SUBSCRIBE (§3.8.2.1.2).
        if (place != kInPublish && !p.subscription_identifiers.empty()) return duplicate();
        std::uint32_t v;
        if (!r.vbi(v)) return malformed("invalid subscription identifier");
        if (v == 0) return protocol_error("subscription identifier 0");
        p.subscription_identifiers.push_back(v);
        return true;
      }
      case P::session_expiry_interval: return four_byte_property(r, p.session_expiry_interval, 0);
      case P::assigned_client_identifier: return utf8_property(r, p.assigned_client_identifier);
      case P::server_keep_alive: return two_byte_property(r, p.server_keep_alive, 0);
      case P::authentication_method: return utf8_property(r, p.authentication_method);
      case P::authentication_data: return binary_property(r, p.authentication_data);
      case P::request_problem_information:
        return byte_property(r, p.request_problem_information, 1);
      case P::will_delay_interval: return four_byte_property(r, p.will_delay_interval, 0);
      case P::request_response_information:
        return byte_property(r, p.request_response_information, 1);
      case P::response_information: return utf8_property(r, p.response_information);
      case P::server_reference: return utf8_property(r, p.server_reference);
      case P::reason_string: return utf8_property(r, p.reason_string);
      case P::receive_maximum: return two_byte_property(r, p.receive_maximum, 1);
      case P::topic_alias_maximum: return two_byte_property(r, p.topic_alias_maximum, 0);
      case P::topic_alias: {
        if (p.topic_alias) return duplicate();
        std::uint16_t v;
        if (!r.u16(v)) return truncated();
        // §3.3.2.3.4: 0 is never a valid alias.
        if (v == 0) return fail(ReasonCode::topic_alias_invalid, "topic alias 0");
        p.topic_alias = v;
        return true;
      }
      case P::maximum_qos: return byte_property(r, p.maximum_qos, 1);
      case P::retain_available: return byte_property(r, p.retain_available, 1);
      case P::user_property: {
        UserProperty& up = p.user_properties.emplace_back();
        return read_utf8(r, up.key) && read_utf8(r, up.value);
      }
      case P::maximum_packet_size: return four_byte_property(r, p.maximum_packet_size, 1);
      case P::wildcard_subscription_available:
        return byte_property(r, p.wildcard_subscription_available, 1);
      case P::subscription_identifier_available:
        return byte_property(r, p.subscription_identifier_available, 1);
      case P::shared_subscription_available:
        return byte_property(r, p.shared_subscription_available, 1);
    }
    return malformed("unknown property");
  }

  bool properties(Properties& p, std::uint16_t place) {
    std::uint32_t length;
    if (!r_.vbi(length)) return malformed("invalid property length");
    if (length > r_.left()) return truncated();
    Reader r = r_.take(length);
    while (!r.empty()) {
      std::uint8_t id;
      r.u8(id);
      if (id >= detail::kPropertyIdLimit || (detail::kPropertyRules[id].places & place) == 0) {
        return malformed("property not allowed in this packet");
      }
      if (!property(r, static_cast<PropertyId>(id), place, p)) return false;
    }
    return true;
  }

  // ---- Packets ----

  // §3.1
  void connect(std::uint8_t header_flags) {
    Connect& c = out_.packet.emplace<Connect>();
    // Until the protocol level is known, an error is answered in 3.1.1 form.
    c.version = Version::v311;
    if (header_flags != 0) {
      malformed("reserved fixed header flags");
      return;
    }
    std::string_view name;
    std::uint8_t level;
    if (!r_.prefixed(name) || !r_.u8(level)) {
      truncated();
      return;
    }
    // §3.1.2.1, §3.1.2.2
    if (name != "MQTT" || (level != 4 && level != 5)) {
      fail(ReasonCode::unsupported_protocol_version, "unsupported protocol name or level");
      return;
    }
    c.version = static_cast<Version>(level);
    v5_ = c.version == Version::v5;
    connect_body(c);
  }

  bool connect_body(Connect& c) {
    // §3.1.2.3 Connect Flags
    std::uint8_t flags;
    if (!r_.u8(flags) || !r_.u16(c.keep_alive)) return truncated();
    if ((flags & 0x01) != 0) return malformed("reserved connect flag set");  // [MQTT-3.1.2-3]
    c.clean_start = (flags & 0x02) != 0;
    const bool will = (flags & 0x04) != 0;
    const std::uint8_t will_qos = (flags >> 3) & 0x03;
    const bool will_retain = (flags & 0x20) != 0;
    const bool has_password = (flags & 0x40) != 0;
    const bool has_username = (flags & 0x80) != 0;
    if (will_qos == 3) return malformed("will QoS 3");
    if (!will && (will_qos != 0 || will_retain)) return malformed("will QoS or retain without will");
    if (!v5_ && has_password && !has_username) {
      return malformed("password without user name");  // 3.1.1 [MQTT-3.1.2-22]
    }
    if (v5_) {
      if (!properties(c.properties, kInConnect)) return false;
      // §3.1.2.11.10
      if (c.properties.authentication_data && !c.properties.authentication_method) {
        return protocol_error("authentication data without method");
      }
    }
    if (!read_utf8(r_, c.client_id)) return false;
    if (will) {
      Will& w = c.will.emplace();
      w.qos = will_qos;
      w.retain = will_retain;
      if (v5_ && !properties(w.properties, kInWill)) return false;
      if (!read_utf8(r_, w.topic) || !read_binary(r_, w.payload)) return false;
    }
    if (has_username && !read_utf8(r_, c.username.emplace())) return false;
    if (has_password && !read_binary(r_, c.password.emplace())) return false;
    if (!end_of_packet()) return false;
    // 3.1.1 [MQTT-3.1.3-8]: a zero-byte client id needs a clean session.
    if (!v5_ && c.client_id.empty() && !c.clean_start) {
      return fail(ReasonCode::client_identifier_not_valid, "empty client id without clean session");
    }
    return true;
  }

  // §3.2
  bool connack() {
    Connack& c = out_.packet.emplace<Connack>();
    std::uint8_t flags;
    std::uint8_t code;
    if (!r_.u8(flags) || !r_.u8(code)) return truncated();
    if ((flags & 0xFE) != 0) return malformed("reserved connack flags");  // §3.2.2.1
    c.session_present = (flags & 0x01) != 0;
    if (v5_) {
      if (!kConnackCodes.contains(code)) return protocol_error("reason code not allowed in CONNACK");
      c.reason_code = static_cast<ReasonCode>(code);
    } else {
      if (code >= kV311ConnackCodes.size()) return protocol_error("reserved CONNACK return code");
      c.reason_code = kV311ConnackCodes[code];
    }
    // [MQTT-3.2.2-6] (5), [MQTT-3.2.2-4] (3.1.1)
    if (c.session_present && c.reason_code != ReasonCode::success) {
      return protocol_error("session present with an error");
    }
    if (v5_ && !properties(c.properties, kInConnack)) return false;
    return end_of_packet();
  }

  // §3.3
  void publish(std::uint8_t flags) {
    Publish& p = out_.packet.emplace<Publish>();
    p.dup = (flags & 0x08) != 0;
    p.qos = (flags >> 1) & 0x03;
    p.retain = (flags & 0x01) != 0;
    if (p.qos == 3) {
      malformed("QoS 3");  // [MQTT-3.3.1-4]
      return;
    }
    if (p.dup && p.qos == 0) {
      malformed("DUP set on QoS 0");  // [MQTT-3.3.1-2]
      return;
    }
    std::string_view topic;
    if (!r_.prefixed(topic)) {
      truncated();
      return;
    }
    if (!valid_utf8(topic)) {
      malformed("invalid UTF-8 string");
      return;
    }
    if (p.qos > 0 && !packet_id(p.packet_id, true)) return;
    if (v5_ && !properties(p.properties, kInPublish)) return;
    p.topic.assign(topic);
    p.payload.assign(r_.rest());
  }

  // §3.4-§3.7
  bool puback(PacketType type, const CodeSet& codes) {
    PubAck& a = out_.packet.emplace<PubAck>();
    a.type = type;
    if (!packet_id(a.packet_id, false)) return false;
    if (!v5_) return end_of_packet();
    // Remaining length 2: success, no properties; 3: no property length.
    if (r_.empty()) return end_of_packet();
    if (!reason_code(a.reason_code, codes)) return false;
    if (r_.empty()) return end_of_packet();
    if (!properties(a.properties, kInPubAck)) return false;
    return end_of_packet();
  }

  // §3.8
  bool subscribe() {
    Subscribe& s = out_.packet.emplace<Subscribe>();
    if (!packet_id(s.packet_id, true)) return false;
    if (v5_ && !properties(s.properties, kInSubscribe)) return false;
    s.subscriptions.reserve(r_.count_prefixed(1));
    while (!r_.empty()) {
      TopicSubscription& t = s.subscriptions.emplace_back();
      std::uint8_t options;
      if (!read_utf8(r_, t.filter)) return false;
      if (!r_.u8(options)) return truncated();
      t.options.max_qos = options & 0x03;
      if (v5_) {
        // §3.8.3.1
        if ((options & 0xC0) != 0) return malformed("reserved subscription option bits");
        if (t.options.max_qos == 3) return protocol_error("maximum QoS 3");
        t.options.no_local = (options & 0x04) != 0;
        t.options.retain_as_published = (options & 0x08) != 0;
        t.options.retain_handling = (options >> 4) & 0x03;
        if (t.options.retain_handling == 3) return protocol_error("retain handling 3");
        if (t.options.no_local && parse_shared(t.filter)) {
          return protocol_error("no local on a shared subscription");  // [MQTT-3.8.3-4]
        }
      } else {
        // 3.1.1 §3.8.3.1: upper 6 bits reserved, QoS 3 malformed.
        if ((options & 0xFC) != 0) return malformed("reserved subscription option bits");
        if (t.options.max_qos == 3) return malformed("requested QoS 3");
      }
    }
    if (s.subscriptions.empty()) return empty_payload("SUBSCRIBE without topic filters");
    return end_of_packet();
  }

  // [MQTT-3.8.3-2], [MQTT-3.10.3-2]: a protocol error in 5; 3.1.1 calls it a
  // protocol violation and has no reason codes, so it is malformed there.
  bool empty_payload(std::string_view what) {
    return v5_ ? protocol_error(what) : malformed(what);
  }

  // §3.9
  bool suback() {
    Suback& s = out_.packet.emplace<Suback>();
    if (!packet_id(s.packet_id, false)) return false;
    if (v5_ && !properties(s.properties, kInSuback)) return false;
    s.reason_codes.reserve(r_.left());
    while (!r_.empty()) {
      ReasonCode rc;
      if (v5_) {
        if (!reason_code(rc, kSubackCodes)) return false;
      } else {
        std::uint8_t b;
        r_.u8(b);
        if (b > 2 && b != 0x80) return protocol_error("invalid SUBACK return code");
        rc = static_cast<ReasonCode>(b);
      }
      s.reason_codes.push_back(rc);
    }
    if (s.reason_codes.empty()) return empty_payload("SUBACK without reason codes");
    return end_of_packet();
  }

  // §3.10
  bool unsubscribe() {
    Unsubscribe& u = out_.packet.emplace<Unsubscribe>();
    if (!packet_id(u.packet_id, true)) return false;
    if (v5_ && !properties(u.properties, kInUnsubscribe)) return false;
    u.filters.reserve(r_.count_prefixed(0));
    while (!r_.empty()) {
      if (!read_utf8(r_, u.filters.emplace_back())) return false;
    }
    if (u.filters.empty()) return empty_payload("UNSUBSCRIBE without topic filters");
    return end_of_packet();
  }

  // §3.11
  bool unsuback() {
    Unsuback& u = out_.packet.emplace<Unsuback>();
    if (!packet_id(u.packet_id, false)) return false;
    if (!v5_) return end_of_packet();
    if (!properties(u.properties, kInUnsuback)) return false;
    u.reason_codes.reserve(r_.left());
    while (!r_.empty()) {
      if (!reason_code(u.reason_codes.emplace_back(), kUnsubackCodes)) return false;
    }
    if (u.reason_codes.empty()) return protocol_error("UNSUBACK without reason codes");
    return end_of_packet();
  }

  // §3.14
  bool disconnect() {
    Disconnect& d = out_.packet.emplace<Disconnect>();
    if (!v5_ || r_.empty()) return end_of_packet();
    if (!reason_code(d.reason_code, kDisconnectCodes)) return false;
    // §3.14.2.2.1: a remaining length below 2 means no properties.
    if (r_.empty()) return end_of_packet();
    if (!properties(d.properties, kInDisconnect)) return false;
    return end_of_packet();
  }

  // §3.15
  bool auth() {
    Auth& a = out_.packet.emplace<Auth>();
    if (r_.empty()) return end_of_packet();
    if (!reason_code(a.reason_code, kAuthCodes)) return false;
    if (r_.empty()) return end_of_packet();
    if (!properties(a.properties, kInAuth)) return false;
    return end_of_packet();
  }

  Reader r_;
  bool v5_;
  DecodeResult& out_;
};

}  // namespace

DecodeResult decode(std::span<const std::uint8_t> packet, Version version) {
  DecodeResult result{Pingreq{}, std::nullopt};
  detail::FixedHeader header;
  if (detail::parse_fixed_header(packet, header) != detail::HeaderStatus::ok) {
    result.error = DecodeError{ReasonCode::malformed_packet, "invalid fixed header"};
    return result;
  }
  if (packet.size() - header.size != header.remaining_length) {
    result.error = DecodeError{ReasonCode::malformed_packet,
                               packet.size() - header.size < header.remaining_length
                                   ? "packet shorter than its remaining length"
                                   : "bytes after the end of the packet"};
    return result;
  }
  const std::uint8_t* body = packet.data() + header.size;
  Decoder decoder(Reader(body, body + header.remaining_length), version, result);
  decoder.run(header.first_byte);
  return result;
}

}  // namespace allscene::mqtt
