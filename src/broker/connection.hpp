// The server side of one MQTT connection, without sockets: bytes in
// (on_data), packets out (through its Transport). It checks every inbound
// packet against the spec and the limits, routes PUBLISHes, and hands
// session work to the session's home shard.
//
// Threading: lives on one shard's loop; every method is called there.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "broker/client_id.hpp"
#include "broker/interfaces.hpp"
#include "broker/quota.hpp"
#include "broker/session.hpp"
#include "mqtt/packets.hpp"

namespace allscene::broker {

class Shard;

class Connection {
 public:
  Connection(Shard& shard, Transport& transport, PeerInfo peer, TimePoint now);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Consumes complete packets from the front of `data`; returns the number
  // of bytes consumed (a partial packet stays with the caller).
  std::size_t on_data(std::span<const std::uint8_t> data, TimePoint now);
  // The peer closed the stream or it failed.
  void on_closed(TimePoint now);
  // Closes the connection if the client was silent for 1.5x its keep-alive.
  void check_keep_alive(TimePoint now);
  // The session's shard ends this connection (takeover, shutdown, admin).
  void kick(mqtt::ReasonCode reason, TimePoint now);

  std::uint64_t id() const { return id_; }
  bool closed() const { return state_ == State::closed; }
  Transport& transport() { return transport_; }
  const ClientId& client_id() const { return client_id_; }
  // Who signed in (AccessControl::authenticate); empty: anonymous.
  const std::string& identity() const { return identity_; }

 private:
  enum class State : std::uint8_t { awaiting_connect, connected, closed };

  void handle(mqtt::Packet& packet, TimePoint now);
  void on_connect(mqtt::Connect& connect, TimePoint now);
  void on_publish(mqtt::Publish& publish, TimePoint now);
  void on_pubrel(const mqtt::PubAck& pubrel, TimePoint now);
  void on_subscribe(mqtt::Subscribe& subscribe, TimePoint now);
  void on_unsubscribe(mqtt::Unsubscribe& unsubscribe, TimePoint now);
  void on_disconnect(const mqtt::Disconnect& disconnect, TimePoint now);
  void refuse_connect(mqtt::ReasonCode reason, mqtt::Version version);
  // Ends the connection for a protocol violation (§4.13): DISCONNECT with
  // `reason` under v5, then close; the will is published.
  void fail(mqtt::ReasonCode reason, TimePoint now);
  void end(bool publish_will, std::optional<std::uint32_t> new_expiry, TimePoint now);
  // Why the connection ended, for presence.
  std::string end_reason() const;
  void send(const mqtt::Packet& packet);
  void ack_publish(mqtt::PacketType type, std::uint16_t packet_id, mqtt::ReasonCode reason);
  ConnRef ref() const;
  bool valid_topic_name(std::string_view topic) const;
  // Counts an access-control denial; logs the first of the connection.
  void denied(std::string_view what, std::string_view topic);
  // Success, or why this PUBLISH exceeds the connection's quota (counted,
  // the first one logged).
  mqtt::ReasonCode check_quota(const mqtt::Publish& publish, TimePoint now);

  // The connection's quota, only when it limits publishing (the
  // connection rates are checked once, at CONNECT, from peer_'s).
  struct PublishRate {
    explicit PublishRate(const Quota& q) : quota(q) {}
    Quota quota;
    TokenBucket messages;
    TokenBucket bytes;
    bool logged = false;
  };
  // Inbound PUBLISH state most connections never use (two empty hash
  // containers cost 112 bytes inline).
  struct InboundState {
    std::unordered_map<std::uint16_t, std::string> aliases;  // §3.3.2.3.4
    std::unordered_set<std::uint16_t> qos2;                  // for Receive Maximum (§3.3.4)
  };
  InboundState& inbound();

  // Widest members first, so that the small ones share the tail without
  // padding: an idle connection costs this object and little else.
  Shard& shard_;
  Transport& transport_;
  // Who connected: needed to sign in, then freed (idle connections are
  // kept small).
  std::unique_ptr<PeerInfo> peer_;
  std::uint64_t id_;
  TimePoint last_activity_;
  ClientId client_id_;  // shared with the session and the directory
  std::string identity_;
  std::unique_ptr<InboundState> inbound_;  // on the first alias or QoS 2 PUBLISH
  std::unique_ptr<PublishRate> rate_;      // only when a publishing quota applies
  std::uint32_t home_ = 0;                 // shard of the session
  std::uint16_t keep_alive_ = 0;
  State state_ = State::awaiting_connect;
  mqtt::Version version_ = mqtt::Version::v5;
  bool session_expiry_was_zero_ = true;
  bool logged_denial_ = false;
  bool signed_in_ = false;                    // the observer was told; tell it when this ends
  bool client_ended_ = false;                 // by DISCONNECT
  std::optional<mqtt::ReasonCode> ended_by_;  // none: the network did
};

}  // namespace allscene::broker
