#include "broker/shard.hpp"

#include <algorithm>

#include "broker/broker.hpp"
#include "broker/connection.hpp"
#include "mqtt/codec.hpp"
#include "mqtt/topic.hpp"

namespace allscene::broker {

using mqtt::ReasonCode;

namespace {
// Retained messages are kept in the store, except the hub's own $SYS ones.
bool stored_retained(const Message& m) { return m.retain && !m.topic.starts_with("$SYS/"); }

// What a message routed to another shard holds in memory, roughly.
std::uint64_t crossing_size(const Message& m) { return m.payload.size() + m.topic.size() + 128; }
}  // namespace

Shard::Shard(Broker& broker, std::uint32_t index)
    : broker_(broker), index_(index), outboxes_(broker.executor().shard_count()) {}

Shard::~Shard() = default;

// ---- cross-shard plumbing -------------------------------------------------

void Shard::schedule_flush() {
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    broker_.executor().post(index_, [this] { flush(); });
  }
}

std::vector<Shard::Task>& Shard::outbox(std::uint32_t target) {
  schedule_flush();
  return outboxes_[target];
}

void Shard::on_shard(std::uint32_t target, std::function<void(Shard&)> fn) {
  if (target == index_) {
    fn(*this);
  } else {
    outbox(target).emplace_back(std::in_place_type<CallTask>, std::move(fn));
  }
}

void Shard::flush() {
  flush_scheduled_ = false;
  submit_to_store();
  broker_.update_memory_pressure();
  for (std::uint32_t i = 0; i < outboxes_.size(); ++i) {
    if (outboxes_[i].empty()) continue;
    std::vector<Task> batch;
    batch.swap(outboxes_[i]);
    broker_.executor().post(i, [target = &broker_.shard(i), batch = std::move(batch)]() mutable {
      target->run_batch(batch);
    });
  }
}

void Shard::run_batch(std::vector<Task>& batch) {
  const TimePoint now = Clock::now();
  for (auto& task : batch) {
    if (auto* r = std::get_if<RouteTask>(&task)) {
      stats_.crossing_in.add(crossing_size(*r->message));
      route_local(r->message, now, r->ack);
      if (r->ack) arrive(r->ack);
    } else if (auto* w = std::get_if<WriteTask>(&task)) {
      if (Connection* c = connection(w->conn); c && deliverable(*c, w->qos0_publish)) {
        c->transport().send(w->bytes);
        stats_.bytes_sent.add(w->bytes.size());
      }
    } else if (auto* c = std::get_if<CloseTask>(&task)) {
      close(ConnRef{index_, c->conn}, c->reason);
    } else {
      std::get<CallTask>(task).fn(*this);
    }
  }
}

// ---- Outlet ----------------------------------------------------------------

Connection* Shard::connection(std::uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() || it->second->closed() ? nullptr : it->second;
}

void Shard::write(ConnRef conn, std::span<const std::uint8_t> bytes) {
  if (conn.shard != index_) {
    outbox(conn.shard)
        .emplace_back(std::in_place_type<WriteTask>, conn.id,
                      std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    return;
  }
  if (Connection* c = connection(conn.id)) {
    c->transport().send(bytes);
    stats_.bytes_sent.add(bytes.size());
  }
}

// QoS 0 messages to a connection whose write buffer is full are dropped
// and counted; QoS 1/2 are bounded by the inflight window instead.
bool Shard::deliverable(Connection& c, bool qos0_publish) {
  if (!qos0_publish || c.transport().buffered_bytes() <= broker_.limits().max_outbound_bytes) {
    return true;
  }
  stats_.dropped_slow_consumer.add();
  return false;
}

void Shard::write_publish(ConnRef conn, std::span<const std::uint8_t> header,
                          const MessagePtr& message) {
  const unsigned qos = (header[0] >> 1) & 3;
  const bool qos0 = qos == 0;
  if (conn.shard != index_) {
    std::vector<std::uint8_t> bytes(header.begin(), header.end());
    bytes.insert(bytes.end(), message->payload.begin(), message->payload.end());
    outbox(conn.shard).emplace_back(std::in_place_type<WriteTask>, conn.id, std::move(bytes), qos0);
    stats_.messages_sent.add();
    stats_.sent_by_qos[qos % 3].add();
    return;
  }
  Connection* c = connection(conn.id);
  if (c && deliverable(*c, qos0)) {
    c->transport().send_publish(header, message);
    stats_.messages_sent.add();
    stats_.sent_by_qos[qos % 3].add();
    stats_.bytes_sent.add(header.size() + message->payload.size());
  }
}

void Shard::close(ConnRef conn, ReasonCode reason) {
  if (conn.shard != index_) {
    outbox(conn.shard).emplace_back(std::in_place_type<CloseTask>, conn.id, reason);
    return;
  }
  if (Connection* c = connection(conn.id)) c->kick(reason, Clock::now());
}

// Negative deltas wrap: the gauges are sums modulo 2^64.
void Shard::account_queued(std::int64_t bytes, std::int64_t messages) {
  stats_.queued_bytes.add(static_cast<std::uint64_t>(bytes));
  stats_.queued_messages.add(static_cast<std::uint64_t>(messages));
}

void Shard::account_inflight(std::int64_t delta) {
  stats_.inflight.add(static_cast<std::uint64_t>(delta));
}

void Shard::receipt(std::string_view client_id, const MessagePtr& message, bool delivered) {
  if (const auto& handler = broker_.receipt_handler()) {
    handler(std::string(client_id), message, delivered);
  }
}

void Shard::count_drop(DropReason reason) {
  switch (reason) {
    case DropReason::queue_full:
      stats_.dropped_queue_full.add();
      break;
    case DropReason::expired:
      stats_.dropped_expired.add();
      break;
    case DropReason::too_large:
      stats_.dropped_too_large.add();
      break;
    case DropReason::qos0_offline:
      stats_.dropped_qos0_offline.add();
      break;
  }
}

// ---- session store ---------------------------------------------------------

void Shard::persist(StoreOp op) {
  store_ops_.push_back(std::move(op));
  schedule_flush();
}

void Shard::on_durable(const ClientId& client_id, std::uint64_t seq) {
  after_commit([client_id, seq](Shard& shard, bool) {
    if (auto it = shard.sessions_.find(client_id); it != shard.sessions_.end()) {
      it->second->committed(shard, seq, Clock::now());
    }
  });
}

void Shard::after_commit(std::function<void(Shard&, bool)> fn) {
  if (store_ops_.empty() && committing_.empty()) {
    fn(*this, true);
    return;
  }
  store_waiters_.calls.push_back(std::move(fn));
  schedule_flush();
}

// One batch per loop turn: everything this shard changed since the last
// flush commits together, and the store groups batches of all shards.
void Shard::submit_to_store() {
  if (store_ops_.empty() && store_waiters_.empty()) return;
  committing_.push_back(std::move(store_waiters_));
  store_waiters_ = {};
  std::vector<StoreOp> ops;
  ops.swap(store_ops_);
  broker_.store()->submit(std::move(ops), [this](bool ok) {
    broker_.executor().post(index_, [this, ok] { on_committed(ok); });
  });
}

void Shard::on_committed(bool ok) {
  Waiters waiters = std::move(committing_.front());
  committing_.pop_front();
  for (const auto& ack : waiters.acks) arrived(*ack, ok);
  for (auto& w : waiters.calls) w(*this, ok);
}

PendingAckPtr Shard::pending_ack(const Message& m, bool durable_origin, ConnRef conn,
                                 mqtt::Version version, mqtt::PacketType type,
                                 std::uint16_t packet_id) {
  if (!broker_.acks_wait_for_store()) return nullptr;
  if (!durable_origin && !stored_retained(m) && broker_.durable_sessions() == 0) return nullptr;
  auto ack = std::make_shared<PendingAck>(static_cast<std::uint32_t>(outboxes_.size()), conn,
                                          version, type, packet_id);
  ack->received = Clock::now();
  return ack;
}

void Shard::arrive(const PendingAckPtr& ack) {
  if (store_ops_.empty() && committing_.empty()) return arrived(*ack, true);
  store_waiters_.acks.push_back(ack);
  schedule_flush();
}

void Shard::arrived(PendingAck& a, bool ok) {
  if (!ok) a.failed.store(true, std::memory_order_relaxed);
  if (a.pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (a.done) return a.done(!a.failed.load(std::memory_order_relaxed));
  stats_.ack_latency.observe(Clock::now() - a.received);
  if (!a.failed.load(std::memory_order_relaxed)) {
    send_ack(a.conn, a.version, a.type, a.packet_id, ReasonCode::success);
  } else if (a.version == mqtt::Version::v5) {
    send_ack(a.conn, a.version, a.type, a.packet_id, ReasonCode::quota_exceeded);
  } else {
    close(a.conn, ReasonCode::quota_exceeded);  // 3.1.1 cannot say "not kept"
  }
}

void Shard::send_ack(ConnRef conn, mqtt::Version version, mqtt::PacketType type,
                     std::uint16_t packet_id, ReasonCode reason) {
  scratch_.clear();
  mqtt::encode(mqtt::PubAck{type, packet_id, reason, {}}, version, scratch_);
  write(conn, scratch_);
}

void Shard::inject(const std::shared_ptr<Message>& message, std::function<void(bool)> done,
                   TimePoint now) {
  if (message->qos > 0) message->id = new_message_id();
  if (!broker_.acks_wait_for_store()) {
    route(message, now);
    if (done) done(true);
    return;
  }
  route(message, now,
        std::make_shared<PendingAck>(
            static_cast<std::uint32_t>(outboxes_.size()), done ? std::move(done) : [](bool) {}));
}

bool Shard::deliver_direct(std::string_view client_id, const MessagePtr& message, TimePoint now) {
  const auto it = sessions_.find(client_id);
  if (it == sessions_.end() || !it->second->connection()) return false;
  Session& session = *it->second;
  int qos = -1;
  std::vector<std::uint32_t> ids;
  for (const auto& [filter, entry] : session.subscriptions()) {
    if (mqtt::parse_shared(filter) || !mqtt::filter_matches(filter, message->topic)) continue;
    qos = std::max<int>(qos, entry.options.max_qos);
    if (entry.subscription_id) ids.push_back(entry.subscription_id);
  }
  if (qos < 0) return false;
  session.deliver(*this,
                  Delivery{message, static_cast<std::uint8_t>(std::min<int>(qos, message->qos)),
                           false, std::move(ids)},
                  now);
  return true;
}

std::uint64_t Shard::new_message_id() {
  if (!broker_.store()) return 0;
  return broker_.message_id_base() + (next_message_++) * outboxes_.size() + index_;
}

// ---- connections -------------------------------------------------------------

std::uint64_t Shard::new_connection_id() { return ++next_connection_; }

void Shard::add_connection(std::uint64_t id, Connection* connection) {
  connections_.emplace(id, connection);
  stats_.connections_total.add();
  stats_.connections_current.add();
}

void Shard::remove_connection(std::uint64_t id) {
  if (connections_.erase(id)) stats_.connections_current.sub();
}

// ---- routing -------------------------------------------------------------------

void Shard::route(const MessagePtr& message, TimePoint now, PendingAckPtr ack) {
  if (message->retain) {
    broker_.retained().put(message);
    if (broker_.store() && stored_retained(*message)) persist(store_op::SaveRetained{message});
  }
  route_local(message, now, ack);
  for (std::uint32_t i = 0; i < outboxes_.size(); ++i) {
    if (i == index_) continue;
    outbox(i).emplace_back(std::in_place_type<RouteTask>, message, ack);
    stats_.crossing_out.add(crossing_size(*message));
  }
  if (ack) arrive(ack);
}

void Shard::route_local(const MessagePtr& message, TimePoint now, const PendingAckPtr& ack,
                        const std::unordered_set<std::string>* reached) {
  matches_.clear();
  index_tree_.match(message->topic, matches_);
  if (matches_.empty()) return;
  if (matches_.size() > 1) {
    // Group a session's overlapping subscriptions together (§3.3.4).
    std::sort(matches_.begin(), matches_.end(), [](const Subscriber& a, const Subscriber& b) {
      return a.session != b.session ? a.session < b.session : a.group < b.group;
    });
  }
  for (std::size_t i = 0; i < matches_.size();) {
    const Subscriber& first = matches_[i];
    if (first.group) {
      if (!reached || !any_member_reached(*first.group, *reached)) {
        deliver_to_group(*first.group, message, now, ack);
      }
      ++i;
      continue;
    }
    Session* session = first.session;
    if (reached && reached->contains(session->client_id().str())) {
      for (; i < matches_.size() && matches_[i].session == session; ++i) {
      }
      continue;
    }
    int qos = -1;
    bool retain = false;
    std::vector<std::uint32_t> ids;
    for (; i < matches_.size() && matches_[i].session == session; ++i) {
      const Subscriber& s = matches_[i];
      if (s.options.no_local && message->origin_client_id == session->client_id().view()) continue;
      qos = std::max<int>(qos, s.options.max_qos);
      retain = retain || (s.options.retain_as_published && message->retain);
      if (s.subscription_id) ids.push_back(s.subscription_id);
    }
    if (qos < 0) continue;
    session->deliver(*this,
                     Delivery{message, static_cast<std::uint8_t>(std::min<int>(qos, message->qos)),
                              retain, std::move(ids)},
                     now);
  }
}

void Shard::resume_route(const MessagePtr& message, const std::unordered_set<std::string>& reached,
                         TimePoint now) {
  route_local(message, now, nullptr, &reached);
}

bool Shard::any_member_reached(const SharedGroup& group,
                               const std::unordered_set<std::string>& reached) {
  return std::any_of(group.members.begin(), group.members.end(),
                     [&](const SharedMember& m) { return reached.contains(m.client_id.str()); });
}

void Shard::deliver_to_group(SharedGroup& group, const MessagePtr& message, TimePoint now,
                             const PendingAckPtr& ack) {
  const std::size_t n = group.members.size();
  if (n == 0) return;
  // Round robin over connected members; an offline member's session queues
  // only when no member is connected.
  std::size_t pick = group.next % n;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t idx = (group.next + k) % n;
    if (group.members[idx].online) {
      pick = idx;
      break;
    }
  }
  group.next = pick + 1;
  const SharedMember& m = group.members[pick];
  Delivery d{message,
             std::min(message->qos, m.options.max_qos),
             m.options.retain_as_published && message->retain,
             {}};
  if (m.subscription_id) d.subscription_ids.push_back(m.subscription_id);
  if (m.shard == index_) {
    deliver_shared(m.client_id, std::move(d), now);
  } else {
    // The member's shard is one more part the acknowledgement waits for.
    if (ack) ack->pending.fetch_add(1, std::memory_order_relaxed);
    on_shard(m.shard, [client_id = m.client_id, d = std::move(d), ack](Shard& s) mutable {
      s.deliver_shared(client_id, std::move(d), Clock::now());
      if (ack) s.arrive(ack);
    });
  }
}

void Shard::deliver_shared(std::string_view client_id, Delivery&& delivery, TimePoint now) {
  auto it = sessions_.find(client_id);
  if (it == sessions_.end()) {
    stats_.dropped_no_session.add();
    return;
  }
  it->second->deliver(*this, std::move(delivery), now);
}

// ---- sessions ------------------------------------------------------------------

Session* Shard::session_for(std::string_view client_id, ConnRef conn) {
  auto it = sessions_.find(client_id);
  if (it == sessions_.end() || it->second->connection() != conn) return nullptr;
  return it->second.get();
}

void Shard::attach(AttachRequest&& req, TimePoint now) {
  // The directory may have moved the home since the connection asked.
  const std::uint32_t home = broker_.home_of(req.client_id, index_);
  if (home != index_) {
    on_shard(home, [r = std::move(req), now](Shard& s) mutable { s.attach(std::move(r), now); });
    return;
  }
  auto it = sessions_.find(req.client_id);
  Session* s = it == sessions_.end() ? nullptr : it->second.get();
  if (s && s->online()) {
    // §3.1.4 step 2: one connection per client id; the old one gets 0x8E.
    // Unbind first, so the old connection's detach is ignored.
    const ConnRef old = s->connection();
    s->detach();
    set_shared_online(*s, false);
    close(old, ReasonCode::session_taken_over);
    // The old connection ended abnormally: its will goes out unless the
    // session continues within the Will Delay Interval (§3.1.3.2.2).
    if (s->will() && (req.clean_start || s->will()->delay == 0)) publish_will(*s, now);
  }
  if (s && req.clean_start) {
    end_session(*s, now, /*keep_home=*/true);
    s = nullptr;
  }
  const bool present = s != nullptr;
  if (!s) {
    auto owned = std::make_unique<Session>(req.client_id, broker_.limits());
    stats_.sessions.add();
    s = owned.get();
    sessions_.emplace(s->client_id(), std::move(owned));
  }
  s->expiry_interval = req.session_expiry;
  s->set_will(std::move(req.will));
  req.connack.session_present = present;
  scratch_.clear();
  mqtt::encode(req.connack, req.limits.version, scratch_);
  write(req.conn, scratch_);
  s->attach(*this, req.conn, req.limits, now);
  set_durable(*s, broker_.store() && s->expiry_interval > 0, now);
  set_shared_online(*s, true);
}

void Shard::detach(const ClientId& client_id, ConnRef conn, bool publish_will_now,
                   std::optional<std::uint32_t> new_expiry, TimePoint now) {
  Session* s = session_for(client_id, conn);
  if (!s) return;  // taken over meanwhile
  s->detach();
  set_shared_online(*s, false);
  if (new_expiry) s->expiry_interval = *new_expiry;
  // A normal DISCONNECT discards the will (§3.14.4).
  if (!publish_will_now) s->set_will(std::nullopt);
  if (s->expiry_interval == 0) {
    end_session(*s, now, false);
    return;
  }
  if (const auto& will = s->will()) {
    if (will->delay == 0) {
      publish_will(*s, now);
    } else {
      s->set_will_at(now + std::chrono::seconds(will->delay));
    }
  }
  if (s->expiry_interval != 0xFFFFFFFF) {
    s->set_expires_at(now + std::chrono::seconds(s->expiry_interval));
  }
  save_session(*s, now);
  schedule(*s);
}

void Shard::set_durable(Session& s, bool durable, TimePoint now) {
  if (durable != s.durable()) {
    s.set_durable(durable);
    broker_.count_durable_session(durable ? 1 : -1);
    if (!durable) {
      persist(store_op::DeleteSession{s.client_id().str()});
      return;
    }
    // It may hold state from before (a takeover): the store gets all of it.
    for (const auto& [filter, entry] : s.subscriptions()) {
      persist(store_op::SaveSubscription{s.client_id().str(), filter, entry.options,
                                         entry.subscription_id});
    }
    s.persist_all(*this);
  }
  save_session(s, now);
}

void Shard::save_session(Session& s, TimePoint /*now*/) {
  if (!s.durable()) return;
  store_op::SaveSession op{s.client_id().str(), s.expiry_interval, std::nullopt, nullptr, 0,
                           std::nullopt};
  if (const auto at = s.expires_at()) op.expires_at = to_wall_ms(*at);
  if (const auto& will = s.will()) {
    op.will = will->message;
    op.will_delay = will->delay;
  }
  if (const auto at = s.will_at()) op.will_at = to_wall_ms(*at);
  persist(std::move(op));
}

void Shard::restore(ClientId client_id, StoredSession&& stored, TimePoint now) {
  auto& rec = stored.session;
  auto owned = std::make_unique<Session>(std::move(client_id), broker_.limits());
  Session& s = *owned;
  sessions_.emplace(s.client_id(), std::move(owned));
  stats_.sessions.add();
  s.expiry_interval = rec.expiry_interval;
  if (rec.will) s.set_will(PendingWill{rec.will, rec.will_delay});
  for (const auto& sub : stored.subscriptions) {
    add_subscription(s, mqtt::TopicSubscription{sub.filter, sub.options}, sub.subscription_id);
  }
  s.restore(*this, std::move(stored.deliveries), stored.inbound_qos2);
  s.set_durable(true);
  broker_.count_durable_session(1);
  // A session that was connected when the hub stopped lost its connection
  // then: its expiry and will delay start now.
  if (rec.expires_at) {
    s.set_expires_at(from_wall_ms(*rec.expires_at));
  } else if (s.expiry_interval != 0xFFFFFFFF) {
    s.set_expires_at(now + std::chrono::seconds(s.expiry_interval));
  }
  if (rec.will_at) {
    s.set_will_at(from_wall_ms(*rec.will_at));
  } else if (const auto& will = s.will()) {
    s.set_will_at(now + std::chrono::seconds(will->delay));
  }
  save_session(s, now);
  schedule(s);
}

void Shard::schedule(Session& s) {
  std::optional<TimePoint> next = s.expires_at();
  const auto will_at = s.will_at();
  if (will_at && (!next || *will_at < *next)) next = will_at;
  if (next) deadlines_.emplace(*next, s.client_id());
}

void Shard::publish_will(Session& s, TimePoint now) {
  if (!s.will()) return;
  auto m = std::make_shared<Message>(*s.will()->message);
  m->id = m->qos > 0 ? new_message_id() : 0;
  if (m->properties.message_expiry_interval) {
    m->expires_at = now + std::chrono::seconds(*m->properties.message_expiry_interval);
    m->properties.message_expiry_interval.reset();
  }
  s.set_will(std::nullopt);
  s.set_will_at(std::nullopt);
  route(m, now);
}

void Shard::end_session(Session& s, TimePoint now, bool keep_home) {
  publish_will(s, now);  // a will still pending goes out when the session ends
  std::vector<std::string> filters;
  filters.reserve(s.subscriptions().size());
  for (const auto& [filter, entry] : s.subscriptions()) filters.push_back(filter);
  for (const auto& f : filters) remove_subscription(s, f, /*persist=*/false);
  set_durable(s, false, now);
  const ClientId client_id = s.client_id();  // the session's copy goes with it
  if (!keep_home) broker_.release_home(client_id, index_);
  account_queued(-static_cast<std::int64_t>(s.queued_bytes()),
                 -static_cast<std::int64_t>(s.queued_count()));
  account_inflight(-static_cast<std::int64_t>(s.inflight_count()));
  stats_.sessions.sub();
  sessions_.erase(client_id);
}

void Shard::tick(TimePoint now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const ClientId client_id = std::move(deadlines_.begin()->second);
    deadlines_.erase(deadlines_.begin());
    auto it = sessions_.find(client_id);
    if (it == sessions_.end() || it->second->online()) continue;
    Session& s = *it->second;
    if (const auto at = s.expires_at(); at && *at <= now) {
      end_session(s, now, false);
      continue;
    }
    if (const auto at = s.will_at(); at && *at <= now) {
      publish_will(s, now);
      save_session(s, now);
    }
  }
  for (auto* c : connections_snapshot()) c->check_keep_alive(now);
  constexpr auto kExpirySweep = std::chrono::seconds(10);
  if (now - last_sweep_ >= kExpirySweep) {
    last_sweep_ = now;
    for (auto& [id, session] : sessions_) {
      if (!session->online() && session->queued_count()) session->drop_expired(*this, now);
    }
  }
  if (index_ == 0) broker_.tick(now);
  if (!parked_.empty() && !broker_.memory_high()) {
    auto resume = std::move(parked_);
    parked_.clear();
    stats_.paused_reads.sub(resume.size());
    for (auto& r : resume) r();
  }
}

// A copy, because closing a connection may change the map.
std::vector<Connection*> Shard::connections_snapshot() const {
  std::vector<Connection*> conns;
  conns.reserve(connections_.size());
  for (const auto& [id, c] : connections_) conns.push_back(c);
  return conns;
}

void Shard::park(std::function<void()> resume) {
  stats_.paused_reads.add();
  parked_.push_back(std::move(resume));
}

void Shard::kick_all(ReasonCode reason) {
  for (auto* c : connections_snapshot()) c->kick(reason, Clock::now());
}

std::size_t Shard::kick_identity(const std::string& identity, ReasonCode reason) {
  std::size_t n = 0;
  for (auto* c : connections_snapshot()) {
    if (c->identity() == identity) {
      c->kick(reason, Clock::now());
      ++n;
    }
  }
  return n;
}

// ---- subscriptions -------------------------------------------------------------

std::uint32_t Shard::group_owner(std::string_view name) const {
  return static_cast<std::uint32_t>(std::hash<std::string_view>{}(name) % outboxes_.size());
}

void Shard::add_subscription(Session& s, const mqtt::TopicSubscription& sub,
                             std::uint32_t subscription_id) {
  if (s.set_subscription(sub.filter, SubscriptionEntry{sub.options, subscription_id})) {
    stats_.subscriptions.add();
  }
  if (s.durable()) {
    persist(
        store_op::SaveSubscription{s.client_id().str(), sub.filter, sub.options, subscription_id});
  }
  if (auto shared = mqtt::parse_shared(sub.filter)) {
    SharedMember m{index_, s.client_id(), sub.options, subscription_id, s.online()};
    on_shard(group_owner(sub.filter),
             [name = sub.filter, filter = std::string(shared->filter), m](Shard& o) mutable {
               o.group_join(name, filter, std::move(m));
             });
    return;
  }
  index_tree_.insert(sub.filter, Subscriber{&s, nullptr, sub.options, subscription_id});
}

void Shard::remove_subscription(Session& s, const std::string& filter, bool persist_change) {
  if (s.erase_subscription(filter)) stats_.subscriptions.sub();
  if (persist_change && s.durable())
    persist(store_op::DeleteSubscription{s.client_id().str(), filter});
  if (mqtt::parse_shared(filter)) {
    on_shard(group_owner(filter), [name = filter, shard = index_, cid = s.client_id()](Shard& o) {
      o.group_leave(name, shard, cid);
    });
    return;
  }
  index_tree_.erase(filter, &s, nullptr);
}

void Shard::set_shared_online(Session& s, bool online) {
  for (const auto& [filter, entry] : s.subscriptions()) {
    if (!mqtt::parse_shared(filter)) continue;
    on_shard(group_owner(filter), [name = filter, shard = index_, cid = s.client_id(),
                                   online](Shard& o) { o.group_online(name, shard, cid, online); });
  }
}

void Shard::group_join(const std::string& name, const std::string& filter, SharedMember member) {
  auto& g = groups_[name];
  if (!g) {
    g = std::make_unique<SharedGroup>();
    g->name = name;
    g->filter = filter;
    index_tree_.insert(filter, Subscriber{nullptr, g.get(), {}, 0});
  }
  for (auto& m : g->members) {
    if (m.shard == member.shard && m.client_id == member.client_id) {
      m = std::move(member);
      return;
    }
  }
  g->members.push_back(std::move(member));
}

void Shard::group_leave(const std::string& name, std::uint32_t shard, std::string_view client_id) {
  auto it = groups_.find(name);
  if (it == groups_.end()) return;
  auto& members = it->second->members;
  std::erase_if(members, [&](const SharedMember& m) {
    return m.shard == shard && m.client_id.view() == client_id;
  });
  if (members.empty()) {
    index_tree_.erase(it->second->filter, nullptr, it->second.get());
    groups_.erase(it);
  }
}

void Shard::group_online(const std::string& name, std::uint32_t shard, std::string_view client_id,
                         bool online) {
  auto it = groups_.find(name);
  if (it == groups_.end()) return;
  for (auto& m : it->second->members) {
    if (m.shard == shard && m.client_id.view() == client_id) m.online = online;
  }
}

void Shard::subscribe(SubscribeRequest&& req, TimePoint now) {
  Session* s = session_for(req.client_id, req.conn);
  if (!s) return;
  const auto& props = req.packet.properties;
  const std::uint32_t sub_id =
      props.subscription_identifiers.empty() ? 0 : props.subscription_identifiers.front();
  mqtt::Suback ack;
  ack.packet_id = req.packet.packet_id;
  std::vector<std::size_t> retained;  // subscriptions that get retained messages
  for (std::size_t i = 0; i < req.packet.subscriptions.size(); ++i) {
    const auto& sub = req.packet.subscriptions[i];
    ReasonCode rc = req.verdicts[i];
    if (!mqtt::is_error(rc)) {
      const bool is_new = !s->subscriptions().contains(sub.filter);
      if (is_new && s->subscriptions().size() >= broker_.limits().max_subscriptions_per_client) {
        rc = ReasonCode::quota_exceeded;
      } else {
        add_subscription(*s, sub, sub_id);
        // Retained messages are not sent for shared subscriptions (§4.8.2);
        // Retain Handling (§3.8.3.1): 0 always, 1 only when new, 2 never.
        const auto rh = sub.options.retain_handling;
        if (!mqtt::parse_shared(sub.filter) && (rh == 0 || (rh == 1 && is_new))) {
          retained.push_back(i);
        }
      }
    }
    ack.reason_codes.push_back(rc);
  }
  if (!s->durable()) return finish_subscribe(req, ack, retained, true, now);
  // SUBACK only once the subscription is durable.
  after_commit([req = std::move(req), ack = std::move(ack), retained = std::move(retained)](
                   Shard& shard, bool ok) mutable {
    shard.finish_subscribe(req, ack, retained, ok, Clock::now());
  });
}

void Shard::finish_subscribe(const SubscribeRequest& req, mqtt::Suback& ack,
                             const std::vector<std::size_t>& retained, bool ok, TimePoint now) {
  Session* s = session_for(req.client_id, req.conn);
  if (!s) return;
  if (!ok) {  // not kept: say so (the subscription still works until a restart)
    for (auto& rc : ack.reason_codes) {
      if (!mqtt::is_error(rc)) rc = ReasonCode::quota_exceeded;
    }
  }
  scratch_.clear();
  mqtt::encode(ack, s->version(), scratch_);
  write(req.conn, scratch_);
  const auto& props = req.packet.properties;
  const std::uint32_t sub_id =
      props.subscription_identifiers.empty() ? 0 : props.subscription_identifiers.front();
  for (const std::size_t i : retained) {
    const auto& sub = req.packet.subscriptions[i];
    send_retained(*s, sub.filter, sub.options, sub_id, now);
  }
}

void Shard::send_retained(Session& s, const std::string& filter,
                          const mqtt::SubscribeOptions& options, std::uint32_t subscription_id,
                          TimePoint now) {
  std::vector<MessagePtr> found;
  broker_.retained().match(filter, found);
  for (auto& m : found) {
    if (m->expired(now)) continue;
    Delivery d{m, std::min(m->qos, options.max_qos), true, {}};  // §3.3.1.3: RETAIN set
    if (subscription_id) d.subscription_ids.push_back(subscription_id);
    s.deliver(*this, std::move(d), now);
  }
}

void Shard::unsubscribe(const ClientId& client_id, ConnRef conn, const mqtt::Unsubscribe& packet) {
  Session* s = session_for(client_id, conn);
  if (!s) return;
  mqtt::Unsuback ack;
  ack.packet_id = packet.packet_id;
  for (const auto& filter : packet.filters) {
    const bool existed = s->subscriptions().contains(filter);
    if (existed) remove_subscription(*s, filter);
    ack.reason_codes.push_back(existed ? ReasonCode::success : ReasonCode::no_subscription_existed);
  }
  scratch_.clear();
  mqtt::encode(ack, s->version(), scratch_);
  write(conn, scratch_);
}

// ---- acknowledgements ----------------------------------------------------------

void Shard::on_client_ack(const ClientId& client_id, ConnRef conn, const mqtt::PubAck& ack,
                          TimePoint now) {
  Session* s = session_for(client_id, conn);
  if (!s) return;
  switch (ack.type) {
    case mqtt::PacketType::puback:
      s->on_puback(*this, ack.packet_id, now);
      break;
    case mqtt::PacketType::pubrec:
      if (s->on_pubrec(*this, ack.packet_id, ack.reason_code, now)) {
        after_commit([client_id, id = ack.packet_id](Shard& shard, bool) {
          if (auto it = shard.sessions_.find(client_id); it != shard.sessions_.end()) {
            it->second->release_committed(shard, id);
          }
        });
      }
      break;
    case mqtt::PacketType::pubcomp:
      s->on_pubcomp(*this, ack.packet_id, now);
      break;
    default:
      break;
  }
}

void Shard::inbound_qos2(const ClientId& client_id, ConnRef conn, std::uint16_t packet_id,
                         std::shared_ptr<Message> message, TimePoint now) {
  Session* s = session_for(client_id, conn);
  if (!s) return;
  auto ack =
      pending_ack(*message, s->durable(), conn, s->version(), mqtt::PacketType::pubrec, packet_id);
  // Every loop commits its own part of the routing; the packet id below is
  // in this loop's. Should a crash keep another loop's part from the disk,
  // the resent PUBLISH would not be routed again, so start-up finishes the
  // routing instead (Message::recoverable).
  message->recoverable = ack && s->durable() && outboxes_.size() > 1;
  // A resent PUBLISH (DUP) with a packet id still awaiting PUBREL is not
  // routed again: exactly once (§4.3.3).
  if (s->begin_inbound_qos2(*this, packet_id, message)) {
    route(message, now, ack);
  } else if (ack) {
    ack->pending.store(1);
    arrive(ack);
  }
  if (!ack) send_ack(conn, s->version(), mqtt::PacketType::pubrec, packet_id, ReasonCode::success);
}

void Shard::pubrel(const ClientId& client_id, ConnRef conn, std::uint16_t packet_id) {
  Session* s = session_for(client_id, conn);
  if (!s) return;
  const bool known = s->release_inbound_qos2(*this, packet_id);
  const ReasonCode rc = known ? ReasonCode::success : ReasonCode::packet_identifier_not_found;
  // After PUBCOMP the client may reuse the id: the release must be durable.
  after_commit([conn, version = s->version(), packet_id, rc](Shard& shard, bool) {
    shard.send_ack(conn, version, mqtt::PacketType::pubcomp, packet_id, rc);
  });
}

}  // namespace allscene::broker
