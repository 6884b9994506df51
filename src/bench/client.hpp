// One MQTT connection of the load generator, on one worker's loop: connects,
// subscribes, publishes timestamped and numbered messages, acknowledges,
// checks sequence numbers. Built on the allscene codec (src/mqtt).
// Threading: every method runs on the owning worker's loop.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "mqtt/packets.hpp"

namespace allscene::bench {

class Worker;

enum class Role { publisher, subscriber, idle };

struct ClientPlan {
  Role role = Role::idle;
  std::string client_id;
  std::string topic;               // publisher: topic name; subscriber: filter
  std::uint32_t pub_id = 0;        // publisher: its id, written into each payload
  std::uint32_t pub_base = 0;      // subscriber: lowest publisher id it hears from
  std::uint32_t pub_span = 1;      // subscriber: how many publisher ids it hears from
  bool persistent = false;         // session outlives the connection (durable)
  std::uint32_t source_index = 0;  // picks the source address with --source-ips
};

class Client {
 public:
  Client(Worker& worker, ClientPlan plan);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void connect();
  void start_publishing(std::int64_t now);
  // Rate mode: sends the messages due by `now` (within the window); max
  // speed: refills the window.
  void tick(std::int64_t now);
  // Connect-phase timeouts and keep-alive pings.
  void sweep(std::int64_t now);
  // DISCONNECT (normal), then close once written.
  void close_gracefully();

  bool is_publisher() const { return plan_.role == Role::publisher; }

 private:
  enum class State { idle, tcp_connecting, mqtt_connecting, subscribing, ready, closing, closed };

  void on_tcp_connected();
  void read();
  void on_read(std::size_t n);
  bool handle(std::span<const std::uint8_t> packet);
  void on_publish(const mqtt::Publish& publish);
  void on_ack(const mqtt::PubAck& ack);
  void connect_done(bool ok);
  void queue(const mqtt::Packet& packet);
  void flush();
  void pump();
  bool can_send(std::int64_t now);
  void send_publish();
  void release_id(std::uint16_t id);
  enum class Fault { connect, refused, closed, protocol, timeout };
  void fail(Fault fault);
  void shut();

  Worker& worker_;
  ClientPlan plan_;
  boost::asio::ip::tcp::socket socket_;
  State state_ = State::idle;
  mqtt::Version version_;
  std::uint8_t qos_;
  std::vector<std::uint8_t> in_;
  std::size_t in_size_ = 0;
  std::vector<std::uint8_t> out_;
  std::vector<std::uint8_t> writing_;
  bool write_active_ = false;
  bool read_active_ = false;
  std::int64_t deadline_ = 0;   // connect-phase deadline
  std::int64_t last_send_ = 0;  // for keep-alive

  // Publisher.
  bool publishing_ = false;
  std::int64_t publish_start_ = 0;
  std::uint32_t seq_ = 0;
  std::uint32_t window_ = 0;
  std::uint32_t inflight_ = 0;
  std::uint16_t next_id_ = 1;
  std::vector<bool> id_in_use_;  // QoS 1/2 only, 65536 bits
  std::vector<std::uint8_t> payload_;
  std::uint64_t sent_ = 0;         // messages written
  std::uint64_t written_off_ = 0;  // messages given up for pacing (lost on the way)
  std::uint64_t last_delivered_ = 0;
  std::int64_t last_progress_ = 0;  // when deliveries last moved

  // Subscriber: last sequence number per publisher (pub_id - pub_base).
  std::vector<std::uint32_t> last_seq_;
};

}  // namespace allscene::bench
