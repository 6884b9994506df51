#include "broker/broker.hpp"

#include <chrono>
#include <random>

#include <fmt/format.h>

namespace allscene::broker {

Broker::Broker(const Limits& limits, Executor& executor, AccessControl& access)
    : limits_(limits), executor_(executor), access_(access), id_salt_(std::random_device{}()) {
  const auto n = executor.shard_count();
  shards_.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>(*this, i));
}

Broker::~Broker() = default;

std::uint32_t Broker::home_of(const std::string& client_id, std::uint32_t candidate) {
  std::lock_guard lock(directory_mutex_);
  return directory_.try_emplace(client_id, candidate).first->second;
}

void Broker::release_home(const std::string& client_id, std::uint32_t shard) {
  std::lock_guard lock(directory_mutex_);
  if (auto it = directory_.find(client_id); it != directory_.end() && it->second == shard) {
    directory_.erase(it);
  }
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

BrokerTotals Broker::totals() const {
  BrokerTotals t;
  for (const auto& s : shards_) {
    const auto& st = s->stats();
    t.connections_total += st.connections_total.get();
    t.messages_received += st.messages_received.get();
    t.messages_sent += st.messages_sent.get();
    t.bytes_received += st.bytes_received.get();
    t.bytes_sent += st.bytes_sent.get();
    t.protocol_errors += st.protocol_errors.get();
    t.dropped += st.dropped_queue_full.get() + st.dropped_expired.get() +
                 st.dropped_too_large.get() + st.dropped_qos0_offline.get() +
                 st.dropped_no_session.get();
    t.sessions += s->session_count();
  }
  return t;
}

}  // namespace allscene::broker
