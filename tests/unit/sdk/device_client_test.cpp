// DeviceClient without a network: option checks in start(), and the
// offline queue and shut-down completions of a client never started.
#include "allscene/device_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <future>

namespace allscene::sdk {
namespace {

constexpr const char* kKey = "ANr8NwlsEeh+NsPqZfIAnL/vfn5sQLnHDv6ECML6St0=";

Event event(std::string payload) {
  Event e;
  e.payload = std::move(payload);
  return e;
}

ClientOptions valid() {
  ClientOptions o;
  o.host_name = "localhost";
  o.device_id = "d";
  o.shared_access_key = kKey;
  return o;
}

TEST(DeviceClient, StartChecksTheOptions) {
  boost::asio::io_context io;
  auto check = [&](ClientOptions o) {
    DeviceClient c(io.get_executor(), std::move(o));
    return c.start();
  };
  ClientOptions o = valid();
  o.device_id.clear();
  EXPECT_EQ(check(o), Errc::invalid_options);
  o = valid();
  o.host_name.clear();
  EXPECT_EQ(check(o), Errc::invalid_options);
  o = valid();
  o.shared_access_key = "not base64!";
  EXPECT_EQ(check(o), Errc::invalid_key);
  o = valid();
  o.shared_access_key.clear();  // no credentials at all
  EXPECT_EQ(check(o), Errc::invalid_options);
  o = valid();
  o.cert_file = "/nonexistent.crt";  // a certificate needs TLS and a key file
  EXPECT_EQ(check(o), Errc::invalid_options);
  o = valid();
  o.tls = true;
  o.ca_file = "/nonexistent/ca.crt";
  EXPECT_EQ(check(o), Errc::invalid_options);
  o = valid();
  o.keep_alive = std::chrono::seconds(70000);
  EXPECT_EQ(check(o), Errc::invalid_options);
  o = valid();
  o.shared_access_key.clear();
  o.sas_token = "SharedAccessSignature sr=localhost%2Fdevices%2Fd&sig=x&se=1";
  EXPECT_FALSE(check(o));
}

TEST(DeviceClient, EventsOfAStoppedClientCompleteWithShutDown) {
  boost::asio::io_context io;
  DeviceClient c(io.get_executor(), valid());
  std::vector<std::error_code> results;
  c.async_send_event(event("a"), [&](std::error_code ec) { results.push_back(ec); });
  c.async_get_twin([&](std::error_code ec, Twin) { results.push_back(ec); });
  c.async_report_properties({{"on", true}},
                            [&](std::error_code ec, std::int64_t) { results.push_back(ec); });
  c.stop();
  c.async_send_event(event("b"), [&](std::error_code ec) { results.push_back(ec); });
  EXPECT_TRUE(results.empty());  // never inside the call
  io.run();
  EXPECT_EQ(results, (std::vector<std::error_code>(4, Errc::shut_down)));
}

TEST(DeviceClient, OfflineQueueBoundAppliesBeforeAnyConnection) {
  boost::asio::io_context io;
  ClientOptions o = valid();
  o.offline_queue_limit = 2;
  DeviceClient c(io.get_executor(), o);
  std::vector<std::pair<std::string, std::error_code>> results;
  for (const char* p : {"1", "2", "3"}) {
    c.async_send_event(event(p), [&, p](std::error_code ec) { results.emplace_back(p, ec); });
  }
  c.async_report_properties(nlohmann::json::array(), [&](std::error_code ec, std::int64_t) {
    results.emplace_back("report", ec);
  });
  io.run();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], (std::pair<std::string, std::error_code>{"1", Errc::queue_full}));
  EXPECT_EQ(results[1], (std::pair<std::string, std::error_code>{"report", Errc::bad_request}));
  results.clear();
  c.stop();
  io.restart();
  io.run();
  EXPECT_EQ(results.size(), 2u);  // "2" and "3", shut down
}

TEST(DeviceClient, OwnThreadRunsHandlersOffTheCallersThread) {
  std::promise<std::thread::id> ran_on;
  {
    DeviceClient c(valid());
    c.async_send_event(event("x"), [&](std::error_code ec) {
      EXPECT_EQ(ec, Errc::shut_down);
      ran_on.set_value(std::this_thread::get_id());
    });
  }  // the destructor stops the client and joins its thread
  auto f = ran_on.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_TRUE(f.get() != std::this_thread::get_id());
}

}  // namespace
}  // namespace allscene::sdk
