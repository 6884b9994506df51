// The twin service without a broker: a fake DeviceLink records what would
// reach devices and plays devices' answers back through on_publish.
#include "twin/twin_service.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <map>
#include <set>

#include "../registry/fake_storage.hpp"
#include "fake_device_link.hpp"

namespace allscene::twin {
namespace {

using nlohmann::json;
using registry::registry_testing::FakeStorage;
using namespace std::chrono_literals;
using twin_testing::NoReply;

constexpr std::int64_t kNow = 1'764'000'000'000;

class TwinServiceTest : public ::testing::Test {
 protected:
  TwinServiceTest() : registry_(storage_, registry::registry_testing::fast_options()) {
    registry_.load();
    registry_.add_user("alice", "Alice");
    registry::NewDevice lamp;
    lamp.id = "lamp";
    lamp.owner = "alice";
    registry_.add_device(lamp);
  }
  TwinService& service() {
    if (!service_) {
      service_ = std::make_unique<TwinService>(
          registry_, storage_, link_, options_,
          [this](const std::string& id) {
            return DeviceStatus{link_.is_connected(id), kNow};
          },
          [] { return kNow; });
    }
    return *service_;
  }
  // A device publishes (as the broker hands it to the handler).
  void device_publishes(const std::string& device, std::string topic, std::string payload = {}) {
    mqtt::Publish p;
    p.topic = std::move(topic);
    p.payload = std::move(payload);
    NoReply reply;
    service().on_publish(device, device, p, reply);
  }
  Result invoke(const std::string& device, const std::string& method, json payload,
                std::chrono::seconds timeout) {
    std::promise<Result> result;
    service().invoke_method(device, method, std::move(payload), timeout,
                            [&](Result r) { result.set_value(std::move(r)); });
    return result.get_future().get();
  }

  FakeStorage storage_;
  registry::Registry registry_;
  twin_testing::FakeDeviceLink link_;
  ServiceOptions options_;
  std::unique_ptr<TwinService> service_;
};

TEST_F(TwinServiceTest, DeviceGetsItsTwinAndPatchesReported) {
  link_.connect("lamp");
  device_publishes("lamp", "$iothub/twin/GET/?$rid=1", " ");
  device_publishes("lamp", "$iothub/twin/PATCH/properties/reported/?$rid=2", R"({"on": true})");
  const auto sent = link_.wait_sent(2);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].topic, "$iothub/twin/res/200/?$rid=1");
  EXPECT_EQ(json::parse(sent[0].payload),
            json::parse(R"({"desired": {"$version": 0}, "reported": {"$version": 0}})"));
  EXPECT_EQ(sent[1].topic, "$iothub/twin/res/204/?$rid=2&$version=1");
  EXPECT_EQ(sent[1].payload, "");
  const auto twin = service().get_twin("lamp");
  EXPECT_EQ(twin.body["properties"]["reported"]["on"], true);
  EXPECT_EQ(twin.body["connectionState"], "Connected");
}

TEST_F(TwinServiceTest, BadReportedPatchesGetErrorStatuses) {
  link_.connect("lamp");
  device_publishes("lamp", "$iothub/twin/PATCH/properties/reported/?$rid=a", "{not json");
  device_publishes("lamp", "$iothub/twin/PATCH/properties/reported/?$rid=b",
                   json{{"big", std::string(40 * 1024, 'x')}}.dump());
  device_publishes("lamp", "$iothub/twin/PATCH/properties/reported/?$rid=c", R"({"$bad": 1})");
  const auto sent = link_.wait_sent(3);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].topic, "$iothub/twin/res/400/?$rid=a");
  EXPECT_EQ(sent[1].topic, "$iothub/twin/res/413/?$rid=b");
  EXPECT_EQ(sent[2].topic, "$iothub/twin/res/400/?$rid=c");
  EXPECT_NE(json::parse(sent[1].payload)["error"].get<std::string>().find("limit"),
            std::string::npos);
  EXPECT_EQ(service().get_twin("lamp").body["properties"]["reported"]["$version"], 0);
}

TEST_F(TwinServiceTest, UnregisteredDeviceGets404) {
  link_.connect("ghost");
  device_publishes("ghost", "$iothub/twin/GET/?$rid=9");
  const auto sent = link_.wait_sent(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topic, "$iothub/twin/res/404/?$rid=9");
  EXPECT_EQ(service().get_twin("ghost").status, 404);
}

TEST_F(TwinServiceTest, DesiredPatchIsPushedWithItsVersionAndEtagsGuardUpdates) {
  link_.connect("lamp");
  const auto first = service().get_twin("lamp");
  ASSERT_TRUE(first.ok());
  auto r = service().patch_twin(
      "lamp", json::parse(R"({"tags": {"room": "hall"}, "properties": {"desired": {"c": "red"}}})"),
      "\"" + first.etag + "\"");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.etag, first.etag);
  EXPECT_EQ(r.body["tags"]["room"], "hall");
  // The same old etag now loses (optimistic concurrency).
  auto stale =
      service().patch_twin("lamp", json::parse(R"({"tags": {"room": "attic"}})"), first.etag);
  EXPECT_EQ(stale.status, 412);
  // A tags-only change does not bother the device.
  EXPECT_EQ(service().patch_twin("lamp", json::parse(R"({"tags": {"x": 1}})"), "*").status, 200);
  const auto sent = link_.wait_sent(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topic, "$iothub/twin/PATCH/properties/desired/?$version=1");
  EXPECT_EQ(json::parse(sent[0].payload), json::parse(R"({"c": "red", "$version": 1})"));
}

TEST_F(TwinServiceTest, ReplaceSendsTheDeviceOnlyTheDifference) {
  link_.connect("lamp");
  service().patch_twin("lamp", json::parse(R"({"properties": {"desired": {"a": 1, "b": 2}}})"), "");
  auto r = service().replace_twin(
      "lamp", json::parse(R"({"tags": {"t": 1}, "properties": {"desired": {"a": 1, "c": 3}}})"),
      "");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto sent = link_.wait_sent(2);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(json::parse(sent[1].payload), json::parse(R"({"b": null, "c": 3, "$version": 2})"));
}

TEST_F(TwinServiceTest, PatchRefusals) {
  EXPECT_EQ(service().patch_twin("lamp", json::array(), "").status, 400);
  EXPECT_EQ(
      service().patch_twin("lamp", json::parse(R"({"properties": {"reported": {}}})"), "").status,
      400);
  EXPECT_EQ(service().patch_twin("lamp", json::parse(R"({"color": 1})"), "").status, 400);
  EXPECT_EQ(service().patch_twin("nobody", json::object(), "").status, 404);
}

TEST_F(TwinServiceTest, TwinsAreDurableAndAStoreFailureChangesNothing) {
  service().patch_twin("lamp", json::parse(R"({"properties": {"desired": {"a": 1}}})"), "");
  storage_.fail_writes = true;
  const auto before = service().get_twin("lamp");
  EXPECT_EQ(service()
                .patch_twin("lamp", json::parse(R"({"properties": {"desired": {"a": 2}}})"), "")
                .status,
            500);
  EXPECT_EQ(service().get_twin("lamp").body, before.body);
  storage_.fail_writes = false;
  service_.reset();  // a restart
  const auto after = service().get_twin("lamp");
  EXPECT_EQ(after.body["properties"]["desired"]["a"], 1);
  EXPECT_EQ(after.etag, before.etag);
}

TEST_F(TwinServiceTest, ForgetDropsTheStoredTwin) {
  service().patch_twin("lamp", json::parse(R"({"tags": {"a": 1}})"), "");
  EXPECT_EQ(storage_.docs["twins"].size(), 1u);
  service().forget("lamp");
  EXPECT_TRUE(storage_.docs["twins"].empty());
}

TEST_F(TwinServiceTest, MethodCallIsAnsweredByTheDevice) {
  link_.connect("lamp");
  std::promise<Result> result;
  service().invoke_method("lamp", "blink", json{{"times", 3}}, 10s,
                          [&](Result r) { result.set_value(std::move(r)); });
  const auto sent = link_.wait_sent(1);
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_TRUE(sent[0].topic.starts_with("$iothub/methods/POST/blink/?$rid="));
  EXPECT_EQ(json::parse(sent[0].payload), json::parse(R"({"times": 3})"));
  const auto rid = sent[0].topic.substr(sent[0].topic.find("$rid=") + 5);
  device_publishes("other", "$iothub/methods/res/200/?$rid=" + rid, "{}");  // not its call
  device_publishes("lamp", "$iothub/methods/res/201/?$rid=" + rid, R"({"blinked": 3})");
  const auto r = result.get_future().get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, json::parse(R"({"status": 201, "payload": {"blinked": 3}})"));
  EXPECT_EQ(service().pending_calls(), 0u);
}

TEST_F(TwinServiceTest, MethodCallToAnOfflineDeviceIs404AndASilentOneTimesOut) {
  EXPECT_EQ(invoke("lamp", "blink", nullptr, 5s).status, 404);
  EXPECT_EQ(invoke("nobody", "blink", nullptr, 5s).status, 404);
  link_.connect("lamp");
  const auto started = std::chrono::steady_clock::now();
  const auto r = invoke("lamp", "blink", nullptr, 1s);
  EXPECT_EQ(r.status, 504);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_EQ(service().pending_calls(), 0u);
}

TEST_F(TwinServiceTest, MethodCallRefusals) {
  EXPECT_EQ(invoke("lamp", "a/b", nullptr, 5s).status, 400);
  EXPECT_EQ(invoke("lamp", "", nullptr, 5s).status, 400);
  EXPECT_EQ(invoke("lamp", "ok", nullptr, 100000s).status, 400);
}

TEST_F(TwinServiceTest, CloudToDeviceMessagesAreRoutedWithTheirProperties) {
  std::promise<Result> result;
  service().send_message("lamp", "hello", {{"kind", "greeting/short"}}, 60s,
                         [&](Result r) { result.set_value(std::move(r)); });
  const auto r = result.get_future().get();
  ASSERT_EQ(r.status, 202);
  ASSERT_EQ(link_.routed.size(), 1u);
  const auto& m = link_.routed[0];
  EXPECT_TRUE(m.topic.starts_with("devices/lamp/messages/devicebound/kind=greeting%2Fshort&"));
  EXPECT_NE(m.topic.find("%24.mid=" + r.body["messageId"].get<std::string>()), std::string::npos)
      << m.topic;
  EXPECT_EQ(m.payload, "hello");
  EXPECT_EQ(m.qos, 1);
  EXPECT_EQ(m.ttl, 60s);
}

TEST_F(TwinServiceTest, DeliveryFeedbackFollowsTheBrokersReceipt) {
  std::promise<Result> result;
  service().send_message("lamp", "hello", {}, 60s,
                         [&](Result r) { result.set_value(std::move(r)); });
  const auto id = result.get_future().get().body["messageId"].get<std::string>();
  ASSERT_EQ(link_.routed.size(), 1u);
  EXPECT_TRUE(link_.routed[0].receipt);
  service().on_receipt("lamp", link_.routed[0].topic, true);
  service().on_receipt("lamp", link_.routed[0].topic, false);
  service().on_receipt("x", "devices/lamp/messages/events/a=b", true);  // not cloud-to-device
  ASSERT_EQ(link_.routed.size(), 3u);
  EXPECT_EQ(link_.routed[1].topic, "$events/devices/lamp/feedback");
  const auto delivered = json::parse(link_.routed[1].payload);
  EXPECT_EQ(delivered["originalMessageId"], id);
  EXPECT_EQ(delivered["statusCode"], "Success");
  EXPECT_EQ(json::parse(link_.routed[2].payload)["statusCode"], "Expired");
}

TEST_F(TwinServiceTest, CloudToDeviceRefusals) {
  auto send = [&](const std::string& device, std::string payload,
                  std::vector<std::pair<std::string, std::string>> props) {
    std::promise<Result> result;
    service().send_message(device, std::move(payload), std::move(props), 0s,
                           [&](Result r) { result.set_value(std::move(r)); });
    return result.get_future().get().status;
  };
  EXPECT_EQ(send("nobody", "x", {}), 404);
  EXPECT_EQ(send("lamp", std::string(options_.max_message_bytes + 1, 'x'), {}), 413);
  EXPECT_EQ(send("lamp", "x", {{"$.mid", "forged"}}), 400);
  link_.store_fails = true;
  EXPECT_EQ(send("lamp", "x", {}), 503);
}

}  // namespace
}  // namespace allscene::twin
