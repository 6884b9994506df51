// The byte streams a StreamConnection runs over: plain TCP, TLS, WebSocket
// and WebSocket over TLS. Each is a small policy with the same shape:
//
//   kReadiness  true: the connection waits until the socket is readable and
//               reads into its loop's shared buffer (no buffer per idle
//               connection); false: async_read_some into its own buffer.
//   kHandshake  true: async_handshake(peer, handler(error_code, why)) runs
//               before any MQTT byte; it fills the TLS facts of `peer`.
//   kGather     true: async_write takes the connection's buffer sequence as
//               is; false: one contiguous buffer (TLS writes one record per
//               buffer, so the connection flattens first).
//   socket()    the TCP socket underneath (deadlines close it).
// Every stream is constructed from (Socket, shared ListenerContext).
//
// Only the connection's own loop touches a stream.
#pragma once

#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "broker/interfaces.hpp"
#include "net/http_upgrade.hpp"
#include "net/socket.hpp"
#include "net/tls.hpp"

namespace allscene::net {

enum class TransportKind { tcp, tls, ws, wss };

// What a listener gives each of its connections; shared, read-only.
struct ListenerContext {
  std::string name;
  TransportKind kind = TransportKind::tcp;
  std::shared_ptr<boost::asio::ssl::context> tls;  // tls, wss
  bool ca_configured = false;
  std::string ws_path;
  std::uint64_t ws_message_max = 0;  // bytes of one WebSocket message
};

// Handshake failures that are the client's fault and not an I/O error.
inline boost::system::error_code refused() {
  return boost::system::errc::make_error_code(boost::system::errc::protocol_error);
}

class TcpStream {
 public:
  static constexpr bool kReadiness = true;
  static constexpr bool kHandshake = false;
  static constexpr bool kGather = true;

  TcpStream(Socket socket, const std::shared_ptr<const ListenerContext>&)
      : socket_(std::move(socket)) {}
  Socket& socket() { return socket_; }
  template <typename Buffers, typename Handler>
  void async_write(const Buffers& buffers, Handler&& handler) {
    boost::asio::async_write(socket_, buffers, std::forward<Handler>(handler));
  }

 private:
  Socket socket_;
};

// Completes a TLS server handshake on `stream` and records the client's
// certificate in `peer`.
template <typename SslStream, typename Handler>
void tls_handshake(SslStream& stream, const ListenerContext& listener, broker::PeerInfo& peer,
                   Handler&& handler) {
  stream.async_handshake(
      boost::asio::ssl::stream_base::server,
      [&stream, &listener, &peer,
       h = std::forward<Handler>(handler)](const boost::system::error_code& ec) mutable {
        if (!ec) {
          fill_peer_certificate(stream.native_handle(), listener.ca_configured, peer);
        }
        h(ec, ec ? "TLS handshake failed" : "");
      });
}

class TlsStream {
 public:
  static constexpr bool kReadiness = false;
  static constexpr bool kHandshake = true;
  static constexpr bool kGather = false;

  TlsStream(Socket socket, std::shared_ptr<const ListenerContext> listener)
      : listener_(std::move(listener)), stream_(std::move(socket), *listener_->tls) {}
  Socket& socket() { return stream_.next_layer(); }
  template <typename Handler>
  void async_handshake(broker::PeerInfo& peer, Handler&& handler) {
    tls_handshake(stream_, *listener_, peer, std::forward<Handler>(handler));
  }
  // MQTT bytes only; nothing to reject at this layer.
  std::string_view rejected_data() const { return {}; }
  template <typename Handler>
  void async_read_some(boost::asio::mutable_buffer buffer, Handler&& handler) {
    stream_.async_read_some(buffer, std::forward<Handler>(handler));
  }
  template <typename Handler>
  void async_write(boost::asio::const_buffer buffer, Handler&& handler) {
    boost::asio::async_write(stream_, buffer, std::forward<Handler>(handler));
  }
  // No close_notify exchange: MQTT ends with DISCONNECT or a closed socket,
  // and waiting for the peer's close_notify would hold the connection.
  template <typename Handler>
  void async_close(bool /*protocol_error*/, Handler&& handler) {
    handler();
  }

 private:
  std::shared_ptr<const ListenerContext> listener_;
  boost::asio::ssl::stream<Socket> stream_;
};

// MQTT over WebSocket (MQTT §6, RFC 6455), over TCP (`Next` = Socket)
// or TLS (`Next` = ssl::stream<Socket>).
template <typename Next>
class WsStream {
 public:
  static constexpr bool kReadiness = false;
  static constexpr bool kHandshake = true;
  static constexpr bool kGather = false;
  static constexpr bool kTls = !std::is_same_v<Next, Socket>;
  // Largest HTTP upgrade request (request line and headers).
  static constexpr std::size_t kMaxRequest = 8 * 1024;

  WsStream(Socket socket, std::shared_ptr<const ListenerContext> listener)
      : listener_(std::move(listener)), ws_(make(std::move(socket), *listener_)) {}
  Socket& socket() { return boost::beast::get_lowest_layer(ws_); }

  template <typename Handler>
  void async_handshake(broker::PeerInfo& peer, Handler&& handler) {
    if constexpr (kTls) {
      tls_handshake(ws_.next_layer(), *listener_, peer,
                    [this, h = std::forward<Handler>(handler)](const boost::system::error_code& ec,
                                                               std::string_view why) mutable {
                      if (ec) return h(ec, why);
                      read_upgrade(std::move(h));
                    });
    } else {
      read_upgrade(std::forward<Handler>(handler));
    }
  }

  // MQTT travels in binary messages only; a text message closes the
  // connection [MQTT-6.0.0-1].
  std::string_view rejected_data() const {
    return ws_.got_text() ? "a WebSocket text message (MQTT needs binary)" : "";
  }
  template <typename Handler>
  void async_read_some(boost::asio::mutable_buffer buffer, Handler&& handler) {
    ws_.async_read_some(buffer, std::forward<Handler>(handler));
  }
  template <typename Handler>
  void async_write(boost::asio::const_buffer buffer, Handler&& handler) {
    ws_.async_write(buffer, std::forward<Handler>(handler));
  }
  // Sends a Close frame (1002 after a protocol error) and waits for the
  // peer's, bounded by the WebSocket handshake timeout.
  template <typename Handler>
  void async_close(bool protocol_error, Handler&& handler) {
    namespace ws = boost::beast::websocket;
    if (!ws_.is_open()) return handler();
    ws_.async_close(
        protocol_error ? ws::close_code::protocol_error : ws::close_code::normal,
        [h = std::forward<Handler>(handler)](const boost::system::error_code&) mutable { h(); });
  }

 private:
  using Request = boost::beast::http::request_parser<boost::beast::http::empty_body>;

  static Next make(Socket socket, const ListenerContext& listener) {
    if constexpr (kTls) {
      return Next(std::move(socket), *listener.tls);
    } else {
      (void)listener;
      return socket;
    }
  }

  template <typename Handler>
  void read_upgrade(Handler&& handler) {
    namespace http = boost::beast::http;
    parser_.emplace();
    parser_->header_limit(kMaxRequest);
    parser_->body_limit(0);
    http::async_read(ws_.next_layer(), buffer_, *parser_,
                     [this, h = std::forward<Handler>(handler)](const boost::system::error_code& ec,
                                                                std::size_t) mutable {
                       if (ec) return h(ec, "bad HTTP upgrade request");
                       on_request(std::move(h));
                     });
  }

  template <typename Handler>
  void on_request(Handler&& handler) {
    namespace http = boost::beast::http;
    namespace ws = boost::beast::websocket;
    const auto& req = parser_->get();
    const std::string_view target(req.target().data(), req.target().size());
    if (request_path(target) != listener_->ws_path) {
      return refuse(
          http::status::not_found,
          "no MQTT at " + std::string(request_path(target)) + "; use " + listener_->ws_path,
          std::forward<Handler>(handler));
    }
    if (!ws::is_upgrade(req)) {
      return refuse(http::status::upgrade_required, "this path takes WebSocket upgrades only",
                    std::forward<Handler>(handler));
    }
    bool mqtt = false;
    for (auto [it, end] = req.equal_range(http::field::sec_websocket_protocol); it != end; ++it) {
      const auto value = it->value();
      mqtt = mqtt || lists_subprotocol(std::string_view(value.data(), value.size()), "mqtt");
    }
    // [MQTT-6.0.0-3]: the client offers "mqtt"; the server selects it.
    if (!mqtt) {
      return refuse(http::status::bad_request,
                    "the client must offer WebSocket subprotocol mqtt (Sec-WebSocket-Protocol)",
                    std::forward<Handler>(handler));
    }
    ws_.set_option(ws::stream_base::decorator([](ws::response_type& res) {
      res.set(http::field::sec_websocket_protocol, "mqtt");  // [MQTT-6.0.0-4]
      res.set(http::field::server, "allscene");
    }));
    ws::stream_base::timeout timeout{std::chrono::seconds(10), ws::stream_base::none(), false};
    ws_.set_option(timeout);
    ws_.read_message_max(listener_->ws_message_max);
    ws_.auto_fragment(false);
    ws_.binary(true);
    ws_.async_accept(parser_->release(), [this, h = std::forward<Handler>(handler)](
                                             const boost::system::error_code& ec) mutable {
      parser_.reset();
      buffer_.clear();
      buffer_.shrink_to_fit();
      h(ec, ec ? "WebSocket handshake failed" : "");
    });
  }

  // Answers an upgrade request that cannot be served, then fails the
  // handshake.
  template <typename Handler>
  void refuse(boost::beast::http::status status, std::string why, Handler&& handler) {
    namespace http = boost::beast::http;
    auto res =
        std::make_shared<http::response<http::string_body>>(status, parser_->get().version());
    res->set(http::field::server, "allscene");
    res->set(http::field::content_type, "text/plain");
    res->keep_alive(false);
    res->body() = why + "\n";
    res->prepare_payload();
    http::async_write(ws_.next_layer(), *res,
                      [res, why = std::move(why), h = std::forward<Handler>(handler)](
                          const boost::system::error_code&, std::size_t) mutable {
                        h(refused(), fmt::format("HTTP {} ({})", res->result_int(), why));
                      });
  }

  std::shared_ptr<const ListenerContext> listener_;
  boost::beast::websocket::stream<Next> ws_;
  boost::beast::flat_buffer buffer_{kMaxRequest};
  std::optional<Request> parser_;
};

using WsTcpStream = WsStream<Socket>;
using WssStream = WsStream<boost::asio::ssl::stream<Socket>>;

}  // namespace allscene::net
