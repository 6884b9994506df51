// A real TCP listener and broker on loopback, driven by a plain socket:
// packets that arrive in pieces over several reads (an idle TCP
// connection keeps no read buffer of its own, only the bytes of a packet
// not yet complete).
#include "net/server.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "broker/broker.hpp"

namespace allscene::net {
namespace {

namespace asio = boost::asio;
using Bytes = std::vector<std::uint8_t>;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Server>(1);
    broker_ = std::make_unique<broker::Broker>(broker::Limits{}, *server_, access_);
    server_->set_broker(*broker_);
    ListenerConfig listener;
    listener.name = "test";
    listener.address = "127.0.0.1";
    port_ = server_->listen(listener);
    loop_ = std::thread([this] { server_->run(); });
    socket_.connect({asio::ip::make_address("127.0.0.1"), port_});
    socket_.set_option(asio::ip::tcp::no_delay(true));
  }
  void TearDown() override {
    socket_.close();
    server_->stop();
    loop_.join();
    server_.reset();  // its loop's connections still reach the broker
    broker_.reset();
  }

  // Sends `bytes` in pieces with a pause between them, so that the server
  // reads each piece on its own.
  void send_in_pieces(const Bytes& bytes, const std::vector<std::size_t>& sizes) {
    std::size_t at = 0;
    for (const auto n : sizes) {
      asio::write(socket_, asio::buffer(bytes.data() + at, n));
      at += n;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(at, bytes.size());
  }
  // The next `n` bytes from the server, or a failure after 5 s.
  Bytes receive(std::size_t n) {
    Bytes got(n);
    bool done = false;
    asio::async_read(socket_, asio::buffer(got),
                     [&done](const boost::system::error_code& ec, std::size_t) { done = !ec; });
    io_.restart();
    io_.run_for(std::chrono::seconds(5));
    if (!done) {
      ADD_FAILURE() << "no complete answer within 5 s";
      socket_.cancel();
      io_.restart();
      io_.run();
    }
    return got;
  }

  broker::AllowAll access_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<broker::Broker> broker_;
  std::uint16_t port_ = 0;
  std::thread loop_;
  asio::io_context io_;
  asio::ip::tcp::socket socket_{io_};
};

// CONNECT, MQTT 3.1.1, clean session, keep alive 60 s, client id "a".
const Bytes kConnect = {0x10, 0x0d, 0x00, 0x04, 'M',  'Q',  'T', 'T',
                        0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 'a'};
const Bytes kConnack = {0x20, 0x02, 0x00, 0x00};
const Bytes kPingreq = {0xc0, 0x00};
const Bytes kPingresp = {0xd0, 0x00};

TEST_F(ServerTest, PacketSplitAcrossReadsByteByByte) {
  send_in_pieces(kConnect, std::vector<std::size_t>(kConnect.size(), 1));
  EXPECT_EQ(receive(kConnack.size()), kConnack);
}

TEST_F(ServerTest, PartialPacketsAfterCompleteOnes) {
  send_in_pieces(kConnect, {kConnect.size()});
  EXPECT_EQ(receive(kConnack.size()), kConnack);
  // One read ends inside a packet, the next completes it together with a
  // whole packet and the start of a third; the last read ends it.
  Bytes pings;
  for (int i = 0; i < 3; ++i) pings.insert(pings.end(), kPingreq.begin(), kPingreq.end());
  send_in_pieces(pings, {1, 4, 1});
  Bytes want;
  for (int i = 0; i < 3; ++i) want.insert(want.end(), kPingresp.begin(), kPingresp.end());
  EXPECT_EQ(receive(want.size()), want);
  // And again after the connection had nothing pending.
  send_in_pieces(kPingreq, {1, 1});
  EXPECT_EQ(receive(kPingresp.size()), kPingresp);
}

}  // namespace
}  // namespace allscene::net
