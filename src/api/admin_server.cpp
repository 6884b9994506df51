#include "api/admin_server.hpp"

#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

namespace allscene::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(30);

Response refusal(unsigned status, const std::string& message) {
  return {status, nlohmann::json{{"error", message}}.dump(), "application/json"};
}

bool token_matches(std::string_view given, const std::string& expected) {
  return given.size() == expected.size() &&
         sodium_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace

// One connection: reads requests (keep-alive), answers each in turn.
class AdminServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(AdminServer& server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {}

  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    stream_.expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      const auto& req = parser_->get();
      respond(std::string(req.method_string()), std::string(req.target()), req.version(),
              refusal(413, fmt::format("the body is over {} bytes; send less", kMaxBody)),
              /*keep_alive=*/false);
      return;
    }
    if (ec) return;  // closed, timed out or not HTTP: nothing to answer
    auto req = parser_->release();
    Request request{std::string(req.method_string()), std::string(req.target()),
                    std::move(req.body())};
    const auto header = req[http::field::authorization];
    const std::string_view authorization(header.data(), header.size());
    auto response = server_.answer(request, authorization);
    respond(request.method, request.target, req.version(), std::move(response), req.keep_alive());
  }

  void respond(const std::string& method, const std::string& target, unsigned version,
               Response response, bool keep_alive) {
    spdlog::info("admin: {} {} {}", method, target, response.status);
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), version);
    res->set(http::field::server, "allscene");
    if (response.status == 401) res->set(http::field::www_authenticate, "Bearer");
    if (response.status != 204) {
      res->set(http::field::content_type, response.content_type);
      res->body() = std::move(response.body);
    }
    res->keep_alive(keep_alive);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (res->keep_alive()) {
                          self->read();
                        } else {
                          self->close();
                        }
                      });
  }

  // Ends the connection after the last answer: shuts down sending, then
  // reads and discards until the peer closes, so that a client still
  // sending a refused body is not reset before it reads the answer.
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(5));
    drain();
  }
  void drain() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (!ec) self->drain();
                            });
  }

  AdminServer& server_;
  std::array<char, 4096> discard_{};
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

AdminServer::AdminServer(AdminApi& api, std::string token)
    : api_(api), token_(std::move(token)), acceptor_(io_) {}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start(const std::string& address, std::uint16_t port) {
  const tcp::endpoint endpoint(asio::ip::make_address(address), port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  accept();
  thread_ = std::thread([this] { io_.run(); });
}

void AdminServer::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  io_.stop();
  thread_.join();
}

void AdminServer::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(*this, std::move(socket))->read();
    accept();
  });
}

Response AdminServer::answer(const Request& request, std::string_view authorization) const {
  if (requires_token(request.target)) {
    constexpr std::string_view kScheme = "Bearer ";
    if (authorization.empty()) {
      return refusal(401,
                     "missing Authorization header; send `Authorization: Bearer <token>` with the "
                     "token from DATA_DIR/admin.token");
    }
    if (!authorization.starts_with(kScheme) ||
        !token_matches(authorization.substr(kScheme.size()), token_)) {
      return refusal(401, "wrong token; use the one in DATA_DIR/admin.token");
    }
  }
  return api_.handle(request);
}

}  // namespace allscene::api
