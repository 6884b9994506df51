// The bridge's side in the local broker: an in-process MQTT 5 client with
// a persistent session (clean start 0, session expiry "never"), so the
// broker's durable store holds what the bridge has not yet handed upstream
// — across upstream outages and hub restarts. Unlike broker::LocalClient
// (QoS 0, clean session, receive-only) it subscribes at QoS 1 with No
// Local and Retain As Published, publishes, and acknowledges each delivery
// only when told to.
//
// Threading: every public function is thread-safe; the work runs on the
// session's event loop. Callbacks run on that loop and must be quick.
// After stop() returns no callback starts.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/broker.hpp"
#include "mqtt/packets.hpp"

namespace allscene::bridge {

class LocalSession : public std::enable_shared_from_this<LocalSession> {
 public:
  struct Callbacks {
    // A delivery of a subscribed message; QoS 1 ones stay unacknowledged
    // (and stored) until acknowledge(packet_id).
    std::function<void(mqtt::Publish)> message;
    // The broker ended the session's connection (refused, taken over,
    // shutting down): the reason code.
    std::function<void(mqtt::ReasonCode)> ended;
  };
  struct Options {
    std::string client_id;
    std::vector<mqtt::TopicSubscription> subscriptions;
    std::uint16_t receive_maximum = 32;  // deliveries the broker may leave unacknowledged
  };

  static std::shared_ptr<LocalSession> start(broker::Broker& broker, Options options,
                                             Callbacks callbacks);
  ~LocalSession();
  LocalSession(const LocalSession&) = delete;
  LocalSession& operator=(const LocalSession&) = delete;

  // Publishes as the bridge's client (No Local keeps it from coming back
  // to the bridge). `done(true)` runs on the loop once the broker answered
  // (QoS 1: durable for every persistent session it reached; an error
  // code is logged and counts as an answer); false if the connection ended
  // first.
  void publish(mqtt::Publish publish, std::function<void(bool)> done);
  // Acknowledges QoS 1 delivery `packet_id` (PUBACK).
  void acknowledge(std::uint16_t packet_id);
  // Disconnects, keeping the session; idempotent.
  void stop();
  // The consumer took `bytes` (topic + payload) of delivered messages.
  // Until then they count as this connection's write buffer, so above
  // Limits::max_outbound_bytes the broker drops QoS 0 messages to the
  // bridge (counted as slow-consumer drops) instead of queueing them.
  void consumed(std::size_t bytes);
  static std::size_t size_of(const mqtt::Publish& p) { return p.topic.size() + p.payload.size(); }

 private:
  class Pipe;
  LocalSession(broker::Broker& broker, Options options, Callbacks callbacks);
  void open();  // on the loop
  void feed(const mqtt::Packet& packet);
  void on_packet(const mqtt::Packet& packet);  // from the broker, on the loop
  void fail_pending();
  std::uint16_t next_packet_id();

  broker::Broker& broker_;
  const Options options_;
  const std::uint32_t shard_;
  std::mutex callbacks_mutex_;  // held while a callback runs and by stop()
  Callbacks callbacks_;         // guarded by callbacks_mutex_; empty once stopped
  bool stopped_ = false;        // guarded by callbacks_mutex_
  std::atomic<std::size_t> backlog_{0};
  // Loop only:
  std::unique_ptr<Pipe> pipe_;
  std::map<std::uint16_t, std::function<void(bool)>> publishing_;
  std::uint16_t last_id_ = 0;
};

}  // namespace allscene::bridge
