#include "broker/broker.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "log/module_log.hpp"

namespace allscene::broker {

Broker::Broker(const Limits& limits, Executor& executor, AccessControl& access, std::string version)
    : limits_(limits),
      executor_(executor),
      access_(access),
      sys_(std::move(version), Clock::now()),
      id_salt_(std::random_device{}()) {
  const auto n = executor.shard_count();
  shards_.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>(*this, i));
}

Broker::~Broker() = default;

bool Broker::update_limits(const Limits& next, std::chrono::milliseconds wait) {
  struct Barrier {
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t arrived = 0;
    bool released = false;
  };
  const auto barrier = std::make_shared<Barrier>();
  const std::size_t loops = executor_.shard_count();
  for (std::size_t i = 0; i < loops; ++i) {
    executor_.post(i, [barrier] {
      std::unique_lock lock(barrier->mutex);
      if (barrier->released) return;  // late: the update is over
      ++barrier->arrived;
      barrier->changed.notify_all();
      barrier->changed.wait(lock, [&] { return barrier->released; });
    });
  }
  std::unique_lock lock(barrier->mutex);
  const bool all = barrier->changed.wait_for(lock, wait, [&] { return barrier->arrived == loops; });
  if (all) limits_ = next;
  barrier->released = true;
  barrier->changed.notify_all();
  return all;
}

std::uint32_t Broker::home_of(const ClientId& client_id, std::uint32_t candidate) {
  std::lock_guard lock(directory_mutex_);
  return directory_.try_emplace(client_id, candidate).first->second;
}

void Broker::release_home(std::string_view client_id, std::uint32_t shard) {
  std::lock_guard lock(directory_mutex_);
  if (auto it = directory_.find(client_id); it != directory_.end() && it->second == shard) {
    directory_.erase(it);
  }
}

Broker::RestoreSummary Broker::restore(StoredState&& state, TimePoint now) {
  RestoreSummary summary;
  message_id_base_ = state.next_message_id;
  for (auto& m : state.retained) {
    retained_.put(m);
    ++summary.retained;
  }
  // Who has had each message whose routing may be unfinished.
  std::unordered_map<std::uint64_t, std::unordered_set<std::string>> reached;
  for (const auto& m : state.unfinished_routes) reached[m->id];
  for (const auto& stored : state.sessions) {
    auto mark = [&](std::uint64_t id) {
      if (auto it = reached.find(id); it != reached.end())
        it->second.insert(stored.session.client_id);
    };
    for (const auto& d : stored.deliveries) mark(d.message->id);
    for (const auto id : stored.done) mark(id);
  }
  for (auto& stored : state.sessions) {
    ++summary.sessions;
    summary.subscriptions += stored.subscriptions.size();
    summary.deliveries += stored.deliveries.size();
    ClientId id(stored.session.client_id);
    const auto candidate = static_cast<std::uint32_t>(ClientIdHash{}(id) % shards_.size());
    const auto home = home_of(id, candidate);
    shards_[home]->restore(std::move(id), std::move(stored), now);
  }
  for (const auto& m : state.unfinished_routes) {
    if (m->expired(now)) continue;
    for (auto& shard : shards_) shard->resume_route(m, reached[m->id], now);
  }
  summary.unfinished_routes = state.unfinished_routes.size();
  return summary;
}

bool Broker::admit_connect(const std::string& listener, const std::string& client_id,
                           const Quota& quota, TimePoint now) {
  if (!quota.listener_connections_per_second && !quota.device_connections_per_second) return true;
  std::lock_guard lock(connect_rate_mutex_);
  return connect_rate_.admit(listener, client_id, quota, now);
}

void Broker::disconnect_identity(const std::string& identity, mqtt::ReasonCode reason) {
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    executor_.post(i, [shard = shards_[i].get(), identity, reason] {
      if (const auto n = shard->kick_identity(identity, reason)) {
        module_log().info("disconnected {} connection(s) of {} ({})", n, identity,
                          mqtt::reason_code_name(reason));
      }
    });
  }
}

void Broker::inject(std::shared_ptr<Message> message, std::function<void(bool)> done) {
  executor_.post(0, [this, message = std::move(message), done = std::move(done)]() mutable {
    shards_[0]->inject(message, std::move(done), Clock::now());
  });
}

void Broker::send_to_client(const std::string& client_id, MessagePtr message,
                            std::function<void(bool)> done) {
  std::uint32_t home = 0;
  {
    std::lock_guard lock(directory_mutex_);
    const auto it = directory_.find(client_id);
    if (it == directory_.end()) {
      if (done) done(false);
      return;
    }
    home = it->second;
  }
  executor_.post(home, [shard = shards_[home].get(), client_id, message = std::move(message),
                        done = std::move(done)] {
    const bool delivered = shard->deliver_direct(client_id, message, Clock::now());
    if (done) done(delivered);
  });
}

TopicHandler* Broker::handler_for(std::string_view topic) const {
  for (auto* h : handlers_) {
    if (topic.starts_with(h->prefix())) return h;
  }
  return nullptr;
}

std::string Broker::assign_client_id() {
  const auto n = assigned_ids_.fetch_add(1, std::memory_order_relaxed);
  return fmt::format("auto-{:016x}-{}", id_salt_, n);
}

void Broker::tick(TimePoint now) {
  update_memory_pressure();
  sys_.tick(*this, *shards_[0], now);
  log_drops(now);
}

// Drops are counted always and logged as one line per interval, so a
// flood of them cannot flood the log.
void Broker::log_drops(TimePoint now) {
  constexpr auto kDropLogInterval = std::chrono::seconds(10);
  if (now - last_drop_log_ < kDropLogInterval) return;
  last_drop_log_ = now;
  const BrokerTotals t = totals();
  const auto& l = logged_drops_;
  if (t.dropped() == l.dropped()) return;
  module_log().warn(
      "dropped {} messages since the last report: queue_full {}, slow_consumer {}, expired {}, "
      "too_large {}, qos0_offline {}, no_session {}",
      t.dropped() - l.dropped(), t.dropped_queue_full - l.dropped_queue_full,
      t.dropped_slow_consumer - l.dropped_slow_consumer, t.dropped_expired - l.dropped_expired,
      t.dropped_too_large - l.dropped_too_large, t.dropped_qos0_offline - l.dropped_qos0_offline,
      t.dropped_no_session - l.dropped_no_session);
  logged_drops_ = t;
}

void Broker::update_memory_pressure() {
  std::uint64_t buffered = 0;
  std::uint64_t crossing_out = 0;
  std::uint64_t crossing_in = 0;
  for (const auto& s : shards_) {
    const auto& st = s->stats();
    buffered += st.queued_bytes.get() + st.outbound_bytes.get();
    crossing_in += st.crossing_in.get();
    crossing_out += st.crossing_out.get();
  }
  // Read racily, "in" may pass "out" for a moment.
  if (crossing_out > crossing_in) buffered += crossing_out - crossing_in;
  bool high = memory_high();
  if (!high && buffered > limits_.memory_high_water &&
      memory_high_.compare_exchange_strong(high, true, std::memory_order_relaxed)) {
    module_log().warn(
        "memory high-water mark reached ({} MiB buffered): pausing reads until below {} MiB",
        buffered >> 20, limits_.memory_low_water >> 20);
  } else if (high && buffered < limits_.memory_low_water &&
             memory_high_.compare_exchange_strong(high, false, std::memory_order_relaxed)) {
    module_log().info("buffered memory back to {} MiB: resuming reads", buffered >> 20);
  }
}

BrokerTotals Broker::totals() const {
  BrokerTotals t;
  for (const auto& s : shards_) {
    const auto& st = s->stats();
    t.connections_total += st.connections_total.get();
    t.connections_current += st.connections_current.get();
    t.sessions += st.sessions.get();
    t.subscriptions += st.subscriptions.get();
    t.messages_received += st.messages_received.get();
    t.messages_sent += st.messages_sent.get();
    for (std::size_t q = 0; q < 3; ++q) {
      t.received_by_qos[q] += st.received_by_qos[q].get();
      t.sent_by_qos[q] += st.sent_by_qos[q].get();
    }
    t.bytes_received += st.bytes_received.get();
    t.bytes_sent += st.bytes_sent.get();
    t.protocol_errors += st.protocol_errors.get();
    t.dropped_queue_full += st.dropped_queue_full.get();
    t.dropped_expired += st.dropped_expired.get();
    t.dropped_too_large += st.dropped_too_large.get();
    t.dropped_qos0_offline += st.dropped_qos0_offline.get();
    t.dropped_slow_consumer += st.dropped_slow_consumer.get();
    t.dropped_no_session += st.dropped_no_session.get();
    t.queued_bytes += st.queued_bytes.get();
    t.queued_messages += st.queued_messages.get();
    t.inflight += st.inflight.get();
    t.auth_failures += st.auth_failures.get();
    t.ack_latency.add(st.ack_latency);
    t.outbound_bytes += st.outbound_bytes.get();
    t.paused_reads += st.paused_reads.get();
    t.quota_refused += st.quota_refused.get();
    t.access_denied += st.access_denied.get();
    t.crossing_bytes += st.crossing_out.get() - st.crossing_in.get();  // wraps back when summed
  }
  t.retained = retained_.size();
  return t;
}

}  // namespace allscene::broker
