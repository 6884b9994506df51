// DeviceClient's plain topics and group calls against the fake hub:
// subscribe (routing, re-subscription after a reconnection), async_publish
// at QoS 0 and 1, async_call and its statuses.
#include <gtest/gtest.h>

#include <future>

#include "allscene/device_client.hpp"
#include "fake_hub.hpp"
#include "sdk_test_util.hpp"

namespace allscene::sdk {
namespace {

using testing::eventually;
using testing::FakeHub;

TEST(DeviceClientTopics, SubscribedFiltersRouteToTheirHandlersAndSurviveReconnection) {
  FakeHub hub;
  DeviceClient client(test::client_options(hub, "phone"));
  std::mutex m;
  std::vector<std::string> a, b;
  client.subscribe("users/ana/devices/+", [&](const std::string& t, const std::string& p) {
    std::lock_guard lock(m);
    a.push_back(t + "=" + p);
  });
  client.subscribe("users/ana/#", [&](const std::string& t, const std::string&) {
    std::lock_guard lock(m);
    b.push_back(t);
  });
  ASSERT_FALSE(client.start());
  ASSERT_TRUE(test::wait_connected(hub, "phone", "users/ana/#"));
  hub.inject("users/ana/devices/watch", "w1");
  hub.inject("users/ana/clipboard", "c");
  hub.inject("users/bob/devices/x", "not ours");
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return b.size() == 2;
  }));
  {
    std::lock_guard lock(m);
    EXPECT_EQ(a, std::vector<std::string>{"users/ana/devices/watch=w1"});
    EXPECT_EQ(b, (std::vector<std::string>{"users/ana/devices/watch", "users/ana/clipboard"}));
  }
  hub.cut("phone");
  ASSERT_TRUE(eventually([&] {
    const auto subs = hub.subscriptions("phone");
    return std::count(subs.begin(), subs.end(), "users/ana/devices/+") == 2 &&
           hub.connected("phone");
  }));
  hub.inject("users/ana/devices/tv", "t1");
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return a.size() == 2;
  }));
}

TEST(DeviceClientTopics, PublishQos1IsQueuedWhileOfflineAndKeepsRetain) {
  FakeHub hub;
  DeviceClient client(test::client_options(hub, "phone"));
  std::promise<std::error_code> acked;
  // Before start: waits in the offline queue like an event.
  client.async_publish("users/ana/clipboard", "x", 1, true,
                       [&](std::error_code ec) { acked.set_value(ec); });
  ASSERT_FALSE(client.start());
  auto f = acked.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(f.get());
  const auto sent = hub.published_on("users/ana/clipboard");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].qos, 1);
  EXPECT_TRUE(sent[0].retain);
  EXPECT_EQ(sent[0].payload, "x");
}

TEST(DeviceClientTopics, PublishQos0FailsAtOnceWhenOfflineAndBadArgumentsAreRefused) {
  FakeHub hub;
  DeviceClient client(test::client_options(hub, "phone"));
  EXPECT_EQ(test::await<>([&](auto h) { client.async_publish("a/b", "x", 0, false, h); }),
            std::tuple{std::error_code(Errc::connection_lost)});
  EXPECT_EQ(test::await<>([&](auto h) { client.async_publish("a/b", "x", 2, false, h); }),
            std::tuple{std::error_code(Errc::bad_request)});
  EXPECT_EQ(test::await<>([&](auto h) { client.async_publish("a/+", "x", 1, false, h); }),
            std::tuple{std::error_code(Errc::bad_request)});
  ASSERT_FALSE(client.start());
  ASSERT_TRUE(test::wait_connected(hub, "phone", "$iothub/methods/POST/#"));
  EXPECT_EQ(test::await<>([&](auto h) { client.async_publish("a/b", "live", 0, false, h); }),
            std::tuple{std::error_code()});
  ASSERT_TRUE(eventually([&] { return hub.published_on("a/b").size() == 1; }));
  EXPECT_EQ(hub.published_on("a/b")[0].qos, 0);
}

TEST(DeviceClientTopics, CallReachesTheTargetWithFromAndReturnsItsAnswer) {
  FakeHub hub;
  DeviceClient phone(test::client_options(hub, "phone"));
  DeviceClient watch(test::client_options(hub, "watch"));
  watch.on_method("echo", [](const MethodRequest& r) { return MethodResult{201, r.payload}; });
  watch.on_method("refuse", [](const MethodRequest&) {
    return MethodResult{403, {{"error", "declined"}}};
  });
  ASSERT_FALSE(phone.start());
  ASSERT_FALSE(watch.start());
  ASSERT_TRUE(test::wait_connected(hub, "watch", "$iothub/methods/POST/#"));
  ASSERT_TRUE(test::wait_connected(hub, "phone", "$iothub/methods/POST/#"));

  auto [ec, r] = test::await<MethodResult>([&](auto h) {
    phone.async_call("watch", "echo", {{"x", 1}, {"from", "forged"}}, std::chrono::seconds(5), h);
  });
  EXPECT_FALSE(ec);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.payload, (nlohmann::json{{"x", 1}, {"from", "phone"}}));  // the hub's, not ours
  const auto calls = hub.published_on("$ecosystem/call/");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].topic.starts_with("$ecosystem/call/watch/echo/?$rid="));
  EXPECT_TRUE(calls[0].topic.ends_with("&$timeout=5"));
  const auto subs = hub.subscriptions("phone");
  EXPECT_NE(std::find(subs.begin(), subs.end(), "$ecosystem/res/#"), subs.end());

  std::tie(ec, r) = test::await<MethodResult>(
      [&](auto h) { phone.async_call("watch", "refuse", {}, std::chrono::seconds(5), h); });
  EXPECT_EQ(ec, Errc::request_failed);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.payload["error"], "declined");

  std::tie(ec, r) = test::await<MethodResult>(
      [&](auto h) { phone.async_call("tv", "ring", {}, std::chrono::seconds(5), h); });
  EXPECT_EQ(ec, Errc::not_found);  // not connected
  EXPECT_EQ(r.status, 404);
}

TEST(DeviceClientTopics, CallArgumentsAreCheckedAndSilenceTimesOut) {
  FakeHub hub;
  DeviceClient phone(test::client_options(hub, "phone"));
  for (const auto& [device, method, seconds] :
       std::vector<std::tuple<std::string, std::string, int>>{{"", "ring", 5},
                                                              {"a/b", "ring", 5},
                                                              {"tv", "r+", 5},
                                                              {"tv", "ring", 0},
                                                              {"tv", "ring", 301},
                                                              {"$tv", "ring", 5}}) {
    auto [ec, r] = test::await<MethodResult>(
        [&](auto h) { phone.async_call(device, method, {}, std::chrono::seconds(seconds), h); });
    EXPECT_EQ(ec, Errc::bad_request) << device << " " << method << " " << seconds;
  }
  ASSERT_FALSE(phone.start());
  ASSERT_TRUE(test::wait_connected(hub, "phone", "$iothub/methods/POST/#"));
  hub.set_calls_unanswered(true);
  const auto t0 = std::chrono::steady_clock::now();
  auto [ec, r] = test::await<MethodResult>(
      [&](auto h) { phone.async_call("tv", "ring", {}, std::chrono::seconds(1), h); });
  EXPECT_EQ(ec, Errc::timeout);
  EXPECT_EQ(r.status, 0);
  // Later than the hub's own 504 would come (1 s), so its answer wins.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2500));
}

}  // namespace
}  // namespace allscene::sdk
