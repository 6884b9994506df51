// A shard is the broker state owned by one event loop: the sessions homed
// there, their subscription index, the shared-subscription groups it owns
// and the connections it serves. Only its own loop touches it; other shards
// reach it through batched tasks (one post per batch, in order).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "broker/session.hpp"
#include "broker/session_store.hpp"
#include "broker/stats.hpp"
#include "broker/subscription_index.hpp"

namespace allscene::broker {

class Broker;
class Connection;

struct SharedMember {
  std::uint32_t shard = 0;
  ClientId client_id;
  mqtt::SubscribeOptions options;
  std::uint32_t subscription_id = 0;
  bool online = true;
};

// "$share/{group}/{filter}": owned by one shard, chosen by hash of the name.
struct SharedGroup {
  std::string name;    // the full "$share/..." filter
  std::string filter;  // the part after the group
  std::vector<SharedMember> members;
  std::size_t next = 0;  // round-robin cursor
};

// Everything a connection hands its session's shard on CONNECT.
struct AttachRequest {
  ConnRef conn;
  ClientId client_id;
  bool clean_start = true;
  std::uint32_t session_expiry = 0;
  std::optional<PendingWill> will;
  ClientLimits limits;
  mqtt::Connack connack;  // prepared by the connection; session_present set here
};

struct SubscribeRequest {
  ConnRef conn;
  ClientId client_id;
  mqtt::Subscribe packet;
  std::vector<mqtt::ReasonCode> verdicts;  // per filter, from the connection's checks
};

// A QoS 1/2 PUBLISH waiting to be acknowledged until it is durable for
// every persistent session it was routed to: each shard that routed it
// arrives once its store commit is done; the last one sends the PUBACK or
// PUBREC (0x97 Quota exceeded if the store failed).
struct PendingAck {
  PendingAck(std::uint32_t parts, ConnRef conn, mqtt::Version version, mqtt::PacketType type,
             std::uint16_t packet_id)
      : pending(parts), conn(conn), version(version), type(type), packet_id(packet_id) {}
  // A message the hub published itself (Broker::inject): `done` instead of a packet.
  PendingAck(std::uint32_t parts, std::function<void(bool)> done)
      : pending(parts), done(std::move(done)) {}
  std::atomic<std::uint32_t> pending;
  std::atomic<bool> failed{false};
  ConnRef conn;
  mqtt::Version version = mqtt::Version::v5;
  mqtt::PacketType type = mqtt::PacketType::puback;
  std::uint16_t packet_id = 0;
  std::function<void(bool ok)> done;
  TimePoint received{};  // when the PUBLISH arrived (for the ack latency)
};
using PendingAckPtr = std::shared_ptr<PendingAck>;

class Shard final : public Outlet {
 public:
  Shard(Broker& broker, std::uint32_t index);
  ~Shard() override;
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  std::uint32_t index() const { return index_; }
  Broker& broker() { return broker_; }
  ShardStats& stats() { return stats_; }
  const ShardStats& stats() const { return stats_; }

  // Runs `fn` on shard `target`: now if it is this shard, else batched.
  void on_shard(std::uint32_t target, std::function<void(Shard&)> fn);

  // Publishes a message: delivered here and sent to every other shard.
  // With `ack`, every shard arrives at it once its part is durable.
  void route(const MessagePtr& message, TimePoint now, PendingAckPtr ack = nullptr);
  // The acknowledgement of a QoS 1/2 PUBLISH, if it must wait for the
  // store (null: acknowledge now). `durable_origin`: the publisher's own
  // session keeps state for it (inbound QoS 2).
  PendingAckPtr pending_ack(const Message& message, bool durable_origin, ConnRef conn,
                            mqtt::Version version, mqtt::PacketType type, std::uint16_t packet_id);
  // Routes a message the hub publishes itself; `done(ok)` once it is
  // durable for every persistent session it reached.
  void inject(const std::shared_ptr<Message>& message, std::function<void(bool)> done,
              TimePoint now);
  // Delivers to the session of `client_id` alone, if it is homed here, has
  // a live connection and a (non-shared) subscription matching the topic;
  // returns whether it did.
  bool deliver_direct(std::string_view client_id, const MessagePtr& message, TimePoint now);
  // A fresh store id for a QoS 1/2 message published on this shard.
  std::uint64_t new_message_id();
  // Runs `fn` on this loop once everything this shard handed the store so
  // far is durable (now, if nothing is pending); `ok` false if it failed.
  void after_commit(std::function<void(Shard&, bool ok)> fn);
  // Rebuilds a session from the store at start-up, before the loops run.
  void restore(ClientId client_id, StoredSession&& stored, TimePoint now);
  // Start-up, after every session is restored: routes a message whose
  // routing a crash cut short to this shard's matching sessions that are
  // not in `reached` (shared groups: none of whose members is).
  void resume_route(const MessagePtr& message, const std::unordered_set<std::string>& reached,
                    TimePoint now);

  // Session operations; run on the session's home shard.
  void attach(AttachRequest&& request, TimePoint now);
  void detach(const ClientId& client_id, ConnRef conn, bool publish_will,
              std::optional<std::uint32_t> new_expiry, TimePoint now);
  void subscribe(SubscribeRequest&& request, TimePoint now);
  void unsubscribe(const ClientId& client_id, ConnRef conn, const mqtt::Unsubscribe& packet);
  void on_client_ack(const ClientId& client_id, ConnRef conn, const mqtt::PubAck& ack,
                     TimePoint now);
  // Routes an inbound QoS 2 message unless its packet id awaits PUBREL;
  // marks it recoverable where that applies, so it is not yet shared.
  void inbound_qos2(const ClientId& client_id, ConnRef conn, std::uint16_t packet_id,
                    std::shared_ptr<Message> message, TimePoint now);
  // Sends a PUBACK/PUBREC/PUBREL/PUBCOMP to `conn` (on any shard).
  void send_ack(ConnRef conn, mqtt::Version version, mqtt::PacketType type, std::uint16_t packet_id,
                mqtt::ReasonCode reason);
  void pubrel(const ClientId& client_id, ConnRef conn, std::uint16_t packet_id);

  // Connections served by this shard's loop.
  void add_connection(std::uint64_t id, Connection* connection);
  void remove_connection(std::uint64_t id);
  std::uint64_t new_connection_id();

  // Expires sessions, sends delayed wills, checks keep-alives. Call often
  // (every 100–500 ms) from the shard's loop.
  void tick(TimePoint now);
  // Ends every connection on this loop with `reason` (e.g. shutdown).
  void kick_all(mqtt::ReasonCode reason);
  // Ends this loop's connections signed in as `identity`; returns how many.
  std::size_t kick_identity(const std::string& identity, mqtt::ReasonCode reason);
  // Holds `resume` until memory is below the low-water mark (checked on
  // tick); used by connections to stop reading under memory pressure.
  void park(std::function<void()> resume);
  // Sends every batched task to its shard; the executor calls it.
  void flush();

  std::size_t session_count() const { return sessions_.size(); }
  std::size_t subscription_count() const { return index_tree_.size(); }

  // Outlet
  void write(ConnRef conn, std::span<const std::uint8_t> bytes) override;
  void write_publish(ConnRef conn, std::span<const std::uint8_t> header,
                     const MessagePtr& message) override;
  void close(ConnRef conn, mqtt::ReasonCode reason) override;
  std::vector<std::uint8_t>& scratch() override { return scratch_; }
  void count_drop(DropReason reason) override;
  void account_queued(std::int64_t bytes, std::int64_t messages) override;
  void account_inflight(std::int64_t delta) override;
  void persist(StoreOp op) override;
  void on_durable(const ClientId& client_id, std::uint64_t seq) override;
  void receipt(std::string_view client_id, const MessagePtr& message, bool delivered) override;

 private:
  struct RouteTask {
    MessagePtr message;
    PendingAckPtr ack;
  };
  struct WriteTask {
    std::uint64_t conn;
    std::vector<std::uint8_t> bytes;
    bool qos0_publish = false;  // may be dropped if the connection is congested
  };
  struct CloseTask {
    std::uint64_t conn;
    mqtt::ReasonCode reason;
  };
  struct CallTask {
    std::function<void(Shard&)> fn;
  };
  using Task = std::variant<RouteTask, WriteTask, CloseTask, CallTask>;

  void run_batch(std::vector<Task>& batch);
  std::vector<Task>& outbox(std::uint32_t target);
  void schedule_flush();
  void submit_to_store();
  void on_committed(bool ok);
  void arrive(const PendingAckPtr& ack);
  void arrived(PendingAck& ack, bool ok);
  void route_local(const MessagePtr& message, TimePoint now, const PendingAckPtr& ack,
                   const std::unordered_set<std::string>* reached = nullptr);
  static bool any_member_reached(const SharedGroup& group,
                                 const std::unordered_set<std::string>& reached);
  void deliver_to_group(SharedGroup& group, const MessagePtr& message, TimePoint now,
                        const PendingAckPtr& ack);
  void deliver_shared(std::string_view client_id, Delivery&& delivery, TimePoint now);
  Session* session_for(std::string_view client_id, ConnRef conn);
  void end_session(Session& session, TimePoint now, bool keep_home);
  // Makes `session` durable or not, saving or deleting it in the store.
  void set_durable(Session& session, bool durable, TimePoint now);
  void save_session(Session& session, TimePoint now);
  void finish_subscribe(const SubscribeRequest& req, mqtt::Suback& ack,
                        const std::vector<std::size_t>& retained, bool ok, TimePoint now);
  void publish_will(Session& session, TimePoint now);
  void schedule(Session& session);
  void send_retained(Session& session, const std::string& filter,
                     const mqtt::SubscribeOptions& options, std::uint32_t subscription_id,
                     TimePoint now);
  void add_subscription(Session& session, const mqtt::TopicSubscription& sub,
                        std::uint32_t subscription_id);
  void remove_subscription(Session& session, const std::string& filter, bool persist_change = true);
  void set_shared_online(Session& session, bool online);
  std::uint32_t group_owner(std::string_view name) const;
  Connection* connection(std::uint64_t id);
  std::vector<Connection*> connections_snapshot() const;

  // Shared-group membership changes, run on the group's owner shard.
  void group_join(const std::string& name, const std::string& filter, SharedMember member);
  void group_leave(const std::string& name, std::uint32_t shard, std::string_view client_id);
  bool deliverable(Connection& c, bool qos0_publish);
  void group_online(const std::string& name, std::uint32_t shard, std::string_view client_id,
                    bool online);

  Broker& broker_;
  std::uint32_t index_;
  SubscriptionIndex index_tree_;
  // Keyed by a view of the session's own client id (it never changes and
  // the session never moves): one copy of the id per session, not two.
  std::unordered_map<std::string_view, std::unique_ptr<Session>> sessions_;
  std::unordered_map<std::string, std::unique_ptr<SharedGroup>> groups_;
  std::unordered_map<std::uint64_t, Connection*> connections_;
  std::multimap<TimePoint, ClientId> deadlines_;  // session expiry and will delay
  std::vector<std::vector<Task>> outboxes_;
  std::vector<std::function<void()>> parked_;
  bool flush_scheduled_ = false;
  // Store changes not yet submitted, and what waits for them.
  // Acknowledgements (the common case, kept apart to avoid a std::function
  // per message) and other follow-ups waiting for a commit.
  struct Waiters {
    std::vector<PendingAckPtr> acks;
    std::vector<std::function<void(Shard&, bool)>> calls;
    bool empty() const { return acks.empty() && calls.empty(); }
  };
  std::vector<StoreOp> store_ops_;
  Waiters store_waiters_;
  // Waiters of submitted batches, oldest first (the store completes in order).
  std::deque<Waiters> committing_;
  std::uint64_t next_message_ = 0;
  TimePoint last_sweep_{};  // expired messages in offline sessions' queues
  std::uint64_t next_connection_ = 0;
  std::vector<Subscriber> matches_;  // reused per routed message
  std::vector<std::uint8_t> scratch_;
  ShardStats stats_;
};

}  // namespace allscene::broker
