#include "net/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "log/module_log.hpp"
#include "net/stream_connection.hpp"
#include "net/streams.hpp"

namespace allscene::net {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr auto kTickInterval = std::chrono::milliseconds(100);
constexpr auto kShutdownGrace = std::chrono::milliseconds(300);
}  // namespace

struct Server::Listener {
  ListenerConfig config;
  std::shared_ptr<const ListenerContext> context;
  tcp::acceptor acceptor;
  Listener(ListenerConfig c, asio::io_context& io) : config(std::move(c)), acceptor(io) {}
};

namespace {
TransportKind transport_kind(const ListenerConfig& c) {
  if (c.transport == "tcp") return TransportKind::tcp;
  if (c.transport == "tls") return TransportKind::tls;
  if (c.transport == "ws") return TransportKind::ws;
  if (c.transport == "wss") return TransportKind::wss;
  throw std::invalid_argument(
      fmt::format("listener {}: transport '{}' must be tcp, tls, ws or wss", c.name, c.transport));
}

// WebSocket messages may hold several packets, so one may exceed the
// largest packet by a little: a 64 KiB margin.
constexpr std::uint64_t kWsMessageMargin = 64 * 1024;
}  // namespace

Server::Server(std::size_t loops) {
  if (loops == 0) loops = 1;
  for (std::size_t i = 0; i < loops; ++i) loops_.push_back(std::make_unique<Loop>());
}

Server::~Server() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Server::post(std::size_t shard, std::function<void()> task) {
  asio::post(loops_[shard]->io, std::move(task));
}

std::uint16_t Server::listen(const ListenerConfig& config) {
  auto listener = std::make_unique<Listener>(config, loops_[0]->io);
  auto context = std::make_shared<ListenerContext>();
  context->name = config.name;
  context->kind = transport_kind(config);
  if (config.uses_tls()) {
    context->tls = make_tls_context(config);  // a bad file stops start-up here
    context->ca_configured = !config.ca_file.empty();
  }
  context->ws_path = config.ws_path;
  context->ws_message_max = std::uint64_t{broker_->limits().max_packet_size} + kWsMessageMargin;
  listener->context = std::move(context);
  const tcp::endpoint endpoint(asio::ip::make_address(config.address), config.port);
  auto& a = listener->acceptor;
  a.open(endpoint.protocol());
  a.set_option(tcp::acceptor::reuse_address(true));
  a.bind(endpoint);
  a.listen(asio::socket_base::max_listen_connections);
  const auto port = a.local_endpoint().port();
  if (config.uses_websocket()) {
    module_log().info("listening for MQTT over {} on {}:{}{} ({})", config.transport,
                      config.address, port, config.ws_path, config.name);
  } else {
    module_log().info("listening for MQTT over {} on {}:{} ({})", config.transport, config.address,
                      port, config.name);
  }
  accept(*listener);
  listeners_.push_back(std::move(listener));
  return port;
}

void Server::accept(Listener& listener) {
  // New connections go round-robin over the loops.
  const std::size_t i = next_loop_++ % loops_.size();
  listener.acceptor.async_accept(
      loops_[i]->io, [this, &listener, i](const boost::system::error_code& ec, Socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (!ec) {
          boost::system::error_code ignored;
          socket.set_option(tcp::no_delay(true), ignored);
          const auto remote = socket.remote_endpoint(ignored);
          broker::PeerInfo peer;
          peer.ip = remote.address().to_string();
          peer.address = fmt::format("{}:{}", peer.ip, remote.port());
          peer.loopback = remote.address().is_loopback();
          peer.listener = listener.config.name;
          // Anonymous access is only ever granted to clients on loopback.
          peer.allow_anonymous = listener.config.allow_anonymous && peer.loopback;
          peer.tls = listener.config.uses_tls();
          peer.quota = listener.config.quota;
          // An address with repeated failed sign-ins waits before it is read.
          const auto delay = broker_->access().connect_delay(peer);
          // Created and started on its own loop: the connection registers
          // with that loop's shard, which only that loop may touch.
          auto start = [this, &listener, i, socket = std::move(socket),
                        peer = std::move(peer)]() mutable {
            start_connection(listener, i, std::move(socket), std::move(peer));
          };
          if (delay.count() > 0) {
            auto timer = std::make_shared<asio::steady_timer>(loops_[i]->io, delay);
            timer->async_wait(
                [timer, start = std::move(start)](const boost::system::error_code& ec) mutable {
                  if (!ec) start();
                });
          } else {
            asio::post(loops_[i]->io, std::move(start));
          }
        } else {
          module_log().warn("accept failed on {}: {}", listener.config.name, ec.message());
        }
        accept(listener);
      });
}

namespace {

template <typename Stream>
void launch(broker::Shard& shard, broker::PeerInfo&& peer, Socket&& socket,
            const std::shared_ptr<const ListenerContext>& context) {
  std::make_shared<StreamConnection<Stream>>(shard, std::move(peer), std::move(socket), context)
      ->start();
}

}  // namespace

void Server::start_connection(Listener& listener, std::size_t loop, Socket socket,
                              broker::PeerInfo peer) {
  auto& shard = broker_->shard(loop);
  const auto& context = listener.context;
  switch (context->kind) {
    case TransportKind::tcp:
      return launch<TcpStream>(shard, std::move(peer), std::move(socket), context);
    case TransportKind::tls:
      return launch<TlsStream>(shard, std::move(peer), std::move(socket), context);
    case TransportKind::ws:
      return launch<WsTcpStream>(shard, std::move(peer), std::move(socket), context);
    case TransportKind::wss:
      return launch<WssStream>(shard, std::move(peer), std::move(socket), context);
  }
}

void Server::schedule_tick(std::size_t i) {
  auto& timer = *loops_[i]->tick;
  timer.expires_after(kTickInterval);
  timer.async_wait([this, i](const boost::system::error_code& ec) {
    if (ec) return;
    broker_->shard(i).tick(broker::Clock::now());
    schedule_tick(i);
  });
}

void Server::run() {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    loops_[i]->tick = std::make_unique<asio::steady_timer>(loops_[i]->io);
    schedule_tick(i);
  }
  for (std::size_t i = 1; i < loops_.size(); ++i) {
    threads_.emplace_back([this, i] { loops_[i]->io.run(); });
  }
  loops_[0]->io.run();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Server::stop() {
  asio::post(loops_[0]->io, [this] {
    broker_->set_stopping();
    for (auto& l : listeners_) {
      boost::system::error_code ignored;
      l->acceptor.close(ignored);
    }
    for (std::size_t i = 0; i < loops_.size(); ++i) {
      asio::post(loops_[i]->io,
                 [this, i] { broker_->shard(i).kick_all(mqtt::ReasonCode::server_shutting_down); });
    }
    // Give the DISCONNECTs a moment to reach the wire, then end every loop.
    auto timer = std::make_shared<asio::steady_timer>(loops_[0]->io, kShutdownGrace);
    timer->async_wait([this, timer](const boost::system::error_code&) {
      for (auto& loop : loops_) loop->io.stop();
    });
  });
}

}  // namespace allscene::net
