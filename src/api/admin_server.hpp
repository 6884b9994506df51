// AdminServer: the admin API (admin_api.hpp) over HTTP/1.1 on Boost.Beast,
// asynchronous, on one io_context thread of its own. Every /api/v1 request
// needs `Authorization: Bearer <token>`; /healthz does not. Bodies over
// 64 KiB are refused with 413. Each request is logged at info (method,
// target, status).
//
// Thread safety: start() and stop() from one thread (the hub's); requests
// run on the server's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <thread>

#include "api/admin_api.hpp"

namespace allscene::api {

class AdminServer {
 public:
  static constexpr std::size_t kMaxBody = 64 * 1024;

  // `api` must outlive the server.
  AdminServer(AdminApi& api, std::string token);
  ~AdminServer();  // stop()
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds `address:port` (port 0: any free port) and serves on a new
  // thread. Throws boost::system::system_error if it cannot bind.
  void start(const std::string& address, std::uint16_t port);
  // The bound port (after start()).
  std::uint16_t port() const { return port_; }
  // Closes the listener and every connection and joins the thread; idempotent.
  void stop();

  // The answer to one request, token check included (the network part is
  // the rest of this class). `authorization` is the header's value.
  Response answer(const Request& request, std::string_view authorization) const;

 private:
  class Session;
  void accept();

  AdminApi& api_;
  const std::string token_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

}  // namespace allscene::api
