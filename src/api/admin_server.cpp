#include "api/admin_server.hpp"

#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <chrono>
#include <deque>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

#include "api/api_util.hpp"
#include "log/module_log.hpp"
#include "net/server.hpp"
#include "net/tls.hpp"

namespace allscene::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
// Event streams send a comment this often: proxies keep the connection,
// and a vanished reader shows up as a failed write.
constexpr auto kStreamPing = std::chrono::seconds(15);

Response refusal(unsigned status, const std::string& message, std::string_view target = {}) {
  // Azure's paths (everything outside /api/) carry Azure's error fields.
  const bool azure = !target.empty() && !target.starts_with("/api/");
  return detail::error_response(status, message, azure ? detail::azure_code_for(status) : 0);
}

bool token_matches(std::string_view given, const std::string& expected) {
  return given.size() == expected.size() &&
         sodium_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::int64_t system_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The client's X-Request-Id when it is a plain token (letters, digits,
// '-', '_', '.'; 1 to 64 characters), else 16 random hex digits.
std::string request_id_for(const std::string& given) {
  const bool plain =
      !given.empty() && given.size() <= 64 && std::all_of(given.begin(), given.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  if (plain) return given;
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

}  // namespace

std::size_t AdminServer::body_limit(std::string_view target) {
  return target.starts_with("/api/v1/services/") ? kMaxServiceBody : kMaxBody;
}

struct AdminServer::Poster {
  std::mutex mutex;
  asio::io_context* io = nullptr;  // guarded by mutex; null once the server stops

  void post(std::function<void()> work) {
    std::lock_guard lock(mutex);
    if (io) asio::post(*io, std::move(work));
  }
};

// One connection: reads requests (keep-alive), answers each in turn; the
// next request is read only once the answer to this one is written.
template <class Stream>
class AdminServer::Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(AdminServer& server, Stream stream)
      : server_(server), stream_(std::move(stream)), ping_(stream_.get_executor()) {}
  ~Session() {
    if (feed_) feed_->stop();
  }

  void start() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->read();
                              });
    } else {
      read();
    }
  }

 private:
  // The header first: the body limit depends on the target (the parser
  // checks a Content-Length against it when the header ends, so it starts
  // at the largest and read_body() applies the target's).
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxServiceBody);
    beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->on_read(ec);
                              self->read_body();
                            });
  }

  void read_body() {
    const auto target = parser_->get().target();
    const std::size_t limit = body_limit(std::string_view(target.data(), target.size()));
    if (parser_->content_length().value_or(0) > limit) return on_read(http::error::body_limit);
    parser_->body_limit(limit);  // a chunked body is counted as it comes
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      const auto& req = parser_->get();
      const std::string_view target(req.target().data(), req.target().size());
      respond(std::string(req.method_string()), std::string(target), req.version(),
              refusal(413, fmt::format("the body is over {} bytes; send less", body_limit(target)),
                      target),
              /*keep_alive=*/false);
      return;
    }
    if (ec) return;  // closed, timed out or not HTTP: nothing to answer
    auto req = parser_->release();
    Request request{
        std::string(req.method_string()), std::string(req.target()), std::move(req.body()), {}};
    for (const auto& field : req) {
      const auto name = field.name_string();
      const auto value = field.value();
      request.headers[lower(std::string_view(name.data(), name.size()))] =
          std::string(value.data(), value.size());
    }
    request.request_id = request_id_for(request.header("x-request-id"));
    const auto header = req[http::field::authorization];
    const std::string_view authorization(header.data(), header.size());
    // Kept alive by the server while the answer is on its way, and no
    // longer than the server runs.
    auto self = this->shared_from_this();
    server_.waiting_.insert(self);
    std::weak_ptr<Session> weak = self;
    auto poster = server_.poster_;
    server_.answer_async(
        request, authorization,
        [poster, weak, method = request.method, target = request.target, version = req.version(),
         keep_alive = req.keep_alive(), id = request.request_id](Response response) {
          response.headers.emplace_back("X-Request-Id", id);
          poster->post([weak, method, target, version, keep_alive, response]() {
            const auto session = weak.lock();
            if (!session) return;
            session->server_.waiting_.erase(session);
            session->respond(method, target, version, response, keep_alive);
          });
        });
  }

  void respond(const std::string& method, const std::string& target, unsigned version,
               Response response, bool keep_alive) {
    if (response.feed) return stream_events(method, target, version, std::move(response.feed));
    module_log().info("admin: {} {} {} (request {})", method, target, response.status,
                      response.header("X-Request-Id"));
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), version);
    res->set(http::field::server, "allscene");
    if (response.status == 401) res->set(http::field::www_authenticate, "Bearer");
    for (const auto& [name, value] : response.headers) res->set(name, value);
    if (response.status != 204) {
      res->set(http::field::content_type, response.content_type);
      res->body() = std::move(response.body);
    }
    res->keep_alive(keep_alive);
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (res->keep_alive()) {
                          self->read();
                        } else {
                          self->close();
                        }
                      });
  }

  // GET /api/v1/events: the header, then the feed's events as they come,
  // until the reader goes away or the feed ends.
  void stream_events(const std::string& method, const std::string& target, unsigned version,
                     std::shared_ptr<EventFeed> feed) {
    module_log().info("admin: {} {} 200 (event stream)", method, target);
    feed_ = std::move(feed);
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::ok, version);
    res->set(http::field::server, "allscene");
    res->set(http::field::content_type, "text/event-stream");
    res->set(http::field::cache_control, "no-cache");
    res->keep_alive(false);  // the body ends when the connection does
    auto header = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    beast::get_lowest_layer(stream_).expires_never();
    http::async_write_header(
        stream_, *header,
        [self = this->shared_from_this(), res, header](beast::error_code ec, std::size_t) {
          if (ec) return self->end_stream();
          self->start_feed();
        });
  }

  void start_feed() {
    auto self = this->shared_from_this();
    server_.waiting_.insert(self);  // held while streaming, no longer than the server runs
    std::weak_ptr<Session> weak = self;
    auto poster = server_.poster_;
    EventFeed* feed = feed_.get();  // pushes stop before feed_->stop() returns
    auto backlog = backlog_;
    feed_->start(
        [poster, weak, feed, backlog](const std::string& topic, const std::string& payload) {
          const auto size = topic.size() + payload.size();
          feed->set_backlog(backlog->fetch_add(size) + size);
          poster->post([weak, topic, payload, size] {
            if (const auto s = weak.lock()) s->send_event(format_event(topic, payload), size);
          });
        },
        [poster, weak](const std::string& why) {
          poster->post([weak, why] {
            if (const auto s = weak.lock()) {
              s->ending_ = true;
              s->send_event(": the stream ended: " + why + "\n\n", 0);
            }
          });
        });
    watch_reader();
    // At once, so that a proxy holding the header until body bytes arrive
    // shows the stream open now, not at the first ping.
    send_event(": ok\n\n", 0);
    ping();
  }

  // Reads (and ignores) until the reader closes: then the stream ends.
  void watch_reader() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->end_stream();
                              self->watch_reader();
                            });
  }

  void ping() {
    ping_.expires_after(kStreamPing);
    ping_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || !self->feed_) return;
      self->send_event(": ping\n\n", 0);
      self->ping();
    });
  }

  // `counted`: the bytes this event holds in the backlog.
  void send_event(std::string text, std::size_t counted) {
    if (!feed_) return;
    outbox_.emplace_back(std::move(text), counted);
    if (outbox_.size() == 1) write_next();
  }

  void write_next() {
    asio::async_write(stream_, asio::buffer(outbox_.front().first),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->backlog_->fetch_sub(self->outbox_.front().second);
                        self->outbox_.pop_front();
                        if (ec) return self->end_stream();
                        if (!self->outbox_.empty()) return self->write_next();
                        if (self->ending_) self->end_stream();
                      });
  }

  void end_stream() {
    if (!feed_) return;
    feed_->stop();
    feed_.reset();
    ping_.cancel();
    server_.waiting_.erase(this->shared_from_this());
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
  }

  // Ends the connection after the last answer: shuts down sending, then
  // reads and discards until the peer closes, so that a client still
  // sending a refused body is not reset before it reads the answer.
  void close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    if constexpr (kTls) {
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      drain();
    }
  }
  void drain() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (!ec) self->drain();
                            });
  }

  AdminServer& server_;
  std::array<char, 4096> discard_{};
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  // Event streams only.
  std::shared_ptr<EventFeed> feed_;
  std::shared_ptr<std::atomic<std::size_t>> backlog_ =
      std::make_shared<std::atomic<std::size_t>>(0);
  std::deque<std::pair<std::string, std::size_t>> outbox_;  // text, backlog bytes
  bool ending_ = false;
  asio::steady_timer ping_;
};

AdminServer::AdminServer(AdminApi& api, ServerOptions options)
    : api_(api), options_(std::move(options)), acceptor_(io_), poster_(std::make_shared<Poster>()) {
  if (!options_.now_s) options_.now_s = system_now_s;
  if (!options_.cert_file.empty() || !options_.key_file.empty()) {
    if (options_.cert_file.empty() || options_.key_file.empty()) {
      throw std::runtime_error("[http] HTTPS needs both cert_file and key_file");
    }
    net::ListenerConfig tls;
    tls.name = "http";
    tls.transport = "tls";
    tls.cert_file = options_.cert_file;
    tls.key_file = options_.key_file;
    tls_ = net::make_tls_context(tls);
  }
}

AdminServer::AdminServer(AdminApi& api, std::string token)
    : AdminServer(api, ServerOptions{std::move(token), {}, {}, {}, {}}) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start(const std::string& address, std::uint16_t port) {
  const tcp::endpoint endpoint(asio::ip::make_address(address), port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  {
    std::lock_guard lock(poster_->mutex);
    poster_->io = &io_;
  }
  accept();
  thread_ = std::thread([this] { io_.run(); });
}

void AdminServer::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(poster_->mutex);
    poster_->io = nullptr;
  }
  asio::post(io_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  io_.stop();
  thread_.join();
  waiting_.clear();
}

void AdminServer::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (tls_) {
        std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
            *this,
            beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), *tls_))
            ->start();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)))
            ->start();
      }
    }
    accept();
  });
}

std::optional<Response> AdminServer::refuse(std::string_view target,
                                            std::string_view authorization) const {
  if (!requires_token(target)) return std::nullopt;
  constexpr std::string_view kBearer = "Bearer ";
  constexpr std::string_view kSas = "SharedAccessSignature ";
  if (authorization.empty()) {
    return refusal(401,
                   "missing Authorization header; send `Authorization: Bearer <token>` with the "
                   "token from DATA_DIR/admin.token, or a SharedAccessSignature signed with a "
                   "service policy key (`allscene service connection-string`)",
                   target);
  }
  if (authorization.starts_with(kBearer)) {
    if (token_matches(authorization.substr(kBearer.size()), options_.token)) return std::nullopt;
    return refusal(401, "wrong token; use the one in DATA_DIR/admin.token", target);
  }
  if (authorization.starts_with(kSas)) {
    if (options_.policies.empty()) {
      return refusal(401, "this endpoint has no shared access policies; use the bearer token",
                     target);
    }
    const auto problem = options_.policies.check(authorization, options_.now_s());
    if (!problem) return std::nullopt;
    return refusal(401, *problem, target);
  }
  return refusal(401, "unsupported Authorization scheme; use Bearer or SharedAccessSignature",
                 target);
}

void AdminServer::answer_async(const Request& request, std::string_view authorization,
                               AdminApi::Reply reply) const {
  if (auto refused = refuse(request.target, authorization)) {
    reply(std::move(*refused));
    return;
  }
  api_.handle_async(request, std::move(reply));
}

Response AdminServer::answer(const Request& request, std::string_view authorization) const {
  std::promise<Response> answer;
  auto answered = answer.get_future();
  answer_async(request, authorization, [&answer](Response r) { answer.set_value(std::move(r)); });
  return answered.get();
}

}  // namespace allscene::api
