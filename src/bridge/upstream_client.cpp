#include "bridge/upstream_client.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <random>

#include "azure/azure.hpp"
#include "log/module_log.hpp"
#include "mqtt/codec.hpp"

namespace allscene::bridge {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);
// The largest packet we take from the upstream, announced in CONNECT
// (§3.1.2.11.4) so the upstream never sends more.
constexpr std::uint32_t kMaxPacket = 16 * 1024 * 1024;

std::shared_ptr<asio::ssl::context> make_client_tls(const BridgeConfig& c) {
  if (!c.tls) return nullptr;
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  const auto load = [&c](const char* what, const std::string& file, auto&& f) {
    try {
      f();
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error(
          fmt::format("bridge {}: cannot load {} {}: {}", c.name, what, file, e.what()));
    }
  };
  if (c.ca_file.empty()) {
    ctx->set_default_verify_paths();
  } else {
    load("ca_file", c.ca_file, [&] { ctx->load_verify_file(c.ca_file); });
  }
  if (!c.cert_file.empty()) {
    load("cert_file", c.cert_file, [&] { ctx->use_certificate_chain_file(c.cert_file); });
    load("key_file", c.key_file,
         [&] { ctx->use_private_key_file(c.key_file, asio::ssl::context::pem); });
  }
  ctx->set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

std::uint64_t seed() { return std::random_device{}(); }

}  // namespace

UpstreamClient::UpstreamClient(asio::io_context& io, const BridgeConfig& config, Handlers handlers)
    : io_(io),
      config_(config),
      handlers_(std::move(handlers)),
      tls_context_(make_client_tls(config)),
      resolver_(io),
      retry_timer_(io),
      keep_alive_timer_(io),
      backoff_(std::chrono::milliseconds(config.reconnect_min_ms),
               std::chrono::milliseconds(config.reconnect_max_ms), seed()) {}

UpstreamClient::~UpstreamClient() { stop(); }

void UpstreamClient::start() {
  if (state_ == State::idle) attempt();
}

void UpstreamClient::stop() {
  state_ = State::stopped;
  ++epoch_;
  error_code ignored;
  resolver_.cancel();
  retry_timer_.cancel();
  keep_alive_timer_.cancel();
  if (socket_) socket_->close(ignored);
  if (tls_) tls_->lowest_layer().close(ignored);
}

mqtt::Connect UpstreamClient::connect_packet() const {
  mqtt::Connect c;
  c.version = config_.version;
  c.client_id = effective_client_id(config_);
  c.clean_start = config_.clean_start;
  c.keep_alive = config_.keep_alive;
  c.username = config_.username;
  c.password = config_.password;
  if (!config_.sas_key.empty()) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(now).count() + 3600;
    c.password = azure::make_sas_token(config_.sas_resource, config_.sas_key, expiry);
  }
  if (config_.version == mqtt::Version::v5) {
    c.properties.session_expiry_interval = config_.session_expiry;
    // Bounds what the upstream sends before we acknowledge (§3.3.4).
    c.properties.receive_maximum = config_.inflight;
    c.properties.maximum_packet_size = kMaxPacket;
  }
  return c;
}

void UpstreamClient::attempt() {
  state_ = State::connecting;
  const auto epoch = ++epoch_;
  in_.clear();
  out_.clear();
  queued_bytes_ = 0;
  writing_ = reading_ = false;
  socket_.reset();
  tls_.reset();
  if (tls_context_) {
    tls_ = std::make_unique<asio::ssl::stream<Tcp::socket>>(io_, *tls_context_);
  } else {
    socket_ = std::make_unique<Tcp::socket>(io_);
  }
  keep_alive_timer_.expires_after(kConnectTimeout);
  keep_alive_timer_.async_wait([this, epoch](const error_code& ec) {
    if (!ec && epoch == epoch_ && state_ != State::up) fail("no CONNACK within 10 s");
  });
  resolver_.async_resolve(
      config_.host, std::to_string(config_.port),
      [this, epoch](const error_code& ec, const Tcp::resolver::results_type& results) {
        if (epoch != epoch_) return;
        if (ec) return fail("cannot resolve " + config_.host + ": " + ec.message());
        Tcp::socket& socket = tls_ ? tls_->next_layer() : *socket_;
        asio::async_connect(socket, results, [this, epoch](const error_code& ec, const auto&) {
          if (epoch != epoch_) return;
          if (ec) return fail("cannot connect: " + ec.message());
          if (!tls_) return on_connected();
          if (config_.verify_host_name) {
            tls_->set_verify_callback(asio::ssl::host_name_verification(config_.host));
          }
          // SNI, so a virtual host presents the right certificate.
          SSL_set_tlsext_host_name(tls_->native_handle(), config_.host.c_str());
          tls_->async_handshake(asio::ssl::stream_base::client,
                                [this, epoch](const error_code& ec) {
                                  if (epoch != epoch_) return;
                                  if (ec) return fail("TLS handshake failed: " + ec.message());
                                  on_connected();
                                });
        });
      });
}

void UpstreamClient::on_connected() {
  state_ = State::awaiting_connack;
  last_read_ = std::chrono::steady_clock::now();
  read();
  std::vector<std::uint8_t> bytes;
  mqtt::encode(connect_packet(), config_.version, bytes);
  send_bytes(std::move(bytes));
}

void UpstreamClient::read() {
  if (reading_ || paused_) return;
  reading_ = true;
  with_stream([this](auto& stream) {
    stream.async_read_some(asio::buffer(chunk_),
                           [this, epoch = epoch_](const error_code& ec, std::size_t n) {
                             if (epoch != epoch_) return;
                             reading_ = false;
                             if (ec) return fail("connection lost: " + ec.message());
                             on_read(n);
                           });
  });
}

void UpstreamClient::set_reading(bool on) {
  paused_ = !on;
  // While paused the TCP window fills and the upstream stops sending.
  if (on && (state_ == State::up || state_ == State::awaiting_connack)) read();
}

void UpstreamClient::on_read(std::size_t n) {
  last_read_ = std::chrono::steady_clock::now();
  in_.insert(in_.end(), chunk_.begin(), chunk_.begin() + static_cast<std::ptrdiff_t>(n));
  const auto epoch = epoch_;
  std::span<const std::uint8_t> rest(in_);
  std::size_t used = 0;
  while (!rest.empty()) {
    const auto f = mqtt::frame(rest, kMaxPacket);
    if (f.status == mqtt::FrameStatus::incomplete) break;
    if (f.status == mqtt::FrameStatus::error) return fail(std::string(f.error.what));
    auto decoded = mqtt::decode(rest.first(f.size), config_.version);
    rest = rest.subspan(f.size);
    used += f.size;
    if (!decoded.ok())
      return fail("bad packet from the upstream: " + std::string(decoded.error->what));
    on_packet(decoded.packet);
    if (epoch != epoch_) return;  // the packet ended the link
  }
  in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(used));
  read();
}

void UpstreamClient::on_packet(mqtt::Packet& packet) {
  if (state_ == State::awaiting_connack) {
    const auto* ack = std::get_if<mqtt::Connack>(&packet);
    if (!ack) return fail("the upstream sent something else than CONNACK");
    if (mqtt::is_error(ack->reason_code)) {
      return fail(fmt::format("the upstream refused the connection: {}{}",
                              mqtt::reason_code_name(ack->reason_code),
                              ack->reason_code == mqtt::ReasonCode::bad_user_name_or_password ||
                                      ack->reason_code == mqtt::ReasonCode::not_authorized
                                  ? " (check the bridge's username and password)"
                                  : ""));
    }
    state_ = State::up;
    backoff_.reset();
    module_log().info("bridge {}: link to {}:{} up as client {} (session present: {})",
                      config_.name, config_.host, config_.port, effective_client_id(config_),
                      ack->session_present ? "yes" : "no");
    arm_keep_alive();
    handlers_.up(*ack);
    return;
  }
  if (std::holds_alternative<mqtt::Pingresp>(packet)) return;
  if (const auto* d = std::get_if<mqtt::Disconnect>(&packet)) {
    return fail(
        fmt::format("the upstream disconnected: {}", mqtt::reason_code_name(d->reason_code)));
  }
  handlers_.packet(packet);
}

void UpstreamClient::arm_keep_alive() {
  if (config_.keep_alive == 0) return;
  const auto period = std::chrono::seconds(std::max(1, config_.keep_alive / 2));
  keep_alive_timer_.expires_after(period);
  keep_alive_timer_.async_wait([this, epoch = epoch_](const error_code& ec) {
    if (ec || epoch != epoch_) return;
    const auto now = std::chrono::steady_clock::now();
    const auto ka = std::chrono::seconds(config_.keep_alive);
    if (now - last_read_ > ka * 3 / 2) return fail("no answer within 1.5x keep alive");
    if (now - last_write_ >= ka / 2) send(mqtt::Pingreq{});
    arm_keep_alive();
  });
}

void UpstreamClient::send(const mqtt::Packet& packet) {
  if (state_ != State::up && !std::holds_alternative<mqtt::Connect>(packet)) return;
  std::vector<std::uint8_t> bytes;
  mqtt::encode(packet, config_.version, bytes);
  send_bytes(std::move(bytes));
}

void UpstreamClient::send_bytes(std::vector<std::uint8_t> bytes) {
  queued_bytes_ += bytes.size();
  out_.push_back(std::move(bytes));
  if (!writing_) write_next();
}

void UpstreamClient::write_next() {
  if (out_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  last_write_ = std::chrono::steady_clock::now();
  with_stream([this](auto& stream) {
    asio::async_write(stream, asio::buffer(out_.front()),
                      [this, epoch = epoch_](const error_code& ec, std::size_t) {
                        if (epoch != epoch_) return;
                        if (ec) return fail("write failed: " + ec.message());
                        queued_bytes_ -= out_.front().size();
                        out_.pop_front();
                        write_next();
                      });
  });
}

void UpstreamClient::fail(const std::string& why) {
  if (state_ == State::stopped) return;
  const bool was_up = state_ == State::up;
  ++epoch_;
  error_code ignored;
  if (socket_) socket_->close(ignored);
  if (tls_) tls_->lowest_layer().close(ignored);
  keep_alive_timer_.cancel();
  out_.clear();
  queued_bytes_ = 0;
  writing_ = reading_ = false;
  state_ = State::waiting;
  const auto delay = backoff_.next();
  module_log().warn("bridge {}: link to {}:{} {}: {}; next attempt in {:.1f} s", config_.name,
                    config_.host, config_.port, was_up ? "down" : "not up", why,
                    static_cast<double>(delay.count()) / 1000.0);
  if (was_up) handlers_.down(why);
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([this, epoch = epoch_](const error_code& ec) {
    if (!ec && epoch == epoch_ && state_ == State::waiting) attempt();
  });
}

}  // namespace allscene::bridge
