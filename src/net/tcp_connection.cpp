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
constexpr std::size_t kInitialReadBuffer = 16 * 1024;
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
    : socket_(std::move(socket)), shard_(shard), read_buffer_(kInitialReadBuffer) {
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
  if (read_size_ == read_buffer_.size()) {
    // A packet larger than the buffer: grow up to the packet size limit
    // (frame() already rejected anything larger).
    read_buffer_.resize(read_buffer_.size() * 2);
  }
  socket_.async_read_some(
      asio::buffer(read_buffer_.data() + read_size_, read_buffer_.size() - read_size_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        if (ec) {
          self->connection_->on_closed(Clock::now());
          self->shutdown();
          return;
        }
        self->read_size_ += n;
        const std::size_t used = self->connection_->on_data(
            std::span<const std::uint8_t>(self->read_buffer_.data(), self->read_size_),
            Clock::now());
        if (used > 0) {
          std::memmove(self->read_buffer_.data(), self->read_buffer_.data() + used,
                       self->read_size_ - used);
          self->read_size_ -= used;
        }
        if (!self->closing_ && !self->connection_->closed()) self->read();
      });
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
