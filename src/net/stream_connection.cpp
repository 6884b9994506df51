#include "net/stream_connection.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/error.hpp>
#include <cstring>

#include "broker/broker.hpp"
#include "broker/shard.hpp"
#include "log/module_log.hpp"
#include "net/streams.hpp"

namespace allscene::net {

namespace asio = boost::asio;
using broker::Clock;

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
// Streams that read into their own buffer (TLS, WebSocket) take this much
// at a time: one TLS record.
constexpr std::size_t kStreamReadChunk = 16 * 1024;
// A flattening buffer larger than this is released after its write.
constexpr std::size_t kFlatKeep = 256 * 1024;
// How long a WebSocket close handshake may take before the socket is closed.
constexpr auto kCloseTimeout = std::chrono::seconds(5);

// One read buffer per event loop thread, shared by all its connections.
std::vector<std::uint8_t>& loop_read_buffer() {
  thread_local std::vector<std::uint8_t> buffer(kReadChunk);
  return buffer;
}
// Payloads up to this size are copied into the output buffer; larger ones
// are written from the shared message without a copy.
constexpr std::size_t kCopyLimit = 2048;

// Ends of a connection that need no log line of their own.
bool ordinary_end(const boost::system::error_code& ec) {
  namespace ws = boost::beast::websocket;
  return ec == asio::error::eof || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == ws::error::closed ||
         ec == asio::ssl::error::stream_truncated;
}
}  // namespace

template <typename Stream>
void StreamConnection<Stream>::Output::append(std::span<const std::uint8_t> data) {
  if (!segments.empty() && !segments.back().payload) {
    segments.back().size += data.size();
  } else {
    segments.push_back({bytes.size(), data.size(), nullptr});
  }
  bytes.insert(bytes.end(), data.begin(), data.end());
}

template <typename Stream>
StreamConnection<Stream>::StreamConnection(broker::Shard& shard, broker::PeerInfo peer,
                                           Socket socket,
                                           std::shared_ptr<const ListenerContext> listener)
    : shard_(shard), stream_(std::move(socket), std::move(listener)) {
  boost::system::error_code ignored;
  if constexpr (Stream::kReadiness) {
    stream_.socket().non_blocking(true, ignored);
  }
  if constexpr (Stream::kHandshake) {
    who_ = fmt::format("{} {}", peer.listener, peer.address);
    peer_ = std::make_unique<broker::PeerInfo>(std::move(peer));
  } else {
    connection_.emplace(shard_, *this, std::move(peer), Clock::now());
  }
}

template <typename Stream>
StreamConnection<Stream>::~StreamConnection() {
  connection_.reset();
  shard_.stats().outbound_bytes.sub(buffered_);
}

template <typename Stream>
void StreamConnection<Stream>::account(std::size_t added) {
  buffered_ += added;
  shard_.stats().outbound_bytes.add(added);
}

template <typename Stream>
void StreamConnection<Stream>::start() {
  if constexpr (Stream::kHandshake) {
    arm_deadline(kHandshakeTimeout);
    stream_.async_handshake(*peer_, [self = this->shared_from_this()](
                                        const boost::system::error_code& ec, std::string_view why) {
      self->on_handshake(ec, why);
    });
  } else {
    read();
  }
}

template <typename Stream>
void StreamConnection<Stream>::arm_deadline(std::chrono::steady_clock::duration after) {
  if constexpr (Stream::kHandshake) {
    if (!deadline_)
      deadline_ = std::make_unique<asio::steady_timer>(stream_.socket().get_executor());
    deadline_->expires_after(after);
    deadline_->async_wait([weak = this->weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        self->timed_out_ = true;
        self->close_socket();
      }
    });
  } else {
    (void)after;
  }
}

template <typename Stream>
void StreamConnection<Stream>::on_handshake(const boost::system::error_code& ec,
                                            std::string_view why) {
  if constexpr (Stream::kHandshake) {
    deadline_->cancel();
    if (ec || timed_out_) {
      if (timed_out_) {
        module_log().info("{}: no completed handshake within {} s; closed", who(),
                          kHandshakeTimeout.count());
      } else if (ec == refused()) {
        module_log().info("{}: refused: {}", who(), why);
      } else {
        module_log().info("{}: {}: {}", who(), why, ec.message());
      }
      close_socket();
      return;
    }
    const broker::PeerInfo& peer = *peer_;
    if (peer.cert_thumbprint.empty()) {
      module_log().debug("{}: handshake done{}", who(),
                         peer.tls ? " (TLS, no client certificate)" : "");
    } else {
      module_log().debug("{}: handshake done, client certificate CN={} SHA-256={} verified={}",
                         who(), peer.cert_common_name, peer.cert_thumbprint, peer.cert_verified);
    }
    connection_.emplace(shard_, *this, std::move(*peer_), Clock::now());
    peer_.reset();
    read();
  } else {
    (void)ec, (void)why;
  }
}

template <typename Stream>
void StreamConnection<Stream>::read() {
  if (shard_.broker().memory_high()) {
    // Above the memory high-water mark: stop reading (publishers feel TCP
    // backpressure) until the shard resumes us below the low-water mark.
    shard_.park([self = this->shared_from_this()] {
      if (!self->shut_) self->read();
    });
    return;
  }
  if constexpr (Stream::kReadiness) {
    stream_.socket().async_wait(
        Socket::wait_read, [self = this->shared_from_this()](const boost::system::error_code& ec) {
          if (ec) {
            self->connection_->on_closed(Clock::now());
            self->shutdown();
            return;
          }
          self->on_readable();
        });
  } else {
    // The buffer keeps its capacity between reads: one per connection.
    if (!partial_) partial_ = std::make_unique<std::vector<std::uint8_t>>();
    const std::size_t had = partial_->size();
    partial_->resize(had + kStreamReadChunk);
    stream_.async_read_some(
        asio::buffer(partial_->data() + had, kStreamReadChunk),
        [self = this->shared_from_this(), had](const boost::system::error_code& ec, std::size_t n) {
          self->on_read(ec, n, had);
        });
  }
}

template <typename Stream>
void StreamConnection<Stream>::on_readable() {
  if constexpr (Stream::kReadiness) {
    // A partial packet keeps growing in its own buffer; otherwise read into
    // the loop's buffer and keep only what is left of an incomplete packet.
    const bool continuing = partial_ != nullptr;  // never empty over TCP
    std::vector<std::uint8_t>& buf = continuing ? *partial_ : loop_read_buffer();
    const std::size_t have = continuing ? partial_->size() : 0;
    buf.resize(std::max(buf.size(), have + kReadChunk));
    boost::system::error_code ec;
    const std::size_t n =
        stream_.socket().read_some(asio::buffer(buf.data() + have, buf.size() - have), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      if (continuing) partial_->resize(have);
      read();
      return;
    }
    if (ec) {
      connection_->on_closed(Clock::now());
      shutdown();
      return;
    }
    const std::size_t total = have + n;
    const std::size_t used =
        connection_->on_data(std::span<const std::uint8_t>(buf.data(), total), Clock::now());
    if (continuing) {
      partial_->erase(partial_->begin(), partial_->begin() + static_cast<std::ptrdiff_t>(used));
      partial_->resize(total - used);
      if (partial_->empty()) partial_.reset();
    } else if (used < total) {
      partial_ = std::make_unique<std::vector<std::uint8_t>>(
          buf.begin() + static_cast<std::ptrdiff_t>(used),
          buf.begin() + static_cast<std::ptrdiff_t>(total));
    }
    if (!closing_ && !connection_->closed()) read();
  }
}

template <typename Stream>
void StreamConnection<Stream>::on_read(const boost::system::error_code& ec, std::size_t n,
                                       std::size_t had) {
  if constexpr (!Stream::kReadiness) {
    partial_->resize(had + n);
    if (ec) {
      if (!ordinary_end(ec) && !shut_) {
        module_log().info("{}: closed: {}", who(), ec.message());
      }
      connection_->on_closed(Clock::now());
      shutdown();
      return;
    }
    if (const auto bad = stream_.rejected_data(); !bad.empty()) {
      module_log().info("{}: closed: {}", who(), bad);
      connection_->on_closed(Clock::now());
      shutdown(true);
      return;
    }
    const std::size_t used = connection_->on_data(*partial_, Clock::now());
    partial_->erase(partial_->begin(), partial_->begin() + static_cast<std::ptrdiff_t>(used));
    if (!closing_ && !connection_->closed()) read();
  } else {
    (void)ec, (void)n, (void)had;
  }
}

template <typename Stream>
void StreamConnection<Stream>::send(std::span<const std::uint8_t> bytes) {
  if (shut_) return;
  writes().pending.append(bytes);
  account(bytes.size());
  schedule_write();
}

template <typename Stream>
void StreamConnection<Stream>::send_publish(std::span<const std::uint8_t> header,
                                            const broker::MessagePtr& message) {
  if (shut_) return;
  Output& pending = writes().pending;
  pending.append(header);
  const auto& payload = message->payload;
  account(header.size() + payload.size());
  if (payload.size() <= kCopyLimit) {
    pending.append({reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()});
  } else {
    pending.segments.push_back({0, payload.size(), message});
  }
  schedule_write();
}

template <typename Stream>
void StreamConnection<Stream>::close() {
  closing_ = true;
  schedule_write();
}

template <typename Stream>
void StreamConnection<Stream>::schedule_write() {
  if (write_scheduled_ || write_active_) return;
  write_scheduled_ = true;
  // Posted, so everything queued by the current handler goes in one write.
  asio::post(stream_.socket().get_executor(), [self = this->shared_from_this()] {
    self->write_scheduled_ = false;
    self->write();
  });
}

template <typename Stream>
typename StreamConnection<Stream>::Writes& StreamConnection<Stream>::writes() {
  if (!writes_) writes_ = std::make_unique<Writes>();
  return *writes_;
}

template <typename Stream>
const std::vector<std::uint8_t>& StreamConnection<Stream>::flatten() {
  const Output& writing = writes_->writing;
  const bool shared = std::any_of(writing.segments.begin(), writing.segments.end(),
                                  [](const Segment& s) { return s.payload != nullptr; });
  if (!shared) return writing.bytes;  // the segments are the bytes, in order
  auto& flat = writes_->flat;
  flat.clear();
  for (const auto& s : writing.segments) {
    const std::uint8_t* data =
        s.payload ? reinterpret_cast<const std::uint8_t*>(s.payload->payload.data())
                  : writing.bytes.data() + s.offset;
    flat.insert(flat.end(), data, data + s.size);
  }
  return flat;
}

template <typename Stream>
void StreamConnection<Stream>::write() {
  if (write_active_ || shut_) return;
  if (!writes_ || writes_->pending.empty()) {
    if (closing_) shutdown();
    return;
  }
  Writes& w = *writes_;
  std::swap(w.pending, w.writing);
  w.pending.clear();
  write_active_ = true;
  auto done = [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t) {
    self->write_active_ = false;
    Writes& w = *self->writes_;
    std::size_t written = 0;
    for (const auto& s : w.writing.segments) written += s.size;
    self->buffered_ -= written;
    self->shard_.stats().outbound_bytes.sub(written);
    if (w.pending.empty()) {
      // Nothing more to send: give the buffers back (an idle connection
      // would otherwise keep its last CONNACK or PINGRESP's capacity).
      self->writes_.reset();
    } else {
      w.writing.clear();
      if (w.flat.capacity() > kFlatKeep) std::vector<std::uint8_t>().swap(w.flat);
    }
    if (ec) {
      self->connection_->on_closed(Clock::now());
      self->shutdown();
      return;
    }
    self->write();
  };
  if constexpr (Stream::kGather) {
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(w.writing.segments.size());
    for (const auto& s : w.writing.segments) {
      if (s.payload) {
        buffers.emplace_back(s.payload->payload.data(), s.size);
      } else {
        buffers.emplace_back(w.writing.bytes.data() + s.offset, s.size);
      }
    }
    stream_.async_write(buffers, std::move(done));
  } else {
    const auto& bytes = flatten();
    stream_.async_write(asio::buffer(bytes), std::move(done));
  }
}

template <typename Stream>
void StreamConnection<Stream>::shutdown(bool protocol_error) {
  if (shut_) return;
  shut_ = true;
  if constexpr (Stream::kHandshake) {
    arm_deadline(kCloseTimeout);
    stream_.async_close(protocol_error, [self = this->shared_from_this()] {
      self->deadline_->cancel();
      self->close_socket();
    });
  } else {
    (void)protocol_error;
    close_socket();
  }
}

template <typename Stream>
void StreamConnection<Stream>::close_socket() {
  boost::system::error_code ignored;
  auto& socket = stream_.socket();
  socket.shutdown(Socket::shutdown_both, ignored);
  socket.close(ignored);
}

template class StreamConnection<TcpStream>;
template class StreamConnection<TlsStream>;
template class StreamConnection<WsTcpStream>;
template class StreamConnection<WssStream>;

}  // namespace allscene::net
