#include "broker/local_client.hpp"

#include <spdlog/spdlog.h>

#include "broker/connection.hpp"
#include "mqtt/codec.hpp"

namespace allscene::broker {

// The connection's transport: decodes what the broker sends the client.
class LocalClient::Pipe final : public Transport {
 public:
  explicit Pipe(LocalClient& owner) : owner_(owner) {}

  void send(std::span<const std::uint8_t> bytes) override {
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    take_packets();
  }
  void send_publish(std::span<const std::uint8_t> header, const MessagePtr& message) override {
    pending_.insert(pending_.end(), header.begin(), header.end());
    pending_.insert(pending_.end(), message->payload.begin(), message->payload.end());
    take_packets();
  }
  void close() override {
    if (closed_) return;
    closed_ = true;
    // Not now: the connection is in the middle of a call.
    owner_.broker_.executor().post(owner_.shard_,
                                   [self = owner_.shared_from_this()] { self->pipe_.reset(); });
  }
  std::size_t buffered_bytes() const override {
    return owner_.backlog_.load(std::memory_order_relaxed);
  }

  std::unique_ptr<Connection> connection;

 private:
  void take_packets() {
    std::span<const std::uint8_t> rest(pending_);
    while (!rest.empty()) {
      const auto f = mqtt::frame(rest, 1u << 28);
      if (f.status != mqtt::FrameStatus::complete) break;
      auto decoded = mqtt::decode(rest.first(f.size), mqtt::Version::v5);
      rest = rest.subspan(f.size);
      if (decoded.ok()) dispatch(decoded.packet);
    }
    pending_.erase(pending_.begin(), pending_.end() - static_cast<std::ptrdiff_t>(rest.size()));
  }

  void dispatch(const mqtt::Packet& packet) {
    std::lock_guard lock(owner_.callbacks_mutex_);
    if (const auto* p = std::get_if<mqtt::Publish>(&packet)) {
      if (owner_.on_message_) owner_.on_message_(*p);
    } else if (const auto* ack = std::get_if<mqtt::Connack>(&packet)) {
      if (mqtt::is_error(ack->reason_code)) end(ack->reason_code);
    } else if (const auto* sub = std::get_if<mqtt::Suback>(&packet)) {
      for (const auto code : sub->reason_codes) {
        if (mqtt::is_error(code)) return end(code);
      }
    } else if (const auto* d = std::get_if<mqtt::Disconnect>(&packet)) {
      end(d->reason_code);
    }
  }

  // Under callbacks_mutex_.
  void end(mqtt::ReasonCode reason) {
    if (owner_.on_end_) owner_.on_end_(reason);
    owner_.on_end_ = nullptr;
    owner_.on_message_ = nullptr;
  }

  LocalClient& owner_;
  std::vector<std::uint8_t> pending_;
  bool closed_ = false;
};

LocalClient::LocalClient(Broker& broker, std::string client_id, OnMessage on_message, OnEnd on_end)
    : broker_(broker),
      client_id_(std::move(client_id)),
      shard_(
          static_cast<std::uint32_t>(std::hash<std::string>{}(client_id_) % broker.shard_count())),
      on_message_(std::move(on_message)),
      on_end_(std::move(on_end)) {}

LocalClient::~LocalClient() = default;

std::shared_ptr<LocalClient> LocalClient::start(Broker& broker, std::string client_id,
                                                std::vector<std::string> filters,
                                                OnMessage on_message, OnEnd on_end) {
  std::shared_ptr<LocalClient> client(
      new LocalClient(broker, std::move(client_id), std::move(on_message), std::move(on_end)));
  broker.executor().post(client->shard_, [client, filters = std::move(filters)]() mutable {
    client->open(std::move(filters));
  });
  return client;
}

void LocalClient::open(std::vector<std::string> filters) {
  PeerInfo peer;
  peer.address = peer.ip = "in-process";
  peer.loopback = peer.allow_anonymous = true;
  peer.listener = "internal";
  pipe_ = std::make_unique<Pipe>(*this);
  const auto now = Clock::now();
  pipe_->connection = std::make_unique<Connection>(broker_.shard(shard_), *pipe_, peer, now);
  mqtt::Connect connect;
  connect.version = mqtt::Version::v5;
  connect.client_id = client_id_;
  connect.clean_start = true;
  mqtt::Subscribe subscribe;
  subscribe.packet_id = 1;
  for (auto& f : filters) subscribe.subscriptions.push_back({std::move(f), {0, false, false, 0}});
  std::vector<std::uint8_t> bytes;
  mqtt::encode(connect, mqtt::Version::v5, bytes);
  mqtt::encode(subscribe, mqtt::Version::v5, bytes);
  pipe_->connection->on_data(bytes, now);
}

void LocalClient::close_on_loop() {
  if (!pipe_ || !pipe_->connection || pipe_->connection->closed()) return;
  std::vector<std::uint8_t> bytes;
  mqtt::encode(mqtt::Disconnect{}, mqtt::Version::v5, bytes);
  pipe_->connection->on_data(bytes, Clock::now());
}

void LocalClient::stop() {
  {
    std::lock_guard lock(callbacks_mutex_);
    if (stopped_) return;
    stopped_ = true;
    on_message_ = nullptr;
    on_end_ = nullptr;
  }
  broker_.executor().post(shard_, [self = shared_from_this()] { self->close_on_loop(); });
}

}  // namespace allscene::broker
