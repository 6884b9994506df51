#include "client_impl.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <cstring>
#include <random>

#include "azure/azure.hpp"
#include "azure/topics.hpp"
#include "mqtt/codec.hpp"
#include "mqtt/topic.hpp"
#include "protocol.hpp"

namespace allscene::sdk {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A request's completion as a MethodResult: the status and the JSON
// payload (text that is not JSON as a string, nothing as null).
auto as_method_result(std::function<void(std::error_code, MethodResult)> handler) {
  return [handler = std::move(handler)](std::error_code ec, const detail::TwinResponse& r) {
    MethodResult result;
    result.status = r.status;
    if (r.body.empty()) {
      result.payload = nullptr;
    } else {
      result.payload = nlohmann::json::parse(r.body, nullptr, false);
      if (result.payload.is_discarded()) result.payload = r.body;
    }
    handler(ec, std::move(result));
  };
}
using detail::Clock;

constexpr std::uint32_t kMaxPacket = 16u << 20;
constexpr auto kTick = std::chrono::milliseconds(100);
constexpr std::size_t kReadChunk = 16 * 1024;

std::uint64_t seed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::error_code connack_error(mqtt::ReasonCode rc) {
  switch (rc) {
    case mqtt::ReasonCode::bad_user_name_or_password:
    case mqtt::ReasonCode::not_authorized:
      return Errc::not_authorized;
    default:
      return Errc::connection_refused;
  }
}

// The last bytes of a stopped client's link (its DISCONNECT), then close.
void write_last(const std::shared_ptr<detail::Link>& link) {
  link->writing = std::move(link->last);
  link->last.clear();
  link->write_active = true;
  link->async_write(asio::buffer(link->writing), [link](boost::system::error_code, std::size_t) {
    link->write_active = false;
    link->close();
    if (link->close_timer) link->close_timer->cancel();
  });
}

}  // namespace

DeviceClient::Impl::Impl(asio::any_io_executor executor, ClientOptions options)
    : strand(asio::make_strand(executor)),
      options_(std::move(options)),
      resolver_(strand),
      retry_timer_(strand),
      tick_timer_(strand),
      backoff_(options_.reconnect, seed()),
      queue_(options_.offline_queue_limit, options_.offline_queue_bytes, options_.on_queue_full) {}

std::error_code DeviceClient::Impl::prepare() {
  if (options_.device_id.empty() || options_.host_name.empty()) return Errc::invalid_options;
  const bool certificate = !options_.cert_file.empty() || !options_.key_file.empty();
  if (certificate && (!options_.tls || options_.cert_file.empty() || options_.key_file.empty())) {
    return Errc::invalid_options;
  }
  if (!options_.shared_access_key.empty()) {
    const auto key = azure::base64_decode(options_.shared_access_key);
    if (!key || key->empty()) return Errc::invalid_key;
  } else if (options_.sas_token.empty() && !certificate) {
    return Errc::invalid_options;  // no credentials
  }
  if (options_.keep_alive.count() < 0 || options_.keep_alive.count() > 65535) {
    return Errc::invalid_options;
  }
  if (options_.tls) {
    try {
      tls_.emplace(asio::ssl::context::tls_client);
      tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1);
      if (options_.ca_file.empty()) {
        tls_->set_default_verify_paths();
      } else {
        tls_->load_verify_file(options_.ca_file);
      }
      if (certificate) {
        tls_->use_certificate_chain_file(options_.cert_file);
        tls_->use_private_key_file(options_.key_file, asio::ssl::context::pem);
      }
      tls_->set_verify_mode(asio::ssl::verify_peer);
    } catch (const boost::system::system_error&) {
      return Errc::invalid_options;
    }
  }
  return {};
}

void DeviceClient::Impl::run() {
  if (state_ != State::idle) return;
  state_ = State::connecting;
  tick();
  attempt();
}

void DeviceClient::Impl::attempt() {
  if (state_ == State::stopped) return;
  state_ = State::connecting;
  attempt_deadline_ = Clock::now() + options_.connect_timeout;
  auto link = std::make_shared<Link>(strand, tls_ ? &*tls_ : nullptr);
  link_ = link;
  const std::string& host =
      options_.connect_host.empty() ? options_.host_name : options_.connect_host;
  const std::uint16_t port = options_.port != 0 ? options_.port : (options_.tls ? 8883 : 1883);
  resolver_.async_resolve(host, std::to_string(port),
                          [self = shared_from_this(), link](boost::system::error_code ec,
                                                            tcp::resolver::results_type results) {
                            if (link != self->link_) return;
                            if (ec) {
                              self->fail(ec);
                              return;
                            }
                            asio::async_connect(
                                link->socket(), results,
                                [self, link](boost::system::error_code e, const tcp::endpoint&) {
                                  if (link != self->link_) return;
                                  if (e) {
                                    self->fail(e);
                                    return;
                                  }
                                  self->on_tcp_connected(link);
                                });
                          });
}

void DeviceClient::Impl::on_tcp_connected(const std::shared_ptr<Link>& link) {
  boost::system::error_code ignored;
  link->socket().set_option(tcp::no_delay(true), ignored);
  if (!link->is_tls()) {
    send_connect(link);
    return;
  }
  const std::string& host =
      options_.connect_host.empty() ? options_.host_name : options_.connect_host;
  // Server name indication (for a name, not an address), and the
  // certificate must name the host.
  boost::system::error_code not_an_address;
  asio::ip::make_address(host, not_an_address);
  if (not_an_address) SSL_set_tlsext_host_name(link->tls().native_handle(), host.c_str());
  if (options_.verify_host_name) {
    link->tls().set_verify_callback(asio::ssl::host_name_verification(host));
  }
  link->tls().async_handshake(asio::ssl::stream_base::client,
                              [self = shared_from_this(), link](boost::system::error_code ec) {
                                if (link != self->link_) return;
                                if (ec) {
                                  self->fail(ec);
                                  return;
                                }
                                self->send_connect(link);
                              });
}

std::string DeviceClient::Impl::password() {
  if (!options_.shared_access_key.empty()) {
    const auto now = std::chrono::system_clock::now();
    const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch() +
                                                                         options_.token_ttl)
                            .count();
    return detail::device_sas_token(options_.host_name, options_.device_id,
                                    options_.shared_access_key, expiry);
  }
  return options_.sas_token;
}

void DeviceClient::Impl::send_connect(const std::shared_ptr<Link>& link) {
  mqtt::Connect c;
  c.version = mqtt::Version::v311;
  c.clean_start = false;  // C2D messages wait in the hub's session while the device is away
  c.keep_alive = static_cast<std::uint16_t>(options_.keep_alive.count());
  c.client_id = options_.device_id;
  c.username = detail::device_username(options_.host_name, options_.device_id);
  std::string pw = password();
  if (!pw.empty()) c.password = std::move(pw);
  last_received_ = Clock::now();
  send(c);
  flush();
  read(link);
}

void DeviceClient::Impl::read(const std::shared_ptr<Link>& link) {
  if (link->in.size() - link->in_size < kReadChunk) link->in.resize(link->in_size + kReadChunk);
  link->async_read_some(
      asio::buffer(link->in.data() + link->in_size, link->in.size() - link->in_size),
      [self = shared_from_this(), link](boost::system::error_code ec, std::size_t n) {
        if (link != self->link_) return;
        if (ec) {
          self->fail(ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
                         ? std::error_code(Errc::connection_lost)
                         : std::error_code(ec));
          return;
        }
        self->on_read(link, n);
      });
}

void DeviceClient::Impl::on_read(const std::shared_ptr<Link>& link, std::size_t n) {
  link->in_size += n;
  last_received_ = Clock::now();
  std::size_t off = 0;
  while (off < link->in_size) {
    const std::span<const std::uint8_t> rest(link->in.data() + off, link->in_size - off);
    const auto f = mqtt::frame(rest, kMaxPacket);
    if (f.status == mqtt::FrameStatus::incomplete) break;
    if (f.status == mqtt::FrameStatus::error || !handle(rest.first(f.size))) {
      if (link == link_) fail(Errc::protocol_error);
      return;
    }
    if (link != link_) return;  // a handler failed or stopped the connection
    off += f.size;
  }
  if (off > 0) {
    std::memmove(link->in.data(), link->in.data() + off, link->in_size - off);
    link->in_size -= off;
  }
  flush();
  read(link);
}

bool DeviceClient::Impl::handle(std::span<const std::uint8_t> bytes) {
  auto r = mqtt::decode(bytes, mqtt::Version::v311);
  if (!r.ok()) return false;
  auto& packet = r.packet;
  if (auto* p = std::get_if<mqtt::Publish>(&packet)) {
    if (state_ != State::subscribing && state_ != State::connected) return false;
    on_publish(*p);
    return true;
  }
  if (auto* a = std::get_if<mqtt::PubAck>(&packet)) {
    if (a->type != mqtt::PacketType::puback) return false;  // we never publish QoS 2
    if (auto e = queue_.acknowledge(a->packet_id)) {
      if (e->handler) e->handler({});
    }
    pump();
    return true;
  }
  if (auto* c = std::get_if<mqtt::Connack>(&packet)) {
    if (state_ != State::connecting) return false;
    on_connack(*c);
    return true;
  }
  if (auto* s = std::get_if<mqtt::Suback>(&packet)) {
    on_suback(*s);
    return true;
  }
  if (std::holds_alternative<mqtt::Pingresp>(packet)) return true;
  if (std::holds_alternative<mqtt::Unsuback>(packet)) return true;
  return false;
}

void DeviceClient::Impl::on_connack(const mqtt::Connack& connack) {
  if (mqtt::is_error(connack.reason_code)) {
    fail(connack_error(connack.reason_code));
    return;
  }
  mqtt::Subscribe s;
  subscribe_id_ = next_packet_id();
  s.packet_id = subscribe_id_;
  auto add = [&](std::string filter, std::uint8_t qos) {
    mqtt::TopicSubscription sub;
    sub.filter = std::move(filter);
    sub.options.max_qos = qos;
    s.subscriptions.push_back(std::move(sub));
  };
  add(std::string(azure::kTwinResponses), 0);
  add(std::string(detail::kDesiredPatches), 0);
  add(std::string(azure::kMethodRequests), 0);
  add(detail::devicebound_filter(options_.device_id), 1);
  if (calls_used_) add(std::string(detail::kEcosystemResponses), 0);
  if (services_used_) add(std::string(detail::kServiceResponses), 0);
  for (const auto& [filter, handler] : subscriptions_) add(filter, 1);
  live_subscribe_ids_.clear();  // their SUBACKs went with the old connection
  state_ = State::subscribing;
  send(s);
}

void DeviceClient::Impl::on_suback(const mqtt::Suback& suback) {
  if (live_subscribe_ids_.erase(suback.packet_id) > 0) return;
  if (state_ != State::subscribing || suback.packet_id != subscribe_id_) return;
  subscribe_id_ = 0;
  // A refused filter (0x80) leaves that feature silent; the device still
  // sends events, so the connection stays.
  state_ = State::connected;
  connected_at_ = Clock::now();
  notify(ConnectionStatus::connected, {});
  for (const auto& observer : connected_observers) {
    if (state_ == State::connected) observer();
  }
  if (state_ != State::connected) return;
  for (auto* r : requests_.to_write()) {
    mqtt::Publish p;
    p.topic = r->topic;
    p.payload = r->payload;
    send(p);
  }
  pump();
}

void DeviceClient::Impl::on_publish(const mqtt::Publish& publish) {
  const std::string& topic = publish.topic;
  if (topic.starts_with("$iothub/twin/res/")) {
    on_twin_response(topic, publish.payload);
  } else if (const auto version = detail::parse_desired_patch_topic(topic)) {
    auto patch = detail::parse_desired_patch(publish.payload);
    if (patch && on_desired && !stopped) on_desired(*patch, *version);
  } else if (topic.starts_with("$iothub/methods/POST/")) {
    on_method(topic, publish.payload);
  } else if (topic.starts_with("$ecosystem/res/")) {
    on_call_response(detail::parse_ecosystem_response_topic(topic), publish.payload);
  } else if (topic.starts_with("$services/res/")) {
    on_call_response(detail::parse_service_response_topic(topic), publish.payload);
  } else if (auto props = detail::parse_devicebound_topic(topic, options_.device_id)) {
    if (on_message && !stopped) {
      CloudMessage m;
      m.payload = publish.payload;
      m.properties = std::move(*props);
      on_message(m);
    }
  } else {
    route_subscribed(topic, publish.payload);
  }
  if (publish.qos == 1 && link_ != nullptr) {
    mqtt::PubAck ack;
    ack.type = mqtt::PacketType::puback;
    ack.packet_id = publish.packet_id;
    send(ack);
  }
}

void DeviceClient::Impl::on_twin_response(const std::string& topic, const std::string& payload) {
  const auto parsed = detail::parse_twin_response_topic(topic);
  if (!parsed) return;
  auto request = requests_.take(parsed->rid);
  if (!request) return;  // late (timed out) or not ours
  detail::TwinResponse response{parsed->status, payload, parsed->version};
  request->handler(error_from_status(parsed->status), response);
}

void DeviceClient::Impl::on_call_response(const std::optional<detail::ResponseTopic>& parsed,
                                          const std::string& payload) {
  if (!parsed) return;
  auto request = requests_.take(parsed->rid);
  if (!request) return;  // late (timed out) or not ours
  request->handler(error_from_status(parsed->status),
                   detail::TwinResponse{parsed->status, payload, std::nullopt});
}

void DeviceClient::Impl::route_subscribed(const std::string& topic, const std::string& payload) {
  if (stopped) return;
  // A copy: a handler may subscribe (and so grow the list) while we walk it.
  const auto subscriptions = subscriptions_;
  for (const auto& [filter, handler] : subscriptions) {
    if (handler && mqtt::filter_matches(filter, topic)) handler(topic, payload);
    if (link_ == nullptr) return;  // a handler stopped the client
  }
}

void DeviceClient::Impl::on_method(const std::string& topic, const std::string& payload) {
  const auto parsed = detail::parse_method_topic(topic);
  if (!parsed) return;
  MethodRequest request;
  request.name = parsed->name;
  if (!payload.empty()) {
    request.payload = nlohmann::json::parse(payload, nullptr, false);
    if (request.payload.is_discarded()) request.payload = payload;
  }
  MethodResult result;
  const auto it = methods.find(parsed->name);
  if (it == methods.end() || !it->second || stopped) {
    result.status = 404;
    result.payload = {{"message", "no handler for method '" + parsed->name + "'"}};
  } else {
    try {
      result = it->second(request);
    } catch (const std::exception& e) {
      result.status = 500;
      result.payload = {{"message", e.what()}};
    }
  }
  if (link_ == nullptr) return;  // the handler stopped the client
  mqtt::Publish p;
  p.topic = detail::method_response_topic(result.status, parsed->rid);
  p.payload = result.payload.dump();
  send(p);
}

std::uint16_t DeviceClient::Impl::next_packet_id() {
  // At most max_in_flight + 1 ids are in use, so this ends quickly.
  for (;;) {
    ++last_packet_id_;
    if (last_packet_id_ == 0) continue;
    if (last_packet_id_ == subscribe_id_ || live_subscribe_ids_.contains(last_packet_id_) ||
        queue_.uses_packet_id(last_packet_id_)) {
      continue;
    }
    return last_packet_id_;
  }
}

void DeviceClient::Impl::send(const mqtt::Packet& packet) {
  if (link_ == nullptr) return;
  mqtt::encode(packet, mqtt::Version::v311, out_);
  last_sent_ = Clock::now();
}

void DeviceClient::Impl::flush() {
  auto link = link_;
  if (link == nullptr || link->write_active || out_.empty()) return;
  link->writing.swap(out_);
  out_.clear();
  link->write_active = true;
  link->async_write(asio::buffer(link->writing),
                    [self = shared_from_this(), link](boost::system::error_code ec, std::size_t) {
                      link->write_active = false;
                      link->writing.clear();
                      if (link != self->link_) {
                        if (!ec && !link->last.empty()) write_last(link);
                        return;
                      }
                      if (ec) {
                        self->fail(ec);
                        return;
                      }
                      self->flush();
                    });
}

void DeviceClient::Impl::pump() {
  if (state_ != State::connected) return;
  while (auto* e = queue_.next_to_write(std::max<std::size_t>(1, options_.max_in_flight))) {
    mqtt::Publish p;
    p.qos = 1;
    p.retain = e->retain;
    p.dup = e->packet_id != 0;  // written on an earlier connection (§4.4)
    if (e->packet_id == 0) e->packet_id = next_packet_id();
    p.packet_id = e->packet_id;
    p.topic = e->topic;
    p.payload = e->payload;
    send(p);
  }
  flush();
}

void DeviceClient::Impl::notify(ConnectionStatus status, std::error_code reason) {
  if (on_connection && !stopped) on_connection(status, reason);
}

void DeviceClient::Impl::fail(std::error_code reason) {
  if (state_ == State::stopped || link_ == nullptr) return;
  const bool was_stable =
      state_ == State::connected && Clock::now() - connected_at_ >= options_.reconnect.stable_after;
  link_->close();
  link_.reset();
  out_.clear();
  subscribe_id_ = 0;
  queue_.connection_lost();
  requests_.connection_lost();
  if (was_stable) backoff_.reset();
  state_ = State::waiting;
  notify(ConnectionStatus::disconnected, reason);
  schedule_retry();
}

void DeviceClient::Impl::schedule_retry() {
  if (state_ != State::waiting) return;
  retry_timer_.expires_after(backoff_.next());
  retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->state_ != State::waiting) return;
    self->attempt();
  });
}

void DeviceClient::Impl::tick() {
  if (state_ == State::stopped) return;
  const auto now = Clock::now();
  for (auto& r : requests_.expire(now)) r.handler(Errc::timeout, {});
  if (state_ == State::stopped) return;
  if (link_ != nullptr) {
    const auto keep_alive = std::chrono::duration_cast<Clock::duration>(options_.keep_alive);
    if (state_ == State::connecting || state_ == State::subscribing) {
      if (now >= attempt_deadline_) fail(Errc::timeout);
    } else if (keep_alive.count() > 0 && now - last_received_ > keep_alive + keep_alive / 2) {
      fail(Errc::keep_alive_timeout);
    } else if (keep_alive.count() > 0 && now - last_sent_ >= keep_alive - keep_alive / 4) {
      // Early enough that a tick's delay never lets the hub's 1.5× run out.
      send(mqtt::Pingreq{});
      flush();
    }
  }
  tick_timer_.expires_after(kTick);
  tick_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->tick();
  });
}

void DeviceClient::Impl::stop() {
  if (state_ == State::stopped) return;
  stopped = true;
  const bool connected = state_ == State::connected || state_ == State::subscribing;
  state_ = State::stopped;
  resolver_.cancel();
  retry_timer_.cancel();
  tick_timer_.cancel();
  for (auto& e : queue_.take_all()) {
    if (e.handler) e.handler(Errc::shut_down);
  }
  for (auto& r : requests_.take_all()) r.handler(Errc::shut_down, {});
  on_connection = nullptr;
  on_desired = nullptr;
  on_message = nullptr;
  methods.clear();
  subscriptions_.clear();
  connected_observers.clear();
  auto link = std::move(link_);
  if (link == nullptr) return;
  if (!connected) {
    link->close();
    return;
  }
  // DISCONNECT after what is already being written; close when it is out,
  // or after a second at most.
  link->last = std::move(out_);
  out_.clear();
  mqtt::encode(mqtt::Disconnect{}, mqtt::Version::v311, link->last);
  link->close_timer = std::make_shared<asio::steady_timer>(strand, std::chrono::seconds(1));
  link->close_timer->async_wait([link](boost::system::error_code ec) {
    if (!ec) link->close();
  });
  if (!link->write_active) write_last(link);
}

void DeviceClient::Impl::send_event(Event event, std::function<void(std::error_code)> handler) {
  if (state_ == State::stopped) {
    if (handler) handler(Errc::shut_down);
    return;
  }
  detail::QueuedEvent e;
  e.topic = detail::event_topic(options_.device_id, event);
  e.payload = std::move(event.payload);
  e.handler = std::move(handler);
  for (auto& dropped : queue_.push(std::move(e))) {
    if (dropped.handler) dropped.handler(Errc::queue_full);
  }
  pump();
}

void DeviceClient::Impl::add_request(
    const std::function<std::string(const std::string&)>& make_topic, std::string payload,
    Clock::duration timeout, detail::ResponseHandler handler) {
  if (state_ == State::stopped) {
    handler(Errc::shut_down, {});
    return;
  }
  auto& r =
      requests_.add(make_topic, std::move(payload), Clock::now() + timeout, std::move(handler));
  if (state_ != State::connected) return;  // written once connected
  r.written = true;
  mqtt::Publish p;
  p.topic = r.topic;
  p.payload = r.payload;
  send(p);
  flush();
}

void DeviceClient::Impl::get_twin(std::function<void(std::error_code, Twin)> handler) {
  add_request([](const std::string& rid) { return detail::twin_get_topic(rid); }, "",
              options_.request_timeout,
              [handler = std::move(handler)](std::error_code ec, const detail::TwinResponse& r) {
                if (ec) {
                  handler(ec, {});
                  return;
                }
                auto twin = detail::parse_twin_document(r.body);
                if (!twin) {
                  handler(Errc::malformed_response, {});
                  return;
                }
                handler({}, std::move(*twin));
              });
}

void DeviceClient::Impl::report(nlohmann::json patch,
                                std::function<void(std::error_code, std::int64_t)> handler) {
  if (!patch.is_object()) {
    handler(Errc::bad_request, 0);
    return;
  }
  add_request([](const std::string& rid) { return detail::twin_reported_topic(rid); }, patch.dump(),
              options_.request_timeout,
              [handler = std::move(handler)](std::error_code ec, const detail::TwinResponse& r) {
                if (ec) {
                  handler(ec, 0);
                  return;
                }
                if (!r.version) {
                  handler(Errc::malformed_response, 0);
                  return;
                }
                handler({}, *r.version);
              });
}

void DeviceClient::Impl::subscribe_now(const std::string& filter) {
  if (state_ != State::connected && state_ != State::subscribing) return;  // next step has it
  mqtt::Subscribe s;
  s.packet_id = next_packet_id();
  live_subscribe_ids_.insert(s.packet_id);
  mqtt::TopicSubscription sub;
  sub.filter = filter;
  sub.options.max_qos = filter == detail::kEcosystemResponses ? 0 : 1;
  s.subscriptions.push_back(std::move(sub));
  send(s);
  flush();
}

void DeviceClient::Impl::subscribe(std::string filter, detail::TopicHandler handler) {
  if (state_ == State::stopped || !mqtt::valid_topic_filter(filter)) return;
  for (auto& [f, h] : subscriptions_) {
    if (f == filter) {
      h = std::move(handler);
      return;
    }
  }
  subscriptions_.emplace_back(filter, std::move(handler));
  subscribe_now(filter);
}

void DeviceClient::Impl::publish(std::string topic, std::string payload, int qos, bool retain,
                                 std::function<void(std::error_code)> handler) {
  if (state_ == State::stopped) {
    if (handler) handler(Errc::shut_down);
    return;
  }
  if ((qos != 0 && qos != 1) || !mqtt::valid_topic_name(topic)) {
    if (handler) handler(Errc::bad_request);
    return;
  }
  if (qos == 0) {
    // QoS 0 is for data that is worthless late (file chunks): never queued.
    if (state_ != State::connected) {
      if (handler) handler(Errc::connection_lost);
      return;
    }
    mqtt::Publish p;
    p.retain = retain;
    p.topic = std::move(topic);
    p.payload = std::move(payload);
    send(p);
    flush();
    if (handler) handler({});
    return;
  }
  detail::QueuedEvent e;
  e.topic = std::move(topic);
  e.payload = std::move(payload);
  e.retain = retain;
  e.handler = std::move(handler);
  for (auto& dropped : queue_.push(std::move(e))) {
    if (dropped.handler) dropped.handler(Errc::queue_full);
  }
  pump();
}

void DeviceClient::Impl::call(std::string device_id, std::string method,
                              const nlohmann::json& payload, std::chrono::seconds timeout,
                              std::function<void(std::error_code, MethodResult)> handler) {
  if (state_ == State::stopped) {
    handler(Errc::shut_down, {});
    return;
  }
  const bool to_hub = device_id == detail::kHubTarget;
  if ((!to_hub && !detail::valid_topic_level(device_id)) || !detail::valid_topic_level(method) ||
      timeout.count() < 1 || timeout.count() > 300) {
    handler(Errc::bad_request, {});
    return;
  }
  if (!calls_used_) {
    calls_used_ = true;
    // Sent before the call, so the hub knows where to answer it.
    subscribe_now(std::string(detail::kEcosystemResponses));
  }
  auto make_topic = [device_id, method, s = timeout.count()](const std::string& rid) {
    return detail::ecosystem_call_topic(device_id, method, s, rid);
  };
  // The hub answers 504 at `timeout`; ours is later so its answer wins.
  const auto local_timeout =
      std::chrono::duration_cast<Clock::duration>(timeout) + std::chrono::seconds(2);
  add_request(make_topic, payload.is_null() ? std::string("{}") : payload.dump(), local_timeout,
              as_method_result(std::move(handler)));
}

void DeviceClient::Impl::service(std::string service, std::string operation,
                                 const nlohmann::json& request, std::chrono::seconds timeout,
                                 std::function<void(std::error_code, MethodResult)> handler) {
  if (state_ == State::stopped) {
    handler(Errc::shut_down, {});
    return;
  }
  if (!detail::valid_topic_level(service) || !detail::valid_topic_level(operation) ||
      (!request.is_null() && !request.is_object()) || timeout.count() < 1 ||
      timeout.count() > 300) {
    handler(Errc::bad_request, {});
    return;
  }
  if (!services_used_) {
    services_used_ = true;
    subscribe_now(std::string(detail::kServiceResponses));
  }
  auto make_topic = [service, operation](const std::string& rid) {
    return detail::service_call_topic(service, operation, rid);
  };
  add_request(make_topic, request.is_null() ? std::string("{}") : request.dump(),
              std::chrono::duration_cast<Clock::duration>(timeout),
              as_method_result(std::move(handler)));
}

}  // namespace allscene::sdk
