// One transport connection to the hub: TCP, or TLS over TCP. A client
// makes a new Link for every connection attempt and drops it when the
// connection ends; operations in flight on a dropped Link complete with
// an error the client ignores (they hold the Link alive).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace allscene::sdk::detail {

using Executor = boost::asio::strand<boost::asio::any_io_executor>;

class Link {
 public:
  // TLS when `tls` is non-null.
  Link(const Executor& executor, boost::asio::ssl::context* tls) {
    if (tls != nullptr) {
      tls_.emplace(executor, *tls);
    } else {
      tcp_.emplace(executor);
    }
  }

  boost::asio::ip::tcp::socket& socket() { return tls_ ? tls_->next_layer() : *tcp_; }
  bool is_tls() const { return tls_.has_value(); }
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& tls() { return *tls_; }

  template <class Handler>
  void async_read_some(boost::asio::mutable_buffer buffer, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffer, std::forward<Handler>(handler));
    } else {
      tcp_->async_read_some(buffer, std::forward<Handler>(handler));
    }
  }
  template <class Handler>
  void async_write(boost::asio::const_buffer buffer, Handler&& handler) {
    if (tls_) {
      boost::asio::async_write(*tls_, buffer, std::forward<Handler>(handler));
    } else {
      boost::asio::async_write(*tcp_, buffer, std::forward<Handler>(handler));
    }
  }
  // Closes the socket (no TLS close_notify: the MQTT DISCONNECT, when
  // there is one, has been written already); pending operations end.
  void close() {
    boost::system::error_code ignored;
    socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  std::vector<std::uint8_t> in;  // bytes read, not yet a whole packet
  std::size_t in_size = 0;
  std::vector<std::uint8_t> writing;  // the buffer of the write in progress
  bool write_active = false;
  // A stopped client's last bytes (DISCONNECT), written after the write in
  // progress; the timer closes the link if they do not get out.
  std::vector<std::uint8_t> last;
  std::shared_ptr<boost::asio::steady_timer> close_timer;

 private:
  std::optional<boost::asio::ip::tcp::socket> tcp_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
};

}  // namespace allscene::sdk::detail
