#include "admin_client.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/x509_vfy.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "api/admin_files.hpp"

namespace allscene::app {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

template <class Stream>
api::Response exchange(Stream& stream, const api::Request& request, const std::string& host,
                       const std::string& token) {
  http::request<http::string_body> req(http::string_to_verb(request.method), request.target, 11);
  req.set(http::field::host, host);
  req.set(http::field::authorization, "Bearer " + token);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (!request.body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = request.body;
  }
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  api::Response out{res.result_int(), std::move(res.body()), {}, {}};
  for (const auto& field : res) {
    const auto name = field.name_string();
    const auto value = field.value();
    out.headers.emplace_back(std::string(name.data(), name.size()),
                             std::string(value.data(), value.size()));
  }
  out.content_type = out.header("Content-Type");
  return out;
}

}  // namespace

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
  const auto text = [&](const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                  : std::string();
  };
  const auto url = text("url");
  const auto cert_file = text("cert_file");
  // "http[s]://HOST:PORT" or "http[s]://[V6]:PORT", as the hub writes it.
  const std::string_view scheme = cert_file.empty() ? "http://" : "https://";
  const auto colon = url.rfind(':');
  if (!url.starts_with(scheme) || colon == std::string::npos || colon < scheme.size()) {
    throw std::runtime_error(fmt::format(
        "{} does not hold {{\"url\": \"http://HOST:PORT\"}}; restart the hub to rewrite it",
        announcement.string()));
  }
  auto host = url.substr(scheme.size(), colon - scheme.size());
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return AdminClient(url, host, url.substr(colon + 1), api::read_admin_token(data_dir), cert_file);
}

AdminClient::AdminClient(std::string url, std::string host, std::string port, std::string token,
                         std::string cert_file)
    : url_(std::move(url)),
      host_(std::move(host)),
      port_(std::move(port)),
      token_(std::move(token)),
      cert_file_(std::move(cert_file)) {}

api::Response AdminClient::send(const api::Request& request, std::chrono::seconds timeout) const {
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    if (cert_file_.empty()) {
      beast::tcp_stream stream(io);
      stream.expires_after(timeout);
      stream.connect(resolver.resolve(host_, port_));
      auto response = exchange(stream, request, host_, token_);
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return response;
    }
    // Trust exactly the hub's certificate (it may be self-signed).
    ssl::context tls(ssl::context::tls_client);
    tls.load_verify_file(cert_file_);
    X509_STORE_set_flags(SSL_CTX_get_cert_store(tls.native_handle()), X509_V_FLAG_PARTIAL_CHAIN);
    tls.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, tls);
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::get_lowest_layer(stream).connect(resolver.resolve(host_, port_));
    stream.handshake(ssl::stream_base::client);
    auto response = exchange(stream, request, host_, token_);
    beast::error_code ignored;
    stream.shutdown(ignored);
    return response;
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(
        fmt::format("cannot reach the hub's admin endpoint at {}: {}; is the hub still running?",
                    url_, e.code().message()));
  }
}

}  // namespace allscene::app
