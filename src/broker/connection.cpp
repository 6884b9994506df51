#include "broker/connection.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/broker.hpp"
#include "broker/shard.hpp"
#include "log/module_log.hpp"
#include "mqtt/codec.hpp"
#include "mqtt/topic.hpp"

namespace allscene::broker {

using mqtt::PacketType;
using mqtt::ReasonCode;
using mqtt::Version;

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);

}  // namespace

Connection::Connection(Shard& shard, Transport& transport, PeerInfo peer, TimePoint now)
    : shard_(shard),
      transport_(transport),
      peer_(std::make_unique<PeerInfo>(std::move(peer))),
      id_(shard.new_connection_id()),
      last_activity_(now) {
  shard_.add_connection(id_, this);
}

Connection::~Connection() {
  if (state_ != State::closed && !shard_.broker().stopping()) end(true, std::nullopt, Clock::now());
  if (signed_in_) shard_.broker().observer()->signed_out(identity_, client_id_, end_reason());
  shard_.remove_connection(id_);
}

Connection::InboundState& Connection::inbound() {
  if (!inbound_) inbound_ = std::make_unique<InboundState>();
  return *inbound_;
}

ConnRef Connection::ref() const { return ConnRef{shard_.index(), id_}; }

std::size_t Connection::on_data(std::span<const std::uint8_t> data, TimePoint now) {
  const Limits& limits = shard_.broker().limits();
  std::size_t consumed = 0;
  while (state_ != State::closed && consumed < data.size()) {
    const auto rest = data.subspan(consumed);
    const mqtt::Frame f = mqtt::frame(rest, limits.max_packet_size);
    if (f.status == mqtt::FrameStatus::incomplete) break;
    if (f.status == mqtt::FrameStatus::error) {
      fail(f.error.reason, now);
      return data.size();
    }
    const auto bytes = rest.first(f.size);
    consumed += f.size;
    last_activity_ = now;
    shard_.stats().bytes_received.add(f.size);
    mqtt::DecodeResult r = mqtt::decode(bytes, version_);
    if (!r.ok()) {
      if (auto* c = std::get_if<mqtt::Connect>(&r.packet); c && state_ == State::awaiting_connect) {
        // A refused CONNECT is answered in the client's own version when the
        // spec asks for it (§3.1.2.2, [MQTT-3.1.3-9]); v5 always says why.
        const ReasonCode rc = r.error->reason;
        if (c->version == Version::v5 || rc == ReasonCode::unsupported_protocol_version ||
            rc == ReasonCode::client_identifier_not_valid) {
          refuse_connect(rc, c->version);
          return data.size();
        }
      }
      fail(r.error->reason, now);
      return data.size();
    }
    handle(r.packet, now);
  }
  return state_ == State::closed ? data.size() : consumed;
}

void Connection::handle(mqtt::Packet& packet, TimePoint now) {
  if (state_ == State::awaiting_connect) {
    if (auto* c = std::get_if<mqtt::Connect>(&packet)) {
      on_connect(*c, now);
    } else {
      // [MQTT-3.1.0-1] the first packet must be CONNECT: close, say nothing.
      state_ = State::closed;
      transport_.close();
    }
    return;
  }
  std::visit(
      [&](auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, mqtt::Publish>) {
          on_publish(p, now);
        } else if constexpr (std::is_same_v<T, mqtt::PubAck>) {
          if (p.type == PacketType::pubrel) {
            on_pubrel(p, now);
          } else {
            shard_.on_shard(home_, [cid = client_id_, conn = ref(), ack = p, now](Shard& s) {
              s.on_client_ack(cid, conn, ack, now);
            });
          }
        } else if constexpr (std::is_same_v<T, mqtt::Subscribe>) {
          on_subscribe(p, now);
        } else if constexpr (std::is_same_v<T, mqtt::Unsubscribe>) {
          on_unsubscribe(p, now);
        } else if constexpr (std::is_same_v<T, mqtt::Pingreq>) {
          send(mqtt::Pingresp{});
        } else if constexpr (std::is_same_v<T, mqtt::Disconnect>) {
          on_disconnect(p, now);
        } else {
          // A second CONNECT [MQTT-3.1.0-2], AUTH without an authentication
          // method (§4.12), or a packet only a server sends.
          fail(ReasonCode::protocol_error, now);
        }
      },
      packet);
}

void Connection::refuse_connect(ReasonCode reason, Version version) {
  mqtt::Connack ack;
  ack.reason_code = reason;
  std::vector<std::uint8_t> bytes;
  mqtt::encode(ack, version, bytes);
  transport_.send(bytes);
  state_ = State::closed;
  transport_.close();
}

void Connection::on_connect(mqtt::Connect& c, TimePoint now) {
  Broker& broker = shard_.broker();
  const Limits& limits = broker.limits();
  version_ = c.version;
  const bool v5 = version_ == Version::v5;
  mqtt::Connack ack;
  if (c.client_id.empty()) {
    // [MQTT-3.1.3-8] 3.1.1 allows an empty id only with a clean session.
    if (!v5 && !c.clean_start)
      return refuse_connect(ReasonCode::client_identifier_not_valid, version_);
    c.client_id = broker.assign_client_id();
    if (v5) ack.properties.assigned_client_identifier = c.client_id;
  } else if (c.client_id.size() > limits.max_client_id_length) {
    return refuse_connect(ReasonCode::client_identifier_not_valid, version_);
  }
  if (c.properties.authentication_method) {
    return refuse_connect(ReasonCode::bad_authentication_method, version_);
  }
  const Quota& quota = peer_->quota ? *peer_->quota : limits.quota;
  if (!broker.admit_connect(peer_->listener, c.client_id, quota, now)) {
    shard_.stats().quota_refused.add();
    module_log().info("{} ({}): connection rate exceeded, refused with 0x9F", c.client_id,
                      peer_->address);
    return refuse_connect(ReasonCode::connection_rate_exceeded, version_);
  }
  const AuthResult auth = broker.access().authenticate(*peer_, c);
  if (mqtt::is_error(auth.reason)) {
    shard_.stats().auth_failures.add();
    return refuse_connect(auth.reason, version_);
  }
  identity_ = auth.identity;

  std::optional<PendingWill> will;
  if (c.will) {
    if (!valid_topic_name(c.will->topic)) {
      return refuse_connect(ReasonCode::topic_name_invalid, version_);
    }
    if (!broker.access().may_publish(identity_, c.client_id, c.will->topic)) {
      return refuse_connect(ReasonCode::not_authorized, version_);
    }
    if (c.will->properties.payload_format_indicator == 1 && !mqtt::valid_utf8(c.will->payload)) {
      return refuse_connect(ReasonCode::payload_format_invalid, version_);
    }
    auto m = std::make_shared<Message>();
    m->topic = std::move(c.will->topic);
    m->payload = std::move(c.will->payload);
    m->qos = c.will->qos;
    m->retain = c.will->retain;
    const std::uint32_t delay = c.will->properties.will_delay_interval.value_or(0);
    m->properties = std::move(c.will->properties);
    m->properties.will_delay_interval.reset();
    m->origin_client_id = c.client_id;
    will = PendingWill{std::move(m), delay};
  }

  keep_alive_ = c.keep_alive;
  if (v5 && (keep_alive_ > limits.max_keep_alive ||
             (keep_alive_ == 0 && limits.max_keep_alive < 65535))) {
    keep_alive_ = limits.max_keep_alive;  // §3.2.2.3.14 Server Keep Alive
    ack.properties.server_keep_alive = keep_alive_;
  }
  std::uint32_t expiry =
      v5 ? c.properties.session_expiry_interval.value_or(0) : (c.clean_start ? 0 : 0xFFFFFFFF);
  session_expiry_was_zero_ = expiry == 0;
  if (expiry > limits.max_session_expiry) {
    expiry = limits.max_session_expiry;
    if (v5) ack.properties.session_expiry_interval = expiry;
  }
  if (v5) {
    ack.properties.receive_maximum = limits.max_inflight;
    ack.properties.maximum_packet_size = limits.max_packet_size;
    if (limits.topic_alias_maximum) ack.properties.topic_alias_maximum = limits.topic_alias_maximum;
  }
  ClientLimits client;
  client.version = version_;
  client.receive_maximum = c.properties.receive_maximum.value_or(65535);
  client.maximum_packet_size = c.properties.maximum_packet_size.value_or(0);
  client.topic_alias_maximum = c.properties.topic_alias_maximum.value_or(0);

  client_id_ = ClientId(c.client_id);
  if (quota.limits_publishing()) rate_ = std::make_unique<PublishRate>(quota);
  state_ = State::connected;
  peer_.reset();
  if (!identity_.empty()) {
    if (ClientObserver* o = broker.observer()) {
      o->signed_in(identity_, client_id_);
      signed_in_ = true;
    }
  }
  home_ = broker.home_of(client_id_, shard_.index());
  AttachRequest req{ref(),           client_id_, c.clean_start, expiry,
                    std::move(will), client,     std::move(ack)};
  shard_.on_shard(home_,
                  [req = std::move(req), now](Shard& s) mutable { s.attach(std::move(req), now); });
}

ReasonCode Connection::check_quota(const mqtt::Publish& p, TimePoint now) {
  if (!rate_) return ReasonCode::success;  // no publishing quota
  const Quota& q = rate_->quota;
  ReasonCode rc = ReasonCode::success;
  if (q.max_payload && p.payload.size() > q.max_payload) {
    rc = ReasonCode::packet_too_large;
  } else if (q.messages_per_second && !rate_->messages.take(1, q.messages_per_second, now)) {
    rc = ReasonCode::message_rate_too_high;
  } else if (q.bytes_per_second &&
             !rate_->bytes.take(static_cast<double>(p.payload.size()), q.bytes_per_second, now)) {
    rc = ReasonCode::quota_exceeded;
  }
  if (rc != ReasonCode::success) {
    shard_.stats().quota_refused.add();
    if (!rate_->logged) {  // once per connection: a flood must not flood the log
      rate_->logged = true;
      module_log().info("{}: publish refused by quota ({}); further refusals are only counted",
                        client_id_.view(), mqtt::reason_code_name(rc));
    }
  }
  return rc;
}

void Connection::denied(std::string_view what, std::string_view topic) {
  shard_.stats().access_denied.add();
  if (logged_denial_) return;  // once per connection: a flood must not flood the log
  logged_denial_ = true;
  module_log().info("{} ({}): {} {} denied; further denials are only counted", client_id_.view(),
                    identity_.empty() ? "anonymous" : identity_, what, topic);
}

bool Connection::valid_topic_name(std::string_view topic) const {
  const Limits& limits = shard_.broker().limits();
  return mqtt::valid_topic_name(topic) && topic.size() <= limits.max_topic_length &&
         mqtt::topic_levels(topic) <= limits.max_topic_levels;
}

void Connection::on_publish(mqtt::Publish& p, TimePoint now) {
  Broker& broker = shard_.broker();
  const Limits& limits = broker.limits();
  auto& props = p.properties;
  // §3.3.2.3.4 Topic Alias: 0 or above our maximum is an error; an alias
  // with a topic (re)defines it, an alias alone uses it.
  if (props.topic_alias) {
    const std::uint16_t alias = *props.topic_alias;
    if (alias == 0 || alias > limits.topic_alias_maximum) {
      return fail(ReasonCode::topic_alias_invalid, now);
    }
    if (p.topic.empty()) {
      auto& aliases = inbound().aliases;
      auto it = aliases.find(alias);
      if (it == aliases.end()) return fail(ReasonCode::protocol_error, now);
      p.topic = it->second;
    } else {
      inbound().aliases[alias] = p.topic;
    }
    props.topic_alias.reset();
  }
  // §3.3.2.3.4: an empty topic without an alias is a Protocol Error.
  if (p.topic.empty()) return fail(ReasonCode::protocol_error, now);
  if (!valid_topic_name(p.topic)) return fail(ReasonCode::topic_name_invalid, now);
  // [MQTT-3.3.4-6] a client must not send Subscription Identifiers.
  if (!props.subscription_identifiers.empty()) return fail(ReasonCode::protocol_error, now);
  if (p.qos == 2 && !inbound().qos2.contains(p.packet_id)) {
    // §3.3.4: more unacknowledged QoS 2 PUBLISHes than our Receive Maximum.
    if (inbound_->qos2.size() >= limits.max_inflight) {
      return fail(ReasonCode::receive_maximum_exceeded, now);
    }
  }
  const PacketType ack_type = p.qos == 2 ? PacketType::pubrec : PacketType::puback;
  if (const ReasonCode rc = check_quota(p, now); rc != ReasonCode::success) {
    // 0x95 and 0x96 exist only in DISCONNECT (§3.14.2.1); PUBACK and
    // PUBREC can say 0x97 (§3.4.2.1).
    if (rc != ReasonCode::quota_exceeded) return fail(rc, now);
    if (p.qos == 0) return;  // nothing to answer: dropped, counted
    if (version_ == Version::v5) return ack_publish(ack_type, p.packet_id, rc);
    return fail(rc, now);  // 3.1.1 has no code for it
  }
  if (props.payload_format_indicator == 1 && !mqtt::valid_utf8(p.payload)) {
    if (p.qos > 0) ack_publish(ack_type, p.packet_id, ReasonCode::payload_format_invalid);
    return;
  }
  if (!broker.access().may_publish(identity_, client_id_, p.topic)) {
    denied("publish to", p.topic);
    // v5: PUBACK/PUBREC 0x87; 3.1.1 has no such code, so the message is
    // acknowledged and discarded, or the connection closed, as configured
    // (§3.3.5 of 3.1.1 allows both).
    if (version_ == Version::v311 && limits.close_on_denied_publish_v311) {
      return fail(ReasonCode::not_authorized, now);
    }
    if (p.qos > 0) {
      ack_publish(ack_type, p.packet_id,
                  version_ == Version::v5 ? ReasonCode::not_authorized : ReasonCode::success);
    }
    return;
  }
  if (p.qos > 0 && broker.store() && !broker.store()->healthy()) {
    // The store cannot keep it (disk full, I/O error): refuse rather than
    // acknowledge what could be lost. 3.1.1 has no code for it: close.
    if (version_ == Version::v5)
      return ack_publish(ack_type, p.packet_id, ReasonCode::quota_exceeded);
    return fail(ReasonCode::quota_exceeded, now);
  }
  shard_.stats().messages_received.add();
  shard_.stats().received_by_qos[p.qos].add();
  if (TopicHandler* handler = broker.handler_for(p.topic)) {
    // Handler topics carry QoS 0 and 1 only (as Azure IoT Hub does).
    if (p.qos == 2) return fail(ReasonCode::qos_not_supported, now);
    struct Reply final : HandlerReply {
      Connection& c;
      explicit Reply(Connection& conn) : c(conn) {}
      void publish(std::string topic, std::string payload, mqtt::Properties props) override {
        mqtt::Publish out;
        out.topic = std::move(topic);
        out.payload = std::move(payload);
        out.properties = std::move(props);
        c.send(out);
      }
    } reply(*this);
    handler->on_publish(client_id_, identity_, p, reply);
    if (p.qos == 1) ack_publish(PacketType::puback, p.packet_id, ReasonCode::success);
    return;
  }

  auto m = std::make_shared<Message>();
  m->topic = std::move(p.topic);
  m->payload = std::move(p.payload);
  m->qos = p.qos;
  m->retain = p.retain;
  if (props.message_expiry_interval) {
    m->expires_at = now + std::chrono::seconds(*props.message_expiry_interval);
    props.message_expiry_interval.reset();
  }
  m->properties = std::move(props);
  m->origin_client_id = client_id_.str();
  if (p.qos > 0) m->id = shard_.new_message_id();
  switch (p.qos) {
    case 0:
      shard_.route(m, now);
      break;
    case 1:
      if (auto ack =
              shard_.pending_ack(*m, false, ref(), version_, PacketType::puback, p.packet_id)) {
        shard_.route(m, now, std::move(ack));  // PUBACK once it is durable
      } else {
        shard_.route(m, now);
        ack_publish(PacketType::puback, p.packet_id, ReasonCode::success);
      }
      break;
    default:
      inbound().qos2.insert(p.packet_id);
      shard_.on_shard(home_, [cid = client_id_, conn = ref(), id = p.packet_id, m, now](Shard& s) {
        s.inbound_qos2(cid, conn, id, m, now);
      });
  }
}

void Connection::on_pubrel(const mqtt::PubAck& pubrel, TimePoint /*now*/) {
  if (inbound_) inbound_->qos2.erase(pubrel.packet_id);
  shard_.on_shard(home_, [cid = client_id_, conn = ref(), id = pubrel.packet_id](Shard& s) {
    s.pubrel(cid, conn, id);
  });
}

void Connection::on_subscribe(mqtt::Subscribe& sub, TimePoint now) {
  Broker& broker = shard_.broker();
  const Limits& limits = broker.limits();
  if (sub.properties.subscription_identifiers.size() > 1) {
    return fail(ReasonCode::protocol_error, now);
  }
  SubscribeRequest req{ref(), client_id_, {}, {}};
  req.verdicts.reserve(sub.subscriptions.size());
  for (const auto& s : sub.subscriptions) {
    const auto shared = mqtt::parse_shared(s.filter);
    // [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error.
    if (shared && s.options.no_local) return fail(ReasonCode::protocol_error, now);
    ReasonCode rc = static_cast<ReasonCode>(std::min<std::uint8_t>(s.options.max_qos, 2));
    if (!mqtt::valid_topic_filter(s.filter) || s.filter.size() > limits.max_topic_length ||
        mqtt::topic_levels(s.filter) > limits.max_topic_levels) {
      rc = ReasonCode::topic_filter_invalid;
    } else if (!broker.access().may_subscribe(identity_, client_id_, s.filter)) {
      denied("subscribe to", s.filter);
      rc = ReasonCode::not_authorized;
    }
    req.verdicts.push_back(rc);
  }
  req.packet = std::move(sub);
  shard_.on_shard(
      home_, [req = std::move(req), now](Shard& s) mutable { s.subscribe(std::move(req), now); });
}

void Connection::on_unsubscribe(mqtt::Unsubscribe& unsub, TimePoint /*now*/) {
  shard_.on_shard(home_, [cid = client_id_, conn = ref(), p = std::move(unsub)](Shard& s) {
    s.unsubscribe(cid, conn, p);
  });
}

void Connection::on_disconnect(const mqtt::Disconnect& d, TimePoint now) {
  std::optional<std::uint32_t> expiry = d.properties.session_expiry_interval;
  if (expiry) {
    // §3.14.2.2.2: zero at CONNECT cannot become non-zero at DISCONNECT.
    if (session_expiry_was_zero_ && *expiry != 0) return fail(ReasonCode::protocol_error, now);
    expiry = std::min(*expiry, shard_.broker().limits().max_session_expiry);
  }
  // §3.14.4: a normal DISCONNECT discards the will; 0x04 asks for it.
  ended_by_ = d.reason_code;
  client_ended_ = true;
  end(d.reason_code == ReasonCode::disconnect_with_will, expiry, now);
  transport_.close();
}

void Connection::fail(ReasonCode reason, TimePoint now) {
  if (state_ == State::closed) return;
  shard_.stats().protocol_errors.add();
  ended_by_ = reason;
  // A v5 server may say why before closing (§4.13.2); 3.1.1 just closes.
  if (state_ == State::connected && version_ == Version::v5) {
    send(mqtt::Disconnect{reason, {}});
  }
  end(true, std::nullopt, now);
  transport_.close();
}

void Connection::kick(ReasonCode reason, TimePoint now) {
  if (state_ == State::closed) return;
  ended_by_ = reason;
  if (state_ == State::connected && version_ == Version::v5) send(mqtt::Disconnect{reason, {}});
  end(false, std::nullopt, now);
  transport_.close();
}

void Connection::on_closed(TimePoint now) {
  if (state_ != State::closed) end(true, std::nullopt, now);
}

void Connection::end(bool publish_will, std::optional<std::uint32_t> new_expiry, TimePoint now) {
  const bool was_connected = state_ == State::connected;
  state_ = State::closed;
  if (!was_connected) return;
  shard_.on_shard(home_, [cid = client_id_, conn = ref(), publish_will, new_expiry, now](Shard& s) {
    s.detach(cid, conn, publish_will, new_expiry, now);
  });
}

std::string Connection::end_reason() const {
  if (!ended_by_) return "connection lost";
  if (client_ended_ && *ended_by_ == ReasonCode::success) return "client disconnected";
  if (client_ended_)
    return fmt::format("client disconnected ({})", mqtt::reason_code_name(*ended_by_));
  return std::string(mqtt::reason_code_name(*ended_by_));
}

void Connection::check_keep_alive(TimePoint now) {
  if (state_ == State::awaiting_connect && now - last_activity_ > kConnectTimeout) {
    state_ = State::closed;
    transport_.close();
    return;
  }
  // §3.1.2.10: silence for 1.5 times the Keep Alive ends the connection.
  if (state_ == State::connected && keep_alive_ > 0 &&
      now - last_activity_ > std::chrono::milliseconds(keep_alive_ * 1500)) {
    fail(ReasonCode::keep_alive_timeout, now);
  }
}

void Connection::send(const mqtt::Packet& packet) {
  std::vector<std::uint8_t>& buf = shard_.scratch();
  buf.clear();
  mqtt::encode(packet, version_, buf);
  transport_.send(buf);
}

void Connection::ack_publish(PacketType type, std::uint16_t packet_id, ReasonCode reason) {
  send(mqtt::PubAck{type, packet_id, reason, {}});
}

}  // namespace allscene::broker
