// One client's session (§4.1): subscriptions, outbound QoS 1/2 flow,
// queued messages, inbound QoS 2 state and the will. It lives on one shard
// (its "home") for its whole life; the connection may sit on another shard,
// so all output goes through an Outlet addressed by ConnRef.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/client_id.hpp"
#include "broker/limits.hpp"
#include "broker/message.hpp"
#include "broker/session_store.hpp"
#include "mqtt/packets.hpp"

namespace allscene::broker {

// Names a live connection: the shard (event loop) it sits on and its id.
struct ConnRef {
  std::uint32_t shard = 0;
  std::uint64_t id = 0;  // 0: none
  explicit operator bool() const { return id != 0; }
  bool operator==(const ConnRef&) const = default;
};

// Why a message was not delivered; each is counted.
enum class DropReason { queue_full, expired, too_large, qos0_offline };

// Where a session's output goes; implemented by the shard.
class Outlet {
 public:
  virtual ~Outlet() = default;
  virtual void write(ConnRef conn, std::span<const std::uint8_t> bytes) = 0;
  virtual void write_publish(ConnRef conn, std::span<const std::uint8_t> header,
                             const MessagePtr& message) = 0;
  virtual void close(ConnRef conn, mqtt::ReasonCode reason) = 0;
  virtual std::vector<std::uint8_t>& scratch() = 0;  // reusable encode buffer
  virtual void count_drop(DropReason reason) = 0;
  // Bytes and messages held in session queues changed (memory bounds, metrics).
  virtual void account_queued(std::int64_t bytes, std::int64_t messages) = 0;
  // Messages in flight (sent, not yet acknowledged) changed (metrics).
  virtual void account_inflight(std::int64_t delta) = 0;
  // Hands a change of a persistent session to the session store.
  virtual void persist(StoreOp op) = 0;
  // Calls `session.committed(seq)` (if it still exists) once everything
  // persisted so far is durable.
  virtual void on_durable(const ClientId& client_id, std::uint64_t seq) = 0;
  // A message with Message::receipt was acknowledged by `client_id`
  // (delivered) or expired before it could be.
  virtual void receipt(std::string_view client_id, const MessagePtr& message, bool delivered) = 0;
};

// A message on its way to one session, with this subscriber's options.
struct Delivery {
  MessagePtr message;
  std::uint8_t qos = 0;
  bool retain = false;
  std::vector<std::uint32_t> subscription_ids;
  std::uint64_t seq = 0;  // QoS 1/2: the session's number for it; fixes its packet id
  bool dup = false;       // recovered after a restart: it may have been sent
};

struct SubscriptionEntry {
  mqtt::SubscribeOptions options;
  std::uint32_t subscription_id = 0;
};

struct PendingWill {
  MessagePtr message;
  std::uint32_t delay = 0;  // seconds (§3.1.3.2.2)
};

// What a connection negotiated that the session's output must respect.
struct ClientLimits {
  mqtt::Version version = mqtt::Version::v5;
  std::uint16_t receive_maximum = 65535;  // client's (§3.1.2.11.3)
  std::uint32_t maximum_packet_size = 0;  // client's; 0: no limit
  std::uint16_t topic_alias_maximum = 0;  // client's (§3.1.2.11.5)
};

class Session {
 public:
  // `limits` must outlive the session (it is the broker's).
  Session(ClientId client_id, const Limits& limits);

  const ClientId& client_id() const { return client_id_; }
  ConnRef connection() const { return conn_; }
  bool online() const { return static_cast<bool>(conn_); }
  mqtt::Version version() const { return limits_.version; }

  // Binds a new connection and resends unacknowledged messages (§4.4).
  void attach(Outlet& out, ConnRef conn, const ClientLimits& limits, TimePoint now);
  void detach() { conn_ = {}; }

  // A durable session hands every change of its deliveries and inbound
  // QoS 2 state to the store (Outlet::persist).
  bool durable() const { return durable_; }
  void set_durable(bool durable) { durable_ = durable; }
  // Persists every delivery and inbound QoS 2 id (a session becoming durable).
  void persist_all(Outlet& out);
  // Rebuilds state recovered from the store; the session is offline.
  void restore(Outlet& out, std::vector<StoredDelivery>&& deliveries,
               const std::vector<std::uint16_t>& inbound_qos2);

  void deliver(Outlet& out, Delivery&& delivery, TimePoint now);
  // Removes queued messages whose expiry passed (counted as drops), so an
  // offline session does not keep them until it reconnects.
  void drop_expired(Outlet& out, TimePoint now);
  // Client acknowledgements of our PUBLISHes.
  void on_puback(Outlet& out, std::uint16_t packet_id, TimePoint now);
  // Returns true when a durable session must wait for the store before
  // it sends PUBREL: call release_committed once the release is durable.
  bool on_pubrec(Outlet& out, std::uint16_t packet_id, mqtt::ReasonCode reason, TimePoint now);
  void release_committed(Outlet& out, std::uint16_t packet_id);
  // Deliveries up to `seq` are durable: QoS 2 ones may now be sent.
  void committed(Outlet& out, std::uint64_t seq, TimePoint now);
  void on_pubcomp(Outlet& out, std::uint16_t packet_id, TimePoint now);

  // Inbound QoS 2: true if packet_id is new (the message must be routed).
  bool begin_inbound_qos2(Outlet& out, std::uint16_t packet_id, const MessagePtr& message);
  bool release_inbound_qos2(Outlet& out, std::uint16_t packet_id);

  using Subscriptions = std::unordered_map<std::string, SubscriptionEntry>;
  // Filter -> options; empty for a session that never subscribed.
  const Subscriptions& subscriptions() const;
  // Adds or replaces a subscription; true if the filter is new.
  bool set_subscription(const std::string& filter, const SubscriptionEntry& entry);
  // True if there was one.
  bool erase_subscription(const std::string& filter);

  std::uint32_t expiry_interval = 0;  // seconds; 0xFFFFFFFF never
  const std::optional<PendingWill>& will() const;
  void set_will(std::optional<PendingWill> will);
  std::optional<TimePoint> will_at() const;  // will delay running
  void set_will_at(std::optional<TimePoint> at);
  std::optional<TimePoint> expires_at() const;  // set while disconnected
  void set_expires_at(std::optional<TimePoint> at);

  std::size_t inflight_count() const { return flow_ ? flow_->inflight.size() : 0; }
  std::size_t queued_count() const { return flow_ && flow_->queue ? flow_->queue->size() : 0; }
  std::uint64_t queued_bytes() const { return flow_ ? flow_->queued_bytes : 0; }

 private:
  // releasing: PUBREC received, PUBREL held until the store has the release.
  enum class State : std::uint8_t { awaiting_ack, awaiting_rec, releasing, awaiting_comp };
  struct Inflight {
    std::uint16_t packet_id;
    State state;
    Delivery delivery;
  };

  bool send_publish(Outlet& out, const Delivery& d, std::uint16_t packet_id, bool dup,
                    TimePoint now);
  void send_ack(Outlet& out, mqtt::PacketType type, std::uint16_t packet_id,
                mqtt::ReasonCode reason);
  void enqueue(Outlet& out, Delivery&& delivery);
  void push_queued(Outlet& out, Delivery&& delivery);
  Delivery pop_queued(Outlet& out);
  void pump(Outlet& out, TimePoint now);
  void forget(Outlet& out, const Delivery& d);  // a delivery ends: the store forgets it
  Inflight* find_inflight(std::uint16_t packet_id);
  // Removes `entry` (found by find_inflight) and sends what waits.
  void finish_inflight(Outlet& out, Inflight* entry, TimePoint now);

  ClientId client_id_;  // shared with the connection and the directory
  ConnRef conn_;
  ClientLimits limits_;
  bool durable_ = false;  // here, it fills ClientLimits' tail padding
  const Limits& server_;
  // The QoS 1/2 flow, inbound QoS 2 state and outbound topic aliases: an
  // idle device that never sees them keeps only a null pointer (72 bytes
  // inline otherwise). Created on first use and kept while the session
  // lives, so a session that has started using it allocates nothing more
  // per message than before.
  struct Flow {
    std::uint64_t queued_bytes = 0;
    std::uint64_t next_seq = 0;
    // A QoS 2 PUBLISH to a durable session is sent only once its delivery
    // is durable: its packet id must never be reused after a crash while
    // the client may still hold it awaiting PUBREL (§4.3.3).
    std::uint64_t committed_seq = 0;
    std::vector<Inflight> inflight;  // in send order; at most max_inflight_
    // Created on first use and released when drained: libstdc++'s deque
    // allocates ~600 bytes even when empty.
    std::unique_ptr<std::deque<Delivery>> queue;
    // Like queue, created on first use: an empty hash container costs 56
    // bytes, and most sessions never see inbound QoS 2 or topic aliases.
    std::unique_ptr<std::unordered_set<std::uint16_t>> awaiting_rel;
    // Per connection; only for a v5 client that accepts topic aliases.
    std::unique_ptr<std::unordered_map<std::string, std::uint16_t>> out_aliases;
  };
  Flow& flow();  // created on first use
  std::unique_ptr<Flow> flow_;
  // Created on first use and freed when emptied: an empty map costs 56
  // bytes, and an idle device may never subscribe.
  std::unique_ptr<Subscriptions> subscriptions_;
  // The will and the deadlines of a disconnected session: on the heap
  // only while one is set (64 bytes inline, unused by most connected
  // sessions).
  struct Pending {
    std::optional<PendingWill> will;
    std::optional<TimePoint> will_at;
    std::optional<TimePoint> expires_at;
  };
  void trim_pending();  // frees pending_ once nothing is set
  std::unique_ptr<Pending> pending_;
};

}  // namespace allscene::broker
