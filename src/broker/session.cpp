#include "broker/session.hpp"

#include <algorithm>

#include "mqtt/codec.hpp"

namespace allscene::broker {

using mqtt::PacketType;
using mqtt::ReasonCode;

std::optional<std::uint32_t> Message::remaining_expiry(TimePoint now) const {
  if (!expires_at) return std::nullopt;
  const auto left = std::chrono::ceil<std::chrono::seconds>(*expires_at - now).count();
  return static_cast<std::uint32_t>(std::max<long long>(left, 0));
}

std::int64_t to_wall_ms(TimePoint t) {
  const auto wall =
      std::chrono::system_clock::now() +
      std::chrono::duration_cast<std::chrono::system_clock::duration>(t - Clock::now());
  return std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
}

TimePoint from_wall_ms(std::int64_t ms) {
  const auto wall = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(wall - std::chrono::system_clock::now());
}

namespace {
std::uint64_t queued_size(const Delivery& d) {
  return d.message->payload.size() + d.message->topic.size();
}

// A delivery's packet id follows from its number, so it is the same after
// a restart (§4.4 resends "using their original Packet Identifiers").
std::uint16_t packet_id_of(std::uint64_t seq) {
  return static_cast<std::uint16_t>(seq % 65535 + 1);
}
}  // namespace

Session::Session(ClientId client_id, const Limits& limits)
    : client_id_(std::move(client_id)), server_(limits) {}

const Session::Subscriptions& Session::subscriptions() const {
  static const Subscriptions none;
  return subscriptions_ ? *subscriptions_ : none;
}

bool Session::set_subscription(const std::string& filter, const SubscriptionEntry& entry) {
  if (!subscriptions_) subscriptions_ = std::make_unique<Subscriptions>();
  return subscriptions_->insert_or_assign(filter, entry).second;
}

bool Session::erase_subscription(const std::string& filter) {
  if (!subscriptions_ || !subscriptions_->erase(filter)) return false;
  if (subscriptions_->empty()) subscriptions_.reset();
  return true;
}

const std::optional<PendingWill>& Session::will() const {
  static const std::optional<PendingWill> none;
  return pending_ ? pending_->will : none;
}

void Session::set_will(std::optional<PendingWill> will) {
  if (!pending_ && !will) return;
  if (!pending_) pending_ = std::make_unique<Pending>();
  pending_->will = std::move(will);
  trim_pending();
}

std::optional<TimePoint> Session::will_at() const {
  return pending_ ? pending_->will_at : std::nullopt;
}

void Session::set_will_at(std::optional<TimePoint> at) {
  if (!pending_ && !at) return;
  if (!pending_) pending_ = std::make_unique<Pending>();
  pending_->will_at = at;
  trim_pending();
}

std::optional<TimePoint> Session::expires_at() const {
  return pending_ ? pending_->expires_at : std::nullopt;
}

void Session::set_expires_at(std::optional<TimePoint> at) {
  if (!pending_ && !at) return;
  if (!pending_) pending_ = std::make_unique<Pending>();
  pending_->expires_at = at;
  trim_pending();
}

void Session::trim_pending() {
  if (!pending_->will && !pending_->will_at && !pending_->expires_at) pending_.reset();
}

Session::Flow& Session::flow() {
  if (!flow_) flow_ = std::make_unique<Flow>();
  return *flow_;
}

void Session::attach(Outlet& out, ConnRef conn, const ClientLimits& limits, TimePoint now) {
  conn_ = conn;
  limits_ = limits;
  set_expires_at(std::nullopt);
  set_will_at(std::nullopt);
  if (!flow_) return;          // nothing in flight, queued or aliased
  flow_->out_aliases.reset();  // aliases live only as long as a connection (§3.3.2.3.4)
  // §4.4: resend unacknowledged PUBLISH with DUP set, and PUBREL.
  for (auto& f : flow_->inflight) {
    if (f.state == State::awaiting_comp) {
      send_ack(out, PacketType::pubrel, f.packet_id, ReasonCode::success);
    } else if (f.state != State::releasing) {  // releasing: PUBREL follows the commit
      send_publish(out, f.delivery, f.packet_id, true, now);
    }
  }
  pump(out, now);
}

void Session::deliver(Outlet& out, Delivery&& d, TimePoint now) {
  if (d.qos == 0) {
    if (online()) {
      send_publish(out, d, 0, false, now);
    } else {
      out.count_drop(DropReason::qos0_offline);
    }
    return;
  }
  enqueue(out, std::move(d));
  if (online()) pump(out, now);
}

void Session::drop_expired(Outlet& out, TimePoint now) {
  if (!flow_ || !flow_->queue) return;
  auto& queue = flow_->queue;
  std::erase_if(*queue, [&](const Delivery& d) {
    if (!d.message->expired(now)) return false;
    const std::uint64_t size = queued_size(d);
    flow_->queued_bytes -= size;
    out.account_queued(-static_cast<std::int64_t>(size), -1);
    out.count_drop(DropReason::expired);
    if (d.message->receipt) out.receipt(client_id_, d.message, false);
    forget(out, d);
    return true;
  });
  if (queue->empty()) queue.reset();
}

void Session::enqueue(Outlet& out, Delivery&& d) {
  Flow& f = flow();
  const std::uint64_t size = queued_size(d);
  auto full = [&] {
    return queued_count() >= server_.max_queued_messages ||
           f.queued_bytes + size > server_.max_queued_bytes;
  };
  // A full queue drops the newest message, or with drop_oldest makes room by
  // dropping from the front; either way the drop is counted.
  while (server_.drop_oldest && queued_count() > 0 && full()) {
    forget(out, pop_queued(out));
    out.count_drop(DropReason::queue_full);
  }
  if (full()) {
    out.count_drop(DropReason::queue_full);
    return;
  }
  d.seq = ++f.next_seq;
  if (durable_) {
    out.persist(store_op::SaveDelivery{client_id_.str(), d.seq, d.message, d.qos, d.retain,
                                       d.subscription_ids});
    if (d.qos == 2) out.on_durable(client_id_, d.seq);
  } else {
    f.committed_seq = d.seq;
  }
  push_queued(out, std::move(d));
}

void Session::push_queued(Outlet& out, Delivery&& d) {
  Flow& f = flow();
  const std::uint64_t size = queued_size(d);
  f.queued_bytes += size;
  out.account_queued(static_cast<std::int64_t>(size), 1);
  if (!f.queue) f.queue = std::make_unique<std::deque<Delivery>>();
  f.queue->push_back(std::move(d));
}

Delivery Session::pop_queued(Outlet& out) {
  Flow& f = *flow_;  // something is queued
  Delivery d = std::move(f.queue->front());
  f.queue->pop_front();
  if (f.queue->empty()) f.queue.reset();
  const std::uint64_t size = queued_size(d);
  f.queued_bytes -= size;
  out.account_queued(-static_cast<std::int64_t>(size), -1);
  return d;
}

void Session::pump(Outlet& out, TimePoint now) {
  if (!flow_) return;  // nothing queued
  Flow& f = *flow_;
  const std::size_t quota = std::min<std::size_t>(limits_.receive_maximum, server_.max_inflight);
  while (online() && queued_count() > 0 && f.inflight.size() < quota) {
    const Delivery& next = f.queue->front();
    if (next.qos == 2 && next.seq > f.committed_seq) break;  // not durable yet
    const std::uint16_t id = packet_id_of(next.seq);
    // Its id is still in use 65535 deliveries later: wait for that ack.
    if (find_inflight(id)) break;
    Delivery d = pop_queued(out);
    if (!send_publish(out, d, id, d.dup, now)) {
      forget(out, d);
      continue;
    }
    f.inflight.push_back(
        {id, d.qos == 1 ? State::awaiting_ack : State::awaiting_rec, std::move(d)});
    out.account_inflight(1);
  }
}

void Session::forget(Outlet& out, const Delivery& d) {
  if (durable_) {
    out.persist(
        store_op::DeleteDelivery{client_id_.str(), d.seq, d.message->id, d.message->recoverable});
  }
}

bool Session::begin_inbound_qos2(Outlet& out, std::uint16_t packet_id, const MessagePtr& message) {
  auto& awaiting_rel = flow().awaiting_rel;
  if (!awaiting_rel) awaiting_rel = std::make_unique<std::unordered_set<std::uint16_t>>();
  if (!awaiting_rel->insert(packet_id).second) return false;
  if (durable_) {
    out.persist(store_op::SaveInboundQos2{client_id_.str(), packet_id,
                                          message->recoverable ? message : nullptr});
  }
  return true;
}

bool Session::release_inbound_qos2(Outlet& out, std::uint16_t packet_id) {
  if (!flow_ || !flow_->awaiting_rel || flow_->awaiting_rel->erase(packet_id) == 0) return false;
  if (durable_) out.persist(store_op::DeleteInboundQos2{client_id_.str(), packet_id});
  return true;
}

void Session::persist_all(Outlet& out) {
  auto save = [&](const Delivery& d) {
    out.persist(store_op::SaveDelivery{client_id_.str(), d.seq, d.message, d.qos, d.retain,
                                       d.subscription_ids});
  };
  if (!flow_) return;  // nothing to persist
  for (const auto& f : flow_->inflight) {
    save(f.delivery);
    if (f.state == State::releasing || f.state == State::awaiting_comp) {
      out.persist(store_op::ReleaseDelivery{client_id_.str(), f.delivery.seq});
    }
  }
  if (flow_->queue) {
    for (const auto& d : *flow_->queue) save(d);
  }
  if (flow_->awaiting_rel) {
    for (const auto id : *flow_->awaiting_rel)
      out.persist(store_op::SaveInboundQos2{client_id_.str(), id});
  }
}

void Session::restore(Outlet& out, std::vector<StoredDelivery>&& deliveries,
                      const std::vector<std::uint16_t>& inbound_qos2) {
  if (deliveries.empty() && inbound_qos2.empty()) return;
  Flow& f = flow();
  for (auto& s : deliveries) {
    f.next_seq = std::max(f.next_seq, s.seq);
    Delivery d{std::move(s.message), s.qos, s.retain, std::move(s.subscription_ids), s.seq, true};
    if (s.released) {
      f.inflight.push_back({packet_id_of(d.seq), State::awaiting_comp, std::move(d)});
      out.account_inflight(1);
    } else {
      push_queued(out, std::move(d));
    }
  }
  if (!inbound_qos2.empty()) {
    if (!f.awaiting_rel) f.awaiting_rel = std::make_unique<std::unordered_set<std::uint16_t>>();
    f.awaiting_rel->insert(inbound_qos2.begin(), inbound_qos2.end());
  }
  f.committed_seq = f.next_seq;
}

Session::Inflight* Session::find_inflight(std::uint16_t packet_id) {
  if (!flow_) return nullptr;
  for (auto& f : flow_->inflight) {
    if (f.packet_id == packet_id) return &f;
  }
  return nullptr;
}

bool Session::send_publish(Outlet& out, const Delivery& d, std::uint16_t packet_id, bool dup,
                           TimePoint now) {
  const Message& m = *d.message;
  if (m.expired(now)) {
    out.count_drop(DropReason::expired);
    if (m.receipt) out.receipt(client_id_, d.message, false);
    return false;
  }
  mqtt::PublishHeader h;
  h.dup = dup;
  h.qos = d.qos;
  h.retain = d.retain;
  h.topic = m.topic;
  h.packet_id = packet_id;
  h.payload_size = m.payload.size();
  std::uint16_t new_alias = 0;
  if (limits_.version == mqtt::Version::v5) {
    h.properties = &m.properties;
    h.message_expiry_interval = m.remaining_expiry(now);
    h.subscription_identifiers = d.subscription_ids;
    if (limits_.topic_alias_maximum > 0) {
      auto& aliases = flow().out_aliases;
      if (!aliases) aliases = std::make_unique<std::unordered_map<std::string, std::uint16_t>>();
      if (auto it = aliases->find(m.topic); it != aliases->end()) {
        h.topic_alias = it->second;
        h.topic = {};
      } else if (aliases->size() < limits_.topic_alias_maximum) {
        new_alias = static_cast<std::uint16_t>(aliases->size() + 1);
        h.topic_alias = new_alias;
      }
    }
  }
  auto& buf = out.scratch();
  buf.clear();
  mqtt::encode_publish_header(h, limits_.version, buf);
  // §3.1.2.11.4: never send a packet larger than the client accepts; the
  // message is dropped as if it had been delivered.
  if (limits_.maximum_packet_size && buf.size() + m.payload.size() > limits_.maximum_packet_size) {
    out.count_drop(DropReason::too_large);
    return false;
  }
  if (new_alias) flow_->out_aliases->emplace(m.topic, new_alias);
  out.write_publish(conn_, buf, d.message);
  return true;
}

void Session::send_ack(Outlet& out, PacketType type, std::uint16_t packet_id, ReasonCode reason) {
  if (!online()) return;
  auto& buf = out.scratch();
  buf.clear();
  mqtt::encode(mqtt::PubAck{type, packet_id, reason, {}}, limits_.version, buf);
  out.write(conn_, buf);
}

void Session::finish_inflight(Outlet& out, Inflight* entry, TimePoint now) {
  forget(out, entry->delivery);
  auto& inflight = flow_->inflight;  // entry is in it
  inflight.erase(inflight.begin() + (entry - inflight.data()));
  out.account_inflight(-1);
  pump(out, now);
}

void Session::on_puback(Outlet& out, std::uint16_t packet_id, TimePoint now) {
  Inflight* f = find_inflight(packet_id);
  if (!f || f->state != State::awaiting_ack) return;  // unknown id: nothing to answer
  if (f->delivery.message->receipt) out.receipt(client_id_, f->delivery.message, true);
  finish_inflight(out, f, now);
}

bool Session::on_pubrec(Outlet& out, std::uint16_t packet_id, ReasonCode reason, TimePoint now) {
  Inflight* f = find_inflight(packet_id);
  if (!f || f->state == State::awaiting_ack) {
    send_ack(out, PacketType::pubrel, packet_id, ReasonCode::packet_identifier_not_found);
    return false;
  }
  if (mqtt::is_error(reason)) {  // §4.3.3: an error PUBREC ends the flow
    finish_inflight(out, f, now);
    return false;
  }
  if (f->state != State::awaiting_rec) return false;  // a repeated PUBREC
  if (durable_) {
    // After PUBREL the client forgets the packet id, so a restart must not
    // resend the PUBLISH: the release is made durable first.
    f->state = State::releasing;
    out.persist(store_op::ReleaseDelivery{client_id_.str(), f->delivery.seq});
    return true;
  }
  f->state = State::awaiting_comp;
  send_ack(out, PacketType::pubrel, packet_id, ReasonCode::success);
  return false;
}

void Session::committed(Outlet& out, std::uint64_t seq, TimePoint now) {
  Flow& f = flow();
  f.committed_seq = std::max(f.committed_seq, seq);
  if (online()) pump(out, now);
}

void Session::release_committed(Outlet& out, std::uint16_t packet_id) {
  Inflight* f = find_inflight(packet_id);
  if (!f || f->state != State::releasing) return;
  f->state = State::awaiting_comp;
  send_ack(out, PacketType::pubrel, packet_id, ReasonCode::success);
}

void Session::on_pubcomp(Outlet& out, std::uint16_t packet_id, TimePoint now) {
  Inflight* f = find_inflight(packet_id);
  if (!f || f->state != State::awaiting_comp) return;
  finish_inflight(out, f, now);
}

}  // namespace allscene::broker
