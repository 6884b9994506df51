// The broker: one shard per event loop plus the little state they share —
// the session directory (which shard is home to a client id, touched only
// on CONNECT and session end), the retained store and the configuration.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/client_id.hpp"
#include "broker/interfaces.hpp"
#include "broker/limits.hpp"
#include "broker/retained_store.hpp"
#include "broker/session_store.hpp"
#include "broker/shard.hpp"
#include "broker/stats.hpp"
#include "broker/sys_topics.hpp"

namespace allscene::broker {

// Counters summed over shards; each is exact for its shard at the moment
// it is read (a snapshot, not a transaction).
struct BrokerTotals {
  std::uint64_t connections_total = 0;
  std::uint64_t connections_current = 0;
  std::uint64_t sessions = 0;
  std::uint64_t subscriptions = 0;
  std::uint64_t retained = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t messages_sent = 0;
  std::array<std::uint64_t, 3> received_by_qos{};
  std::array<std::uint64_t, 3> sent_by_qos{};
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t protocol_errors = 0;
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t dropped_expired = 0;
  std::uint64_t dropped_too_large = 0;
  std::uint64_t dropped_qos0_offline = 0;
  std::uint64_t dropped_slow_consumer = 0;
  std::uint64_t dropped_no_session = 0;
  std::uint64_t queued_bytes = 0;
  std::uint64_t queued_messages = 0;
  std::uint64_t inflight = 0;
  std::uint64_t auth_failures = 0;
  LatencySnapshot ack_latency;
  std::uint64_t outbound_bytes = 0;
  std::uint64_t paused_reads = 0;
  std::uint64_t quota_refused = 0;
  std::uint64_t access_denied = 0;
  std::uint64_t crossing_bytes = 0;  // routed between shards, not yet processed
  std::uint64_t dropped() const {
    return dropped_queue_full + dropped_expired + dropped_too_large + dropped_qos0_offline +
           dropped_slow_consumer + dropped_no_session;
  }
};

class Broker {
 public:
  // `executor` runs tasks on shard loops; shard i runs on loop i.
  Broker(const Limits& limits, Executor& executor, AccessControl& access,
         std::string version = "dev");
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  std::size_t shard_count() const { return shards_.size(); }
  Shard& shard(std::size_t i) { return *shards_[i]; }
  const Limits& limits() const { return limits_; }
  // Replaces the limits (SIGHUP reload) while every shard loop waits at a
  // barrier, so no loop reads them half-written; the loops go on at once.
  // Returns false, changing nothing, if the loops do not all arrive within
  // `wait` (they are not running). From a thread that is not a loop.
  bool update_limits(const Limits& next,
                     std::chrono::milliseconds wait = std::chrono::milliseconds(5000));
  Executor& executor() { return executor_; }
  AccessControl& access() { return access_; }
  RetainedStore& retained() { return retained_; }

  // The session store (null: state is memory-only). Set it, and restore()
  // what it recovered, before the loops start.
  void set_store(SessionStore* store) { store_ = store; }
  SessionStore* store() const { return store_; }
  struct RestoreSummary {
    std::size_t sessions = 0;
    std::size_t subscriptions = 0;
    std::size_t deliveries = 0;
    std::size_t retained = 0;
    std::size_t unfinished_routes = 0;  // QoS 2 messages routed again (see resume_route)
  };
  RestoreSummary restore(StoredState&& state, TimePoint now);
  // Test-only: acknowledge QoS 1/2 before the store has them, so the crash
  // test can show that it detects loss.
  void set_unsafe_early_ack(bool on) { unsafe_early_ack_ = on; }
  bool acks_wait_for_store() const { return store_ && !unsafe_early_ack_; }
  // Persistent sessions held by the store; while 0, PUBACKs need no disk.
  std::int64_t durable_sessions() const {
    return durable_sessions_.load(std::memory_order_relaxed);
  }
  void count_durable_session(int delta) {
    durable_sessions_.fetch_add(delta, std::memory_order_relaxed);
  }
  std::uint64_t message_id_base() const { return message_id_base_; }

  // Returns the home shard of `client_id`, making `candidate` its home if
  // it has none. Thread-safe.
  std::uint32_t home_of(const ClientId& client_id, std::uint32_t candidate);
  // Forgets the home of `client_id` if it is still `shard`. Thread-safe.
  void release_home(std::string_view client_id, std::uint32_t shard);

  // The presence observer (null: none); set before the loops start.
  void set_observer(ClientObserver* observer) { observer_ = observer; }
  ClientObserver* observer() const { return observer_; }

  // Told of the outcome of every message with Message::receipt (see
  // Outlet::receipt), on the event loop of the receiving session; must be
  // quick and thread-safe. Set before the loops start.
  using ReceiptHandler =
      std::function<void(const std::string& client_id, const MessagePtr& message, bool delivered)>;
  void set_receipt_handler(ReceiptHandler handler) { receipt_handler_ = std::move(handler); }
  const ReceiptHandler& receipt_handler() const { return receipt_handler_; }

  // Handlers must be added before the loops start.
  void add_topic_handler(TopicHandler& handler) { handlers_.push_back(&handler); }
  TopicHandler* handler_for(std::string_view topic) const;

  // A fresh client id for clients that send an empty one (§3.1.3.1).
  std::string assign_client_id();

  BrokerTotals totals() const;

  // True while buffered bytes (session queues and write buffers, summed
  // over shards) are above the high-water mark and not yet back below the
  // low-water mark. Connections stop reading while it is set.
  bool memory_high() const { return memory_high_.load(std::memory_order_relaxed); }

  // Whether a CONNECT of `client_id` on `listener` is within the quota's
  // connection rates (CONNACK 0x9F if not). Thread-safe.
  bool admit_connect(const std::string& listener, const std::string& client_id, const Quota& quota,
                     TimePoint now);

  // Disconnects every connection signed in as `identity` (a device that
  // was disabled or removed), on every loop. Thread-safe.
  void disconnect_identity(const std::string& identity, mqtt::ReasonCode reason);

  // Publishes a message of the hub's own (cloud-to-device, presence
  // events) as a client would. Thread-safe; `done(ok)` runs on an event
  // loop once the message is durable for every persistent session it
  // reached (false: the store failed).
  void inject(std::shared_ptr<Message> message, std::function<void(bool)> done);
  // Sends `message` to the live connection of `client_id` only, if its
  // session subscribed to a matching filter (twin answers, method calls).
  // Thread-safe; `done(delivered)` runs on an event loop, or at once on
  // the caller's thread when no session of that client id exists.
  void send_to_client(const std::string& client_id, MessagePtr message,
                      std::function<void(bool)> done);

  // Set once the hub is shutting down: connections torn down after this do
  // no session work (wills, detach), only unregister.
  void set_stopping() { stopping_.store(true, std::memory_order_relaxed); }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  // Shard 0's periodic work: memory pressure and $SYS topics.
  void tick(TimePoint now);
  // Recomputes memory_high() from the shards' gauges; any loop may call it
  // (it only reads other shards' counters).
  void update_memory_pressure();

 private:
  Limits limits_;
  Executor& executor_;
  AccessControl& access_;
  SessionStore* store_ = nullptr;
  ClientObserver* observer_ = nullptr;
  ReceiptHandler receipt_handler_;
  bool unsafe_early_ack_ = false;
  std::atomic<std::int64_t> durable_sessions_{0};
  std::uint64_t message_id_base_ = 1;
  RetainedStore retained_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<TopicHandler*> handlers_;
  std::atomic<std::uint64_t> assigned_ids_{0};
  std::atomic<bool> memory_high_{false};
  std::atomic<bool> stopping_{false};
  SysTopics sys_;  // used only from shard 0's loop
  // Drop logging, at most once per kDropLogInterval; shard 0's loop only.
  BrokerTotals logged_drops_;
  TimePoint last_drop_log_{};
  void log_drops(TimePoint now);
  std::uint64_t id_salt_;

  std::mutex connect_rate_mutex_;
  ConnectRate connect_rate_;  // guarded by connect_rate_mutex_

  std::mutex directory_mutex_;
  // Keys share the bytes of the sessions' ids. Guarded by directory_mutex_.
  std::unordered_map<ClientId, std::uint32_t, ClientIdHash, ClientIdEqual> directory_;
};

}  // namespace allscene::broker
