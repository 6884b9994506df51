#include "bench/client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "bench/worker.hpp"
#include "mqtt/codec.hpp"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace allscene::bench {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::uint16_t kKeepAlive = 60;                  // seconds
constexpr std::int64_t kPingAfter = 30'000'000'000;       // ns without sending
constexpr std::int64_t kConnectTimeout = 15'000'000'000;  // ns per connection
constexpr std::uint32_t kMaxPacket = 1u << 28;
constexpr std::size_t kMaxReadBuffer = std::size_t{4} << 20;
constexpr std::size_t kBatchBytes = 64 * 1024;     // QoS 0 at max speed: bytes per write
constexpr std::uint32_t kMaxBurst = 1000;          // rate mode: most messages per tick
constexpr std::int64_t kStallAfter = 200'000'000;  // ns without deliveries

void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}
std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

}  // namespace

Client::Client(Worker& worker, ClientPlan plan)
    : worker_(worker),
      plan_(std::move(plan)),
      socket_(worker.io()),
      version_(worker.shared().options.version),
      qos_(worker.shared().options.qos) {
  const auto& o = worker.shared().options;
  if (o.scenario == Scenario::durable) qos_ = std::max<std::uint8_t>(qos_, 1);
  in_.resize(plan_.role == Role::subscriber ? 32 * 1024 : 1024);
  window_ = o.inflight;
  if (plan_.role == Role::publisher) {
    if (qos_ > 0) id_in_use_.assign(65536, false);
    payload_.assign(o.payload, static_cast<std::uint8_t>('x'));
  }
}

Client::~Client() = default;

void Client::connect() {
  const auto& o = worker_.shared().options;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  if (ec) {
    fail(Fault::connect);
    return;
  }
  socket_.open(address.is_v4() ? tcp::v4() : tcp::v6(), ec);
  if (!ec && o.source_ips > 0 && address.is_v4()) {
    // Without a port, the kernel picks one at connect() time per
    // destination, so each source address has its own ephemeral range.
    const int one = 1;
    ::setsockopt(socket_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    const auto source =
        asio::ip::address_v4((127u << 24) | (1 + plan_.source_index % o.source_ips));
    socket_.bind(tcp::endpoint(source, 0), ec);
  }
  if (ec) {
    fail(Fault::connect);
    return;
  }
  state_ = State::tcp_connecting;
  deadline_ = now_ns() + kConnectTimeout;
  socket_.async_connect(tcp::endpoint(address, o.port), [this](boost::system::error_code e) {
    if (state_ != State::tcp_connecting) return;
    if (e) {
      fail(Fault::connect);
      return;
    }
    on_tcp_connected();
  });
}

void Client::on_tcp_connected() {
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  mqtt::Connect c;
  c.version = version_;
  c.client_id = plan_.client_id;
  c.keep_alive = kKeepAlive;
  c.clean_start = !plan_.persistent;
  if (plan_.persistent && version_ == mqtt::Version::v5) {
    c.properties.session_expiry_interval = 300;
  }
  if (version_ == mqtt::Version::v5 && plan_.role != Role::idle) {
    c.properties.receive_maximum = 65535;
  }
  state_ = State::mqtt_connecting;
  queue(c);
  flush();
  read();
}

void Client::read() {
  if (read_active_ || state_ == State::closed) return;
  if (in_size_ == in_.size()) {
    if (in_.size() >= kMaxReadBuffer) {
      fail(Fault::protocol);
      return;
    }
    in_.resize(in_.size() * 2);
  }
  read_active_ = true;
  socket_.async_read_some(asio::buffer(in_.data() + in_size_, in_.size() - in_size_),
                          [this](boost::system::error_code ec, std::size_t n) {
                            read_active_ = false;
                            if (state_ == State::closed) return;
                            if (ec) {
                              fail(Fault::closed);
                              return;
                            }
                            on_read(n);
                          });
}

void Client::on_read(std::size_t n) {
  in_size_ += n;
  std::size_t off = 0;
  for (;;) {
    std::span<const std::uint8_t> rest(in_.data() + off, in_size_ - off);
    if (rest.empty()) break;
    const auto f = mqtt::frame(rest, kMaxPacket);
    if (f.status == mqtt::FrameStatus::incomplete) break;
    if (f.status == mqtt::FrameStatus::error || !handle(rest.first(f.size))) {
      if (state_ != State::closed) fail(Fault::protocol);
      return;
    }
    if (state_ == State::closed) return;
    off += f.size;
  }
  if (off > 0) {
    std::memmove(in_.data(), in_.data() + off, in_size_ - off);
    in_size_ -= off;
  }
  if (publishing_ && worker_.shared().options.rate == 0) pump();
  flush();
  read();
}

bool Client::handle(std::span<const std::uint8_t> bytes) {
  auto r = mqtt::decode(bytes, version_);
  if (!r.ok()) return false;
  auto& packet = r.packet;
  if (auto* p = std::get_if<mqtt::Publish>(&packet)) {
    on_publish(*p);
    return true;
  }
  if (auto* a = std::get_if<mqtt::PubAck>(&packet)) {
    on_ack(*a);
    return true;
  }
  if (auto* c = std::get_if<mqtt::Connack>(&packet)) {
    if (state_ != State::mqtt_connecting) return false;
    if (mqtt::is_error(c->reason_code)) {
      fail(Fault::refused);
      return true;
    }
    if (c->properties.receive_maximum && window_ > *c->properties.receive_maximum) {
      window_ = *c->properties.receive_maximum;
    }
    if (plan_.role == Role::subscriber) {
      mqtt::Subscribe s;
      s.packet_id = 1;
      s.subscriptions.push_back({plan_.topic, {qos_, false, false, 0}});
      state_ = State::subscribing;
      queue(s);
      return true;
    }
    connect_done(true);
    return true;
  }
  if (auto* s = std::get_if<mqtt::Suback>(&packet)) {
    if (state_ != State::subscribing) return false;
    const bool ok = !s->reason_codes.empty() &&
                    std::none_of(s->reason_codes.begin(), s->reason_codes.end(), mqtt::is_error);
    if (!ok) {
      fail(Fault::refused);
      return true;
    }
    worker_.stats().subscribers_ready.add();
    connect_done(true);
    return true;
  }
  if (std::holds_alternative<mqtt::Pingresp>(packet)) return true;
  if (std::holds_alternative<mqtt::Disconnect>(packet)) {
    fail(Fault::closed);
    return true;
  }
  return false;
}

void Client::on_publish(const mqtt::Publish& p) {
  auto& stats = worker_.stats();
  const auto now = now_ns();
  if (p.qos == 1) {
    queue(mqtt::PubAck{mqtt::PacketType::puback, p.packet_id, mqtt::ReasonCode::success, {}});
  } else if (p.qos == 2) {
    queue(mqtt::PubAck{mqtt::PacketType::pubrec, p.packet_id, mqtt::ReasonCode::success, {}});
  }
  stats.received.add();
  if (p.payload.size() < 16) {
    stats.err_protocol.add();
    return;
  }
  const auto sent = static_cast<std::int64_t>(get_u64(p.payload.data()));
  const auto pub = get_u32(p.payload.data() + 8);
  const auto seq = get_u32(p.payload.data() + 12);
  worker_.record_latency(sent, now);
  if (pub < plan_.pub_base || pub - plan_.pub_base >= plan_.pub_span ||
      pub >= worker_.shared().publishers) {
    stats.err_protocol.add();
    return;
  }
  const auto slot = pub - plan_.pub_base;
  if (slot >= last_seq_.size()) last_seq_.resize(slot + 1, 0);
  if (seq <= last_seq_[slot]) {
    stats.duplicates.add();
    return;
  }
  last_seq_[slot] = seq;
  stats.unique.add();
  worker_.delivered(pub).add();
}

void Client::on_ack(const mqtt::PubAck& a) {
  using T = mqtt::PacketType;
  switch (a.type) {
    case T::puback:
    case T::pubcomp:
      if (mqtt::is_error(a.reason_code)) worker_.stats().err_protocol.add();
      release_id(a.packet_id);
      worker_.stats().completed.add();
      break;
    case T::pubrec:
      if (mqtt::is_error(a.reason_code)) {
        worker_.stats().err_protocol.add();
        release_id(a.packet_id);
        worker_.stats().completed.add();
        break;
      }
      queue(mqtt::PubAck{T::pubrel, a.packet_id, mqtt::ReasonCode::success, {}});
      break;
    case T::pubrel:
      queue(mqtt::PubAck{T::pubcomp, a.packet_id, mqtt::ReasonCode::success, {}});
      break;
    default:
      break;
  }
}

void Client::release_id(std::uint16_t id) {
  if (id_in_use_.empty() || !id_in_use_[id]) {
    worker_.stats().err_protocol.add();
    return;
  }
  id_in_use_[id] = false;
  --inflight_;
}

void Client::connect_done(bool ok) {
  if (ok) {
    state_ = State::ready;
    worker_.stats().ready.add();
  }
  worker_.connect_finished();
}

void Client::queue(const mqtt::Packet& packet) { mqtt::encode(packet, version_, out_); }

void Client::flush() {
  if (write_active_ || out_.empty() || state_ == State::closed) return;
  std::swap(out_, writing_);
  out_.clear();
  write_active_ = true;
  last_send_ = now_ns();
  asio::async_write(socket_, asio::buffer(writing_),
                    [this](boost::system::error_code ec, std::size_t) {
                      write_active_ = false;
                      writing_.clear();
                      if (state_ == State::closed) return;
                      if (ec) {
                        fail(Fault::closed);
                        return;
                      }
                      if (state_ == State::closing) {
                        if (out_.empty()) {
                          shut();
                          return;
                        }
                      } else if (publishing_ && worker_.shared().options.rate == 0) {
                        pump();
                      }
                      flush();
                    });
}

// The window is end to end: messages not yet seen by this publisher's
// subscribers (this process holds both ends), and for QoS 1/2 also those the
// broker has not acknowledged. So "max speed" is the rate the broker
// sustains, not the rate at which it can be made to queue or drop. Messages
// that stop arriving (dropped by the broker) are written off after
// kStallAfter so the publisher does not wait for them forever.
bool Client::can_send(std::int64_t now) {
  if (!publishing_ || state_ != State::ready) return false;
  const auto& shared = worker_.shared();
  if (shared.phase.load(std::memory_order_relaxed) != Phase::publishing) return false;
  if (out_.size() >= kBatchBytes) return false;
  if (qos_ > 0 && inflight_ >= window_) return false;
  const auto fanout = std::max<std::uint64_t>(1, shared.fanout.load(std::memory_order_relaxed));
  const auto delivered = shared.delivered(plan_.pub_id);
  if (delivered != last_delivered_) {
    last_delivered_ = delivered;
    last_progress_ = now;
  }
  const auto done = delivered / fanout + written_off_;
  const auto outstanding = sent_ > done ? sent_ - done : 0;
  if (outstanding < window_) return true;
  if (now - last_progress_ > kStallAfter) {
    written_off_ += outstanding;
    last_progress_ = now;
    return true;
  }
  return false;
}

void Client::send_publish() {
  const auto& o = worker_.shared().options;
  ++seq_;
  std::uint16_t id = 0;
  if (qos_ > 0) {
    for (int i = 0; i < 65536 && (next_id_ == 0 || id_in_use_[next_id_]); ++i) ++next_id_;
    id = next_id_++;
    id_in_use_[id] = true;
    ++inflight_;
  }
  mqtt::PublishHeader h;
  h.qos = qos_;
  h.topic = plan_.topic;
  h.packet_id = id;
  h.payload_size = o.payload;
  mqtt::encode_publish_header(h, version_, out_);
  put_u64(payload_.data(), static_cast<std::uint64_t>(now_ns()));
  put_u32(payload_.data() + 8, plan_.pub_id);
  put_u32(payload_.data() + 12, seq_);
  out_.insert(out_.end(), payload_.begin(), payload_.end());
  ++sent_;
  worker_.stats().sent.add();
}

void Client::pump() {
  const auto now = now_ns();
  for (int i = 0; i < 4096 && can_send(now); ++i) send_publish();
}

void Client::start_publishing(std::int64_t now) {
  if (plan_.role != Role::publisher || state_ != State::ready) return;
  publishing_ = true;
  publish_start_ = now;
  if (worker_.shared().options.rate == 0) {
    pump();
    flush();
  } else {
    tick(now);
  }
}

void Client::tick(std::int64_t now) {
  if (!publishing_ || state_ != State::ready) return;
  const double rate = worker_.shared().options.rate;
  if (rate == 0) {
    if (!write_active_) {
      pump();
      flush();
    }
    return;
  }
  const auto due =
      static_cast<std::uint64_t>(static_cast<double>(now - publish_start_) * rate / 1e9) + 1;
  std::uint32_t n = 0;
  while (seq_ < due && n < kMaxBurst && can_send(now)) {
    send_publish();
    ++n;
  }
  // Messages the window did not allow are skipped, not sent later in a burst.
  if (seq_ < due && n == 0 && due - seq_ > kMaxBurst) seq_ = static_cast<std::uint32_t>(due - 1);
  flush();
}

void Client::sweep(std::int64_t now) {
  switch (state_) {
    case State::tcp_connecting:
    case State::mqtt_connecting:
    case State::subscribing:
      if (now > deadline_) fail(Fault::timeout);
      break;
    case State::ready:
      if (now - last_send_ > kPingAfter && !write_active_) {
        queue(mqtt::Pingreq{});
        flush();
      }
      break;
    default:
      break;
  }
}

void Client::close_gracefully() {
  if (state_ == State::closed) return;
  if (state_ != State::ready) {
    shut();
    return;
  }
  mqtt::Disconnect d;
  if (plan_.persistent && version_ == mqtt::Version::v5) d.properties.session_expiry_interval = 0;
  out_.clear();  // nothing half-queued follows the DISCONNECT
  state_ = State::closing;
  publishing_ = false;
  queue(d);
  flush();
}

void Client::fail(Fault fault) {
  if (state_ == State::closed) return;
  const bool connecting = state_ == State::idle || state_ == State::tcp_connecting ||
                          state_ == State::mqtt_connecting || state_ == State::subscribing;
  const bool closing = state_ == State::closing ||
                       worker_.shared().phase.load(std::memory_order_relaxed) == Phase::closing;
  auto& s = worker_.stats();
  if (!closing) {
    switch (fault) {
      case Fault::connect:
        s.err_connect.add();
        break;
      case Fault::refused:
        s.err_refused.add();
        break;
      case Fault::closed:
        (connecting ? s.err_connect : s.err_closed).add();
        break;
      case Fault::protocol:
        s.err_protocol.add();
        break;
      case Fault::timeout:
        s.err_timeouts.add();
        break;
    }
  }
  shut();
  if (connecting) connect_done(false);
}

void Client::shut() {
  state_ = State::closed;
  publishing_ = false;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace allscene::bench
