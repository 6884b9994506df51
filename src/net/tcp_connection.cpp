#include "net/tcp_connection.hpp"

#include <cstring>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "broker/broker.hpp"
#include "broker/shard.hpp"

namespace allscene::net {

namespace asio = boost::asio;
using broker::Clock;

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;

// One read buffer per event loop thread, shared by all its connections.
std::vector<std::uint8_t>& loop_read_buffer() {
  thread_local std::vector<std::uint8_t> buffer(kReadChunk);
  return buffer;
}
// Payloads up to this size are copied into the output buffer; larger ones
// are written from the shared message without a copy.
constexpr std::size_t kCopyLimit = 2048;
}  // namespace

void TcpConnection::Output::append(std::span<const std::uint8_t> data) {
  if (!segments.empty() && !segments.back().payload) {
    segments.back().size += data.size();
  } else {
    segments.push_back({bytes.size(), data.size(), nullptr});
  }
  bytes.insert(bytes.end(), data.begin(), data.end());
}

TcpConnection::TcpConnection(asio::ip::tcp::socket socket, broker::Shard& shard,
                             broker::PeerInfo peer)
    : socket_(std::move(socket)), shard_(shard) {
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
  connection_.emplace(shard_, *this, std::move(peer), Clock::now());
}

TcpConnection::~TcpConnection() {
  connection_.reset();
  shard_.stats().outbound_bytes.sub(buffered_);
}

void TcpConnection::account(std::size_t added) {
  buffered_ += added;
  shard_.stats().outbound_bytes.add(added);
}

void TcpConnection::start() { read(); }

void TcpConnection::read() {
  if (shard_.broker().memory_high()) {
    // Above the memory high-water mark: stop reading (publishers feel TCP
    // backpressure) until the shard resumes us below the low-water mark.
    shard_.park([self = shared_from_this()] {
      if (!self->shut_) self->read();
    });
    return;
  }
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       if (ec) {
                         self->connection_->on_closed(Clock::now());
                         self->shutdown();
                         return;
                       }
                       self->on_readable();
                     });
}

void TcpConnection::on_readable() {
  // A partial packet keeps growing in its own buffer; otherwise read into
  // the loop's buffer and keep only what is left of an incomplete packet.
  const bool continuing = !partial_.empty();
  std::vector<std::uint8_t>& buf = continuing ? partial_ : loop_read_buffer();
  const std::size_t have = continuing ? partial_.size() : 0;
  buf.resize(std::max(buf.size(), have + kReadChunk));
  boost::system::error_code ec;
  const std::size_t n = socket_.read_some(asio::buffer(buf.data() + have, buf.size() - have), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    if (continuing) partial_.resize(have);
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
    partial_.erase(partial_.begin(), partial_.begin() + static_cast<std::ptrdiff_t>(used));
    partial_.resize(total - used);
    if (partial_.empty()) partial_.shrink_to_fit();
  } else if (used < total) {
    partial_.assign(buf.begin() + static_cast<std::ptrdiff_t>(used),
                    buf.begin() + static_cast<std::ptrdiff_t>(total));
  }
  if (!closing_ && !connection_->closed()) read();
}

void TcpConnection::send(std::span<const std::uint8_t> bytes) {
  if (shut_) return;
  pending_.append(bytes);
  account(bytes.size());
  schedule_write();
}

void TcpConnection::send_publish(std::span<const std::uint8_t> header,
                                 const broker::MessagePtr& message) {
  if (shut_) return;
  pending_.append(header);
  const auto& payload = message->payload;
  account(header.size() + payload.size());
  if (payload.size() <= kCopyLimit) {
    pending_.append({reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()});
  } else {
    pending_.segments.push_back({0, payload.size(), message});
  }
  schedule_write();
}

void TcpConnection::close() {
  closing_ = true;
  schedule_write();
}

void TcpConnection::schedule_write() {
  if (write_scheduled_ || write_active_) return;
  write_scheduled_ = true;
  // Posted, so everything queued by the current handler goes in one write.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->write_scheduled_ = false;
    self->write();
  });
}

void TcpConnection::write() {
  if (write_active_ || shut_) return;
  if (pending_.empty()) {
    if (closing_) shutdown();
    return;
  }
  std::swap(pending_, writing_);
  pending_.clear();
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(writing_.segments.size());
  for (const auto& s : writing_.segments) {
    if (s.payload) {
      buffers.emplace_back(s.payload->payload.data(), s.size);
    } else {
      buffers.emplace_back(writing_.bytes.data() + s.offset, s.size);
    }
  }
  write_active_ = true;
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      self->write_active_ = false;
                      std::size_t written = 0;
                      for (const auto& s : self->writing_.segments) written += s.size;
                      self->buffered_ -= written;
                      self->shard_.stats().outbound_bytes.sub(written);
                      self->writing_.clear();
                      if (ec) {
                        self->connection_->on_closed(Clock::now());
                        self->shutdown();
                        return;
                      }
                      self->write();
                    });
}

void TcpConnection::shutdown() {
  if (shut_) return;
  shut_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace allscene::net
