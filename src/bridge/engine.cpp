#include "bridge/engine.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "bridge/rules.hpp"
#include "log/module_log.hpp"

namespace allscene::bridge {

namespace {

// The properties a forwarded message keeps: the per-hop ones (topic
// alias, subscription identifiers) belong to the link it arrived on.
mqtt::Properties forwarded(mqtt::Properties p) {
  p.topic_alias.reset();
  p.subscription_identifiers.clear();
  return p;
}

mqtt::PubAck puback(std::uint16_t packet_id) {
  mqtt::PubAck ack;
  ack.packet_id = packet_id;
  return ack;
}

}  // namespace

Engine::Engine(const BridgeConfig& config, UpstreamPort& upstream, LocalPort& local)
    : config_(config), upstream_(upstream), local_(local) {}

std::vector<mqtt::TopicSubscription> Engine::local_subscriptions(std::span<const Rule> rules) {
  std::vector<mqtt::TopicSubscription> subs;
  for (const auto& r : rules) {
    if (!goes_out(r)) continue;
    // No Local: what the bridge publishes locally (inbound traffic) is
    // never delivered back to it, so it never goes out again (§3.8.3.1).
    // Retain As Published: retained state goes upstream as retained.
    // Retain Handling 1: retained messages only for a new subscription,
    // not again at every restart of the persistent session.
    subs.push_back({local_filter(r), {max_link_qos(r), true, true, 1}});
  }
  return subs;
}

void Engine::on_upstream_up(const mqtt::Connack& connack) {
  up_ = true;
  ++link_;
  session_present_ = connack.session_present;
  upstream_max_qos_ = connack.properties.maximum_qos.value_or(2);
  upstream_window_ =
      std::min<std::size_t>(config_.inflight, connack.properties.receive_maximum.value_or(65535));
  inflight_ = 0;
  // A SUBACK the last link never brought frees its packet id here.
  if (subscribe_id_ != 0) ids_in_use_.erase(std::exchange(subscribe_id_, 0));
  subscribe_upstream(session_present_);
  send_held();
}

void Engine::on_upstream_down() {
  up_ = false;
  ++link_;
  inflight_ = 0;
}

void Engine::subscribe_upstream(bool session_present) {
  // MQTT 3.1.1 has no Retain Handling: a resumed session keeps its
  // subscriptions, and subscribing again would resend every retained
  // message at each reconnection.
  if (session_present && config_.version == mqtt::Version::v311) return;
  mqtt::Subscribe sub;
  for (const auto& r : config_.rules) {
    if (!comes_in(r)) continue;
    // No Local: the upstream never returns what this bridge published
    // (§3.8.3.1); Retain As Published keeps the retain flag of live
    // messages, so retained state is mirrored as retained (§3.8.3.1).
    sub.subscriptions.push_back({remote_filter(r), {max_link_qos(r), true, true, 1}});
  }
  if (sub.subscriptions.empty()) return;
  sub.packet_id = subscribe_id_ = next_packet_id();
  upstream_.send(sub);
}

void Engine::send_held() {
  if (!up_) return;
  for (auto& h : held_) {
    if (inflight_ >= upstream_window_) return;
    if (h.sent_on == link_) continue;
    // A resend within a resumed session carries DUP (§3.3.1.1, §4.4); in
    // a new session the upstream never saw it under this packet id.
    h.publish.dup = h.sent_on != 0 && session_present_;
    upstream_.send(h.publish);
    h.sent_on = link_;
    ++inflight_;
  }
}

void Engine::on_local_message(const mqtt::Publish& delivered) {
  const Rule* rule = out_rule_for(config_.rules, delivered.topic);
  auto topic = rule ? to_remote(*rule, delivered.topic) : std::nullopt;
  if (!topic) {
    ++stats_.unmatched;
    if (delivered.qos > 0) local_.acknowledge(delivered.packet_id);
    return;
  }
  mqtt::Publish out;
  out.topic = std::move(*topic);
  out.payload = delivered.payload;
  out.retain = delivered.retain;
  out.properties = forwarded(delivered.properties);
  out.qos = std::min<std::uint8_t>({delivered.qos, upstream_max_qos_, 1});
  if (out.qos == 0) {
    if (!up_) {
      ++stats_.dropped_qos0_offline;
    } else if (upstream_.queued_bytes() > kMaxUpstreamBuffer) {
      ++stats_.dropped_qos0_congested;
    } else {
      upstream_.send(out);
      ++stats_.forwarded_out;
    }
    if (delivered.qos > 0) local_.acknowledge(delivered.packet_id);
    return;
  }
  out.packet_id = next_packet_id();
  held_.push_back(Held{delivered.packet_id, std::move(out), 0});
  send_held();
}

void Engine::on_upstream_packet(const mqtt::Packet& packet) {
  if (const auto* p = std::get_if<mqtt::Publish>(&packet)) {
    on_upstream_publish(*p);
  } else if (const auto* ack = std::get_if<mqtt::PubAck>(&packet)) {
    if (ack->type == mqtt::PacketType::puback) on_puback(*ack);
  } else if (const auto* sub = std::get_if<mqtt::Suback>(&packet)) {
    on_suback(*sub);
  }
}

void Engine::on_puback(const mqtt::PubAck& ack) {
  const auto it = std::find_if(held_.begin(), held_.end(), [&](const Held& h) {
    return h.sent_on == link_ && h.publish.packet_id == ack.packet_id;
  });
  if (it == held_.end()) return;
  if (mqtt::is_error(ack.reason_code)) {
    // Resending cannot change the upstream's mind (not authorised, quota):
    // the message is dropped, or it would block the queue behind it.
    ++stats_.refused_upstream;
    module_log().warn("bridge {}: the upstream refused a message on {}: {} (dropped)", config_.name,
                      it->publish.topic, mqtt::reason_code_name(ack.reason_code));
  } else {
    ++stats_.forwarded_out;
  }
  local_.acknowledge(it->local_id);
  ids_in_use_.erase(it->publish.packet_id);
  held_.erase(it);
  if (inflight_ > 0) --inflight_;
  send_held();
}

void Engine::on_suback(const mqtt::Suback& ack) {
  if (ack.packet_id != subscribe_id_) return;
  ids_in_use_.erase(ack.packet_id);
  std::size_t i = 0;
  for (const auto& r : config_.rules) {
    if (!comes_in(r)) continue;
    if (i < ack.reason_codes.size() && mqtt::is_error(ack.reason_codes[i])) {
      module_log().warn("bridge {}: the upstream refused the subscription {}: {}", config_.name,
                        remote_filter(r), mqtt::reason_code_name(ack.reason_codes[i]));
    }
    ++i;
  }
}

void Engine::on_upstream_publish(const mqtt::Publish& publish) {
  const Rule* rule = in_rule_for(config_.rules, publish.topic);
  auto topic = rule ? to_local(*rule, publish.topic) : std::nullopt;
  const std::uint16_t upstream_id = publish.packet_id;
  if (!topic) {
    ++stats_.unmatched;
    if (publish.qos == 1) upstream_.send(puback(upstream_id));
    return;
  }
  mqtt::Publish in;
  in.topic = std::move(*topic);
  in.payload = publish.payload;
  in.retain = publish.retain;
  in.qos = std::min<std::uint8_t>(publish.qos, 1);
  in.properties = forwarded(publish.properties);
  const bool ack = publish.qos == 1;
  if (++local_pending_ >= kMaxLocalPending && reading_) {
    reading_ = false;
    upstream_.set_reading(false);
  }
  local_.publish(std::move(in), [this, link = link_, upstream_id, ack](bool ok) {
    local_answered();
    if (!ok) {
      ++stats_.refused_local;
      return;  // not acknowledged: the upstream sends it again
    }
    ++stats_.forwarded_in;
    // Owed on a link that has gone: the upstream resends on the next one.
    if (ack && up_ && link == link_) {
      upstream_.send(puback(upstream_id));
    }
  });
}

void Engine::local_answered() {
  --local_pending_;
  if (!reading_ && local_pending_ <= kMaxLocalPending / 2) {
    reading_ = true;
    upstream_.set_reading(true);
  }
}

std::uint16_t Engine::next_packet_id() {
  do {
    last_id_ = static_cast<std::uint16_t>(last_id_ == 0xFFFF ? 1 : last_id_ + 1);
  } while (ids_in_use_.contains(last_id_));
  ids_in_use_.insert(last_id_);
  return last_id_;
}

}  // namespace allscene::bridge
