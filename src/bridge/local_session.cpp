#include "bridge/local_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/connection.hpp"
#include "log/module_log.hpp"
#include "mqtt/codec.hpp"

namespace allscene::bridge {

// The connection's transport: decodes what the broker sends the bridge.
class LocalSession::Pipe final : public broker::Transport {
 public:
  explicit Pipe(LocalSession& owner) : owner_(owner) {}

  void send(std::span<const std::uint8_t> bytes) override {
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    take_packets();
  }
  void send_publish(std::span<const std::uint8_t> header,
                    const broker::MessagePtr& message) override {
    pending_.insert(pending_.end(), header.begin(), header.end());
    pending_.insert(pending_.end(), message->payload.begin(), message->payload.end());
    take_packets();
  }
  void close() override {
    if (closed_) return;
    closed_ = true;
    // Not now: the connection is in the middle of a call.
    owner_.broker_.executor().post(owner_.shard_, [self = owner_.shared_from_this()] {
      self->fail_pending();
      const auto reason = self->pipe_ ? self->pipe_->reason_ : mqtt::ReasonCode::unspecified_error;
      self->pipe_.reset();
      std::lock_guard lock(self->callbacks_mutex_);
      if (self->callbacks_.ended) self->callbacks_.ended(reason);
    });
  }
  std::size_t buffered_bytes() const override {
    return owner_.backlog_.load(std::memory_order_relaxed);
  }
  bool closed() const { return closed_; }

  std::unique_ptr<broker::Connection> connection;

 private:
  void take_packets() {
    std::span<const std::uint8_t> rest(pending_);
    while (!rest.empty()) {
      const auto f = mqtt::frame(rest, 1u << 28);
      if (f.status != mqtt::FrameStatus::complete) break;
      auto decoded = mqtt::decode(rest.first(f.size), mqtt::Version::v5);
      rest = rest.subspan(f.size);
      if (!decoded.ok()) continue;
      if (const auto* d = std::get_if<mqtt::Disconnect>(&decoded.packet)) reason_ = d->reason_code;
      if (const auto* c = std::get_if<mqtt::Connack>(&decoded.packet)) reason_ = c->reason_code;
      owner_.on_packet(decoded.packet);
    }
    pending_.erase(pending_.begin(), pending_.end() - static_cast<std::ptrdiff_t>(rest.size()));
  }

  LocalSession& owner_;
  std::vector<std::uint8_t> pending_;
  mqtt::ReasonCode reason_ = mqtt::ReasonCode::unspecified_error;
  bool closed_ = false;
};

LocalSession::LocalSession(broker::Broker& broker, Options options, Callbacks callbacks)
    : broker_(broker),
      options_(std::move(options)),
      shard_(static_cast<std::uint32_t>(std::hash<std::string>{}(options_.client_id) %
                                        broker.shard_count())),
      callbacks_(std::move(callbacks)) {}

LocalSession::~LocalSession() = default;

std::shared_ptr<LocalSession> LocalSession::start(broker::Broker& broker, Options options,
                                                  Callbacks callbacks) {
  std::shared_ptr<LocalSession> session(
      new LocalSession(broker, std::move(options), std::move(callbacks)));
  broker.executor().post(session->shard_, [session] { session->open(); });
  return session;
}

void LocalSession::open() {
  broker::PeerInfo peer;
  peer.address = peer.ip = "in-process";
  peer.loopback = peer.allow_anonymous = true;
  peer.listener = "internal";
  pipe_ = std::make_unique<Pipe>(*this);
  pipe_->connection = std::make_unique<broker::Connection>(broker_.shard(shard_), *pipe_, peer,
                                                           broker::Clock::now());
  mqtt::Connect connect;
  connect.client_id = options_.client_id;
  // A persistent session: what the bridge was given but did not
  // acknowledge, and what arrives meanwhile, waits in the store.
  connect.clean_start = false;
  connect.properties.session_expiry_interval = 0xFFFFFFFF;
  connect.properties.receive_maximum = options_.receive_maximum;
  feed(connect);
  if (options_.subscriptions.empty()) return;
  mqtt::Subscribe subscribe;
  subscribe.packet_id = next_packet_id();
  subscribe.subscriptions = options_.subscriptions;
  feed(subscribe);
}

void LocalSession::feed(const mqtt::Packet& packet) {
  if (!pipe_ || pipe_->closed() || !pipe_->connection) return;
  std::vector<std::uint8_t> bytes;
  mqtt::encode(packet, mqtt::Version::v5, bytes);
  pipe_->connection->on_data(bytes, broker::Clock::now());
}

void LocalSession::on_packet(const mqtt::Packet& packet) {
  if (const auto* p = std::get_if<mqtt::Publish>(&packet)) {
    std::lock_guard lock(callbacks_mutex_);
    if (!callbacks_.message) return;
    backlog_.fetch_add(size_of(*p), std::memory_order_relaxed);
    callbacks_.message(*p);
  } else if (const auto* ack = std::get_if<mqtt::PubAck>(&packet)) {
    const auto it = publishing_.find(ack->packet_id);
    if (it == publishing_.end()) return;
    auto done = std::move(it->second);
    publishing_.erase(it);
    // An error code (quota, too large) is an answer too: resending would
    // get the same one, so the message counts as handled, and is logged.
    if (mqtt::is_error(ack->reason_code)) {
      module_log().warn("bridge session {}: the hub refused a message: {} (dropped)",
                        options_.client_id, mqtt::reason_code_name(ack->reason_code));
    }
    done(true);
  } else if (const auto* sub = std::get_if<mqtt::Suback>(&packet)) {
    for (const auto code : sub->reason_codes) {
      if (mqtt::is_error(code)) {
        module_log().warn("bridge session {}: the hub refused a subscription: {}",
                          options_.client_id, mqtt::reason_code_name(code));
      }
    }
  }
}

void LocalSession::fail_pending() {
  auto pending = std::move(publishing_);
  publishing_.clear();
  for (auto& [id, done] : pending) done(false);
}

std::uint16_t LocalSession::next_packet_id() {
  do {
    last_id_ = static_cast<std::uint16_t>(last_id_ == 0xFFFF ? 1 : last_id_ + 1);
  } while (publishing_.contains(last_id_));
  return last_id_;
}

void LocalSession::publish(mqtt::Publish publish, std::function<void(bool)> done) {
  broker_.executor().post(shard_, [self = shared_from_this(), publish = std::move(publish),
                                   done = std::move(done)]() mutable {
    if (!self->pipe_ || self->pipe_->closed()) return done(false);
    if (publish.qos == 0) {
      publish.packet_id = 0;
      self->feed(publish);
      return done(true);
    }
    publish.packet_id = self->next_packet_id();
    self->publishing_.emplace(publish.packet_id, std::move(done));
    self->feed(publish);
  });
}

void LocalSession::acknowledge(std::uint16_t packet_id) {
  broker_.executor().post(shard_, [self = shared_from_this(), packet_id] {
    self->feed(mqtt::PubAck{mqtt::PacketType::puback, packet_id, mqtt::ReasonCode::success, {}});
  });
}

void LocalSession::consumed(std::size_t bytes) {
  // Never below zero, even for a delivery of an earlier connection.
  auto current = backlog_.load(std::memory_order_relaxed);
  while (!backlog_.compare_exchange_weak(current, current - std::min(current, bytes),
                                         std::memory_order_relaxed)) {
  }
}

void LocalSession::stop() {
  {
    std::lock_guard lock(callbacks_mutex_);
    if (stopped_) return;
    stopped_ = true;
    callbacks_ = {};
  }
  broker_.executor().post(shard_, [self = shared_from_this()] { self->feed(mqtt::Disconnect{}); });
}

}  // namespace allscene::bridge
