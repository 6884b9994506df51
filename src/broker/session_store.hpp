// The session store: durable broker state behind one small asynchronous
// interface. The broker defines it; src/store implements it (SQLite,
// embedded) and a clustered backend (PostgreSQL) can implement it later
// without the broker changing.
//
// What is kept: persistent sessions (expiry > 0) with their will, their
// subscriptions, every QoS 1/2 delivery queued or in flight to them (the
// message body once, referenced by each delivery), inbound QoS 2 packet ids
// awaiting PUBREL, and retained messages. Deadlines are wall-clock
// milliseconds since the Unix epoch (to_wall_ms).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "broker/message.hpp"
#include "mqtt/packets.hpp"

namespace allscene::broker {

namespace store_op {
struct SaveSession {
  std::string client_id;
  std::uint32_t expiry_interval = 0;
  std::optional<std::int64_t> expires_at;  // set while the session is offline
  MessagePtr will;                         // null: none
  std::uint32_t will_delay = 0;
  std::optional<std::int64_t> will_at;  // will delay running
};
// Also removes the session's subscriptions, deliveries and QoS 2 ids.
struct DeleteSession {
  std::string client_id;
};
struct SaveSubscription {
  std::string client_id;
  std::string filter;
  mqtt::SubscribeOptions options;
  std::uint32_t subscription_id = 0;
};
struct DeleteSubscription {
  std::string client_id;
  std::string filter;
};
// A delivery to a session, numbered by the session (seq); stores the
// message body under message->id unless it is already stored.
struct SaveDelivery {
  std::string client_id;
  std::uint64_t seq = 0;
  MessagePtr message;
  std::uint8_t qos = 1;
  bool retain = false;
  std::vector<std::uint32_t> subscription_ids;
};
// QoS 2: the client sent PUBREC; only PUBREL/PUBCOMP remain (§4.3.3).
struct ReleaseDelivery {
  std::string client_id;
  std::uint64_t seq = 0;
};
// The delivery is complete or dropped; a body no delivery references goes.
// `leave_mark`: the message is recoverable (see SaveInboundQos2), so a
// "done" mark stays until its publisher's release.
struct DeleteDelivery {
  std::string client_id;
  std::uint64_t seq = 0;
  std::uint64_t message_id = 0;
  bool leave_mark = false;
};
// An inbound QoS 2 packet id awaiting PUBREL. With `message` (a
// recoverable message: routed by several event loops, each committing its
// own part) the body is kept with it until the release, so that start-up
// can finish a routing that a crash cut short (StoredState).
struct SaveInboundQos2 {
  std::string client_id;
  std::uint16_t packet_id = 0;
  MessagePtr message = nullptr;
};
// Also drops the "done" marks of the record's message.
struct DeleteInboundQos2 {
  std::string client_id;
  std::uint16_t packet_id = 0;
};
// An empty payload deletes the topic's retained message (§3.3.1.3).
struct SaveRetained {
  MessagePtr message;
};
}  // namespace store_op

using StoreOp =
    std::variant<store_op::SaveSession, store_op::DeleteSession, store_op::SaveSubscription,
                 store_op::DeleteSubscription, store_op::SaveDelivery, store_op::ReleaseDelivery,
                 store_op::DeleteDelivery, store_op::SaveInboundQos2, store_op::DeleteInboundQos2,
                 store_op::SaveRetained>;

// What a store hands back at start-up.
struct StoredDelivery {
  std::uint64_t seq = 0;
  MessagePtr message;
  std::uint8_t qos = 1;
  bool retain = false;
  std::vector<std::uint32_t> subscription_ids;
  bool released = false;  // PUBREC received: resend PUBREL, not the PUBLISH
};

struct StoredSession {
  store_op::SaveSession session;
  std::vector<store_op::SaveSubscription> subscriptions;
  std::vector<StoredDelivery> deliveries;  // by seq
  std::vector<std::uint16_t> inbound_qos2;
  // Recoverable messages this session has had (queued, in flight above, or
  // completed: "done" marks).
  std::vector<std::uint64_t> done;
};

struct StoredState {
  std::vector<StoredSession> sessions;
  std::vector<MessagePtr> retained;
  // Recoverable messages not yet released by their publisher: a crash may
  // have kept some event loops' parts of their routing from the disk, so
  // start-up routes each again to the sessions that have not had it.
  std::vector<MessagePtr> unfinished_routes;
  std::uint64_t next_message_id = 1;  // above every stored message id
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // Receives the outcome of a batch: true once every op of it is durable,
  // false if it could not be written (disk full, I/O error).
  using Done = std::function<void(bool ok)>;

  // Applies `ops` after every batch submitted before it (from any thread;
  // batches are whole: all of a batch's ops commit together) and calls
  // `done` from a store thread once they are durable or have failed.
  // `done` must be quick: post the follow-up work to an event loop.
  virtual void submit(std::vector<StoreOp> ops, Done done) = 0;

  // False after a commit failed until one succeeds again; while false the
  // broker refuses QoS 1/2 publishes it could not keep (reason 0x97).
  virtual bool healthy() const = 0;
};

}  // namespace allscene::broker
