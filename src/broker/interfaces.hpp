// The interfaces the broker needs from the layers below it and from the
// network layer. The broker knows nothing of sockets, storage engines or
// credential formats; src/hub wires implementations in.
//
// Threading: every call on a Transport or from a Connection happens on the
// event loop that owns that connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "broker/message.hpp"
#include "broker/quota.hpp"
#include "mqtt/packets.hpp"

namespace allscene::broker {

// The byte stream of one client connection, implemented by src/net.
class Transport {
 public:
  virtual ~Transport() = default;
  // Queues bytes; they are written after the current handler returns.
  virtual void send(std::span<const std::uint8_t> bytes) = 0;
  // Queues a PUBLISH: `header` is copied, the payload of `message` is shared.
  virtual void send_publish(std::span<const std::uint8_t> header, const MessagePtr& message) = 0;
  // Writes what is queued, then closes the connection.
  virtual void close() = 0;
  // Bytes queued and not yet written; above Limits::max_outbound_bytes the
  // connection is congested and QoS 0 messages to it are dropped.
  virtual std::size_t buffered_bytes() const = 0;
};

// Runs work on the event loop of a shard. Tasks posted from one loop to
// another run in the order they were posted.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual std::size_t shard_count() const = 0;
  virtual void post(std::size_t shard, std::function<void()> task) = 0;
};

// Who is connecting, as far as the network layer knows.
struct PeerInfo {
  std::string address{};  // "127.0.0.1:53422"
  std::string ip{};       // "127.0.0.1" (failure throttling counts per IP)
  bool loopback = false;
  std::string listener{};        // listener name from the config
  bool allow_anonymous = false;  // the listener lets clients in without credentials
  bool tls = false;
  // A TLS client certificate, if the client sent one: its SHA-256
  // thumbprint (64 upper-case hex digits, over the DER encoding), its
  // subject common name, and whether it chains to the listener's CA.
  std::string cert_thumbprint{};
  std::string cert_common_name{};
  bool cert_verified = false;
  std::optional<Quota> quota{};  // the listener's own; none: Limits::quota
};

struct AuthResult {
  mqtt::ReasonCode reason = mqtt::ReasonCode::success;
  std::string identity;  // who the client is for authorisation (empty: anonymous)
};

// Authenticates CONNECT and authorises every PUBLISH and SUBSCRIBE.
// Calls happen on the connection's event loop and must not block.
class AccessControl {
 public:
  virtual ~AccessControl() = default;
  // How long the network layer waits before it reads a new connection
  // from `peer` (slows down repeated failed sign-ins); zero: no wait.
  virtual std::chrono::milliseconds connect_delay(const PeerInfo&) { return {}; }
  virtual AuthResult authenticate(const PeerInfo& peer, const mqtt::Connect& connect) = 0;
  virtual bool may_publish(std::string_view identity, std::string_view client_id,
                           std::string_view topic) = 0;
  virtual bool may_subscribe(std::string_view identity, std::string_view client_id,
                             std::string_view filter) = 0;
};

// Lets anonymous clients do everything; the hub installs it only for
// loopback listeners that allow anonymous access.
class AllowAll final : public AccessControl {
 public:
  AuthResult authenticate(const PeerInfo&, const mqtt::Connect&) override { return {}; }
  bool may_publish(std::string_view, std::string_view, std::string_view) override { return true; }
  bool may_subscribe(std::string_view, std::string_view, std::string_view) override { return true; }
};

// Told when a client signs in as an identity (not anonymously) and when
// that connection ends: presence. Called on the connection's event loop;
// must be quick and thread-safe.
class ClientObserver {
 public:
  virtual ~ClientObserver() = default;
  virtual void signed_in(std::string_view identity, std::string_view client_id) = 0;
  // `reason`: why the connection ended ("client disconnected", "keep alive
  // timeout", "session taken over", "connection lost", …).
  virtual void signed_out(std::string_view identity, std::string_view client_id,
                          std::string_view reason = {}) = 0;
};

// Replies a topic handler may send on the connection that published.
class HandlerReply {
 public:
  virtual ~HandlerReply() = default;
  virtual void publish(std::string topic, std::string payload, mqtt::Properties properties) = 0;
};

// A lower layer that claims a topic space (e.g. "$iothub/") and answers on
// the same connection instead of routing to subscribers.
class TopicHandler {
 public:
  virtual ~TopicHandler() = default;
  virtual std::string_view prefix() const = 0;
  virtual void on_publish(std::string_view client_id, std::string_view identity,
                          const mqtt::Publish& publish, HandlerReply& reply) = 0;
};

}  // namespace allscene::broker
