// AdminServer: the hub's REST API (admin_api.hpp) over HTTP/1.1 or HTTPS on
// Boost.Beast, asynchronous, on one io_context thread of its own. Every
// request but /healthz needs `Authorization: Bearer <token>` (the admin
// token) or `Authorization: SharedAccessSignature …` signed with a service
// policy key (service_auth.hpp). Bodies over 64 KiB are refused with 413.
// Each request is logged at info (method, target, status).
//
// A request whose answer comes later (a direct method call) holds only its
// own connection; the thread goes on serving the others meanwhile.
//
// Thread safety: start() and stop() from one thread (the hub's); requests
// run on the server's thread; answers may come from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "api/admin_api.hpp"
#include "api/service_auth.hpp"

namespace allscene::api {

struct ServerOptions {
  std::string token;                    // the admin bearer token
  SharedAccessPolicies policies;        // service SAS policies; empty: SAS refused
  std::string cert_file, key_file;      // both set: HTTPS (PEM, key unencrypted)
  std::function<std::int64_t()> now_s;  // unix seconds; tests inject
};

class AdminServer {
 public:
  static constexpr std::size_t kMaxBody = 64 * 1024;
  // Cloud service requests may carry audio (30 s of 16 kHz WAV, base64).
  static constexpr std::size_t kMaxServiceBody = 2 * 1024 * 1024;
  // The body limit of a request to `target`.
  static std::size_t body_limit(std::string_view target);

  // `api` must outlive the server. Throws std::runtime_error when the
  // certificate or key cannot be loaded.
  AdminServer(AdminApi& api, ServerOptions options);
  // Bearer token only, plain HTTP.
  AdminServer(AdminApi& api, std::string token);
  ~AdminServer();  // stop()
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds `address:port` (port 0: any free port) and serves on a new
  // thread. Throws boost::system::system_error if it cannot bind.
  void start(const std::string& address, std::uint16_t port);
  // The bound port (after start()).
  std::uint16_t port() const { return port_; }
  bool https() const { return tls_ != nullptr; }
  // Closes the listener and every connection and joins the thread; answers
  // still to come are dropped. Idempotent.
  void stop();

  // The authentication check: nullopt when `authorization` (the header's
  // value) may call `target`, else the 401 answer.
  std::optional<Response> refuse(std::string_view target, std::string_view authorization) const;

  // The answer to one request, authentication included (the network part
  // is the rest of this class); `reply` is called exactly once, maybe on
  // another thread.
  void answer_async(const Request& request, std::string_view authorization,
                    AdminApi::Reply reply) const;
  // The same, waiting for the answer (tests).
  Response answer(const Request& request, std::string_view authorization) const;

 private:
  template <class Stream>
  class Session;
  struct Poster;  // hands late answers to the server's thread while it runs
  void accept();

  AdminApi& api_;
  ServerOptions options_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<Poster> poster_;
  // Connections waiting for a late answer; only the server's thread uses it
  // (stop() clears it after the thread ends).
  std::unordered_set<std::shared_ptr<void>> waiting_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

}  // namespace allscene::api
