#include "admin_client.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "api/admin_files.hpp"

namespace allscene::app {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

bool hub_running(const std::filesystem::path& data_dir) {
  const auto path = data_dir / "LOCK";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // no hub ever ran here
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases the lock if this process got it
  return held;
}

std::optional<AdminClient> AdminClient::for_data_dir(const std::filesystem::path& data_dir) {
  const auto announcement = api::AdminAnnouncement::path(data_dir);
  if (!hub_running(data_dir) || !std::filesystem::exists(announcement)) return std::nullopt;
  std::ifstream in(announcement);
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  const auto url = j.is_object() && j.contains("url") && j["url"].is_string()
                       ? j["url"].get<std::string>()
                       : std::string();
  // "http://HOST:PORT" or "http://[V6]:PORT", as the hub writes it.
  constexpr std::string_view kScheme = "http://";
  const auto colon = url.rfind(':');
  if (!url.starts_with(kScheme) || colon == std::string::npos || colon < kScheme.size()) {
    throw std::runtime_error(fmt::format(
        "{} does not hold {{\"url\": \"http://HOST:PORT\"}}; restart the hub to rewrite it",
        announcement.string()));
  }
  auto host = url.substr(kScheme.size(), colon - kScheme.size());
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return AdminClient(url, host, url.substr(colon + 1), api::read_admin_token(data_dir));
}

AdminClient::AdminClient(std::string url, std::string host, std::string port, std::string token)
    : url_(std::move(url)),
      host_(std::move(host)),
      port_(std::move(port)),
      token_(std::move(token)) {}

api::Response AdminClient::send(const api::Request& request) const {
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    tcp::resolver resolver(io);
    stream.connect(resolver.resolve(host_, port_));
    http::request<http::string_body> req(http::string_to_verb(request.method), request.target, 11);
    req.set(http::field::host, host_);
    req.set(http::field::authorization, "Bearer " + token_);
    if (!request.body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = request.body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    const auto type = res[http::field::content_type];
    return {res.result_int(), std::move(res.body()), std::string(type.data(), type.size())};
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(
        fmt::format("cannot reach the hub's admin endpoint at {}: {}; is the hub still running?",
                    url_, e.code().message()));
  }
}

}  // namespace allscene::app
