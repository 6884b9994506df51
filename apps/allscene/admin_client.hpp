// The CLI's way to a running hub: its admin endpoint, found through the
// data directory (DATA_DIR/LOCK held by the hub, DATA_DIR/admin.json and
// DATA_DIR/admin.token). Synchronous; one connection per request. With
// HTTPS the hub's own certificate (named in admin.json) is the only one
// trusted.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "api/admin_api.hpp"

namespace allscene::app {

// Whether a hub holds the data directory's lock now (it is released at
// once when nobody does).
bool hub_running(const std::filesystem::path& data_dir);

class AdminClient {
 public:
  // The endpoint of the hub running on `data_dir`; nullopt when no hub
  // runs there or it serves no admin endpoint. Throws std::runtime_error
  // when the files are unreadable.
  static std::optional<AdminClient> for_data_dir(const std::filesystem::path& data_dir);

  // Sends one request (with the bearer token and request.headers) and
  // returns the answer, its headers included. Throws std::runtime_error
  // when the endpoint cannot be reached or does not answer within `timeout`.
  api::Response send(const api::Request& request,
                     std::chrono::seconds timeout = std::chrono::seconds(30)) const;

  const std::string& url() const { return url_; }

 private:
  AdminClient(std::string url, std::string host, std::string port, std::string token,
              std::string cert_file);

  std::string url_, host_, port_, token_, cert_file_;
};

}  // namespace allscene::app
