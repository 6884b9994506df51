// The forwarding logic of one bridge, without I/O: local deliveries go
// upstream, upstream deliveries come in, each QoS 1 message acknowledged
// on the side it came from only once the other side has it.
//
//   out: the local broker delivers to the bridge's persistent session; the
//        delivery is acknowledged locally only after the upstream's PUBACK,
//        so until then it stays in the local store (store and forward).
//        QoS 0 while the link is down is dropped (counted).
//   in:  an upstream PUBLISH is published locally; the upstream gets its
//        PUBACK only after the local broker has it durably. A PUBACK owed
//        on a link that has since gone is not sent: the upstream resends
//        (QoS 1 may duplicate, never lose).
// Loops: the bridge subscribes with No Local on both sides (§3.8.3.1), so
// neither broker returns what the bridge itself published there.
//
// Threading: not thread-safe; one thread (the bridge's) calls everything,
// and the ports' completions must come back on it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <unordered_set>

#include "bridge/config.hpp"
#include "mqtt/packets.hpp"

namespace allscene::bridge {

// The upstream connection as the engine sees it.
class UpstreamPort {
 public:
  virtual ~UpstreamPort() = default;
  // Queues a packet on the live link; only called while the link is up.
  virtual void send(const mqtt::Packet& packet) = 0;
  // Bytes queued and not yet written.
  virtual std::size_t queued_bytes() const = 0;
  // Stops (false) or resumes (true) reading from the upstream.
  virtual void set_reading(bool on) = 0;
};

// The bridge's session in the local broker.
class LocalPort {
 public:
  virtual ~LocalPort() = default;
  // `done(true)` once the local broker accepted it (QoS 1: durable).
  virtual void publish(mqtt::Publish publish, std::function<void(bool)> done) = 0;
  virtual void acknowledge(std::uint16_t packet_id) = 0;
};

struct EngineStats {
  std::uint64_t forwarded_out = 0;  // acknowledged by the upstream (QoS 0: sent)
  std::uint64_t forwarded_in = 0;   // accepted by the local broker
  std::uint64_t dropped_qos0_offline = 0;
  std::uint64_t dropped_qos0_congested = 0;  // the upstream is not taking what we write
  std::uint64_t refused_upstream = 0;        // PUBACK with an error code: dropped
  std::uint64_t refused_local = 0;           // the local broker refused: the upstream resends
  std::uint64_t unmatched = 0;               // no rule covers the topic (should not happen)
};

class Engine {
 public:
  // QoS 0 going out is dropped while this much waits to be written
  // upstream (QoS 1 is bounded by the inflight window instead).
  static constexpr std::size_t kMaxUpstreamBuffer = 4 * 1024 * 1024;
  // Reading from the upstream stops while this many inbound messages wait
  // for the local broker, and resumes below half of it.
  static constexpr std::size_t kMaxLocalPending = 1024;

  Engine(const BridgeConfig& config, UpstreamPort& upstream, LocalPort& local);

  // The subscriptions of the bridge's local session (out rules), with No
  // Local, Retain As Published and "send retained only if new".
  static std::vector<mqtt::TopicSubscription> local_subscriptions(std::span<const Rule> rules);

  // The link came up (CONNACK success): subscribes, then resends what the
  // upstream has not acknowledged.
  void on_upstream_up(const mqtt::Connack& connack);
  void on_upstream_down();
  // PUBLISH, PUBACK or SUBACK from the upstream.
  void on_upstream_packet(const mqtt::Packet& packet);
  // A delivery to the bridge's local session.
  void on_local_message(const mqtt::Publish& delivered);

  bool up() const { return up_; }
  // Inbound messages handed to the local broker and not yet answered.
  std::size_t local_pending() const { return local_pending_; }
  // QoS 1 messages given to the bridge and not yet acknowledged upstream.
  std::size_t held() const { return held_.size(); }
  // Of those, sent on the current link.
  std::size_t inflight() const { return inflight_; }
  const EngineStats& stats() const { return stats_; }

 private:
  struct Held {
    std::uint16_t local_id;
    mqtt::Publish publish;      // as it goes upstream; packet_id is the upstream's
    std::uint64_t sent_on = 0;  // the link it was last sent on; 0: never sent
  };

  void subscribe_upstream(bool session_present);
  // Sends held messages not yet sent on this link, within the window.
  void send_held();
  void on_puback(const mqtt::PubAck& ack);
  void on_suback(const mqtt::Suback& ack);
  void on_upstream_publish(const mqtt::Publish& publish);
  std::uint16_t next_packet_id();
  void local_answered();

  const BridgeConfig& config_;
  UpstreamPort& upstream_;
  LocalPort& local_;
  bool up_ = false;
  bool session_present_ = false;
  std::uint64_t link_ = 0;  // counts links, so a late completion knows its own
  std::uint8_t upstream_max_qos_ = 2;
  std::size_t upstream_window_ = 0;  // min(our inflight, the upstream's Receive Maximum)
  std::size_t inflight_ = 0;
  std::size_t local_pending_ = 0;
  bool reading_ = true;
  std::deque<Held> held_;
  std::unordered_set<std::uint16_t> ids_in_use_;  // upstream packet ids
  std::uint16_t last_id_ = 0;
  std::uint16_t subscribe_id_ = 0;
  EngineStats stats_;
};

}  // namespace allscene::bridge
