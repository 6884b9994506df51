// The group service with a real twin service and registry over fakes: a
// fake DeviceLink records what reaches devices and what is routed.
#include "ecosystem/group_service.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <thread>

#include "../registry/fake_storage.hpp"
#include "../twin/fake_device_link.hpp"

namespace allscene::ecosystem {
namespace {

using nlohmann::json;
using registry::registry_testing::FakeStorage;
using twin::twin_testing::FakeDeviceLink;
using twin::twin_testing::NoReply;

constexpr std::int64_t kNow = 1'764'000'000'000;

class GroupServiceTest : public ::testing::Test {
 protected:
  GroupServiceTest() : registry_(storage_, registry::registry_testing::fast_options()) {
    registry_.load();
    registry_.add_user("ana", "Ana");
    registry_.add_user("bob", "Bob");
    add("phone", "ana", registry::DeviceClass::phone);
    add("watch", "ana", registry::DeviceClass::wearable);
    add("laptop", "bob", registry::DeviceClass::laptop);
    twins_ =
        std::make_unique<twin::TwinService>(registry_, storage_, link_, twin::ServiceOptions{},
                                            twin::TwinService::StatusSource{}, [] { return kNow; });
    group_ =
        std::make_unique<GroupService>(registry_, *twins_, link_, [this](const std::string& id) {
          std::lock_guard lock(presence_mutex_);
          return presence_[id];
        });
    twins_->set_reported_listener(
        [this](const std::string& id, const json& patch) { group_->reported_changed(id, patch); });
  }
  ~GroupServiceTest() override {
    twins_.reset();  // its thread may still tell the group
    group_.reset();
  }
  void add(const std::string& id, const std::string& owner, registry::DeviceClass cls) {
    registry::NewDevice d;
    d.id = id;
    d.owner = owner;
    d.device_class = cls;
    registry_.add_device(d);
  }
  void set_online(const std::string& id, bool online) {
    {
      std::lock_guard lock(presence_mutex_);
      presence_[id] = {.connected = online, .last_seen_ms = kNow};
    }
    if (online) link_.connect(id);
    group_->presence_changed(id);
  }
  std::vector<twin::DeviceLink::Routed> routed() {
    std::lock_guard lock(link_.mutex);
    return link_.routed;
  }
  // The last card routed for `topic` (null: none; "" payload: cleared).
  std::optional<std::string> last_card(const std::string& topic) {
    std::optional<std::string> card;
    for (const auto& r : routed()) {
      if (r.topic == topic) card = r.payload;
    }
    return card;
  }
  void publish(const std::string& device, const std::string& topic, std::string payload = {}) {
    mqtt::Publish p;
    p.topic = topic;
    p.payload = std::move(payload);
    NoReply reply;
    if (topic.starts_with("$iothub/")) {
      twins_->on_publish(device, device, p, reply);
    } else {
      group_->on_publish(device, device, p, reply);
    }
  }
  // Waits for the n-th message sent to devices; a copy of it.
  twin::twin_testing::Sent sent(std::size_t n) {
    const auto all = link_.wait_sent(n);
    EXPECT_GE(all.size(), n);
    return all.size() >= n ? all[n - 1] : twin::twin_testing::Sent{};
  }
  // Polls `done` for up to 5 s (answers come from the twin thread).
  static bool eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 500; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }
  void report(const std::string& device, const json& patch) {
    const auto before = link_.wait_sent(0).size();
    publish(device, "$iothub/twin/PATCH/properties/reported/?$rid=r", patch.dump());
    sent(before + 1);  // its answer: the listener ran before it
  }

  FakeStorage storage_;
  registry::Registry registry_;
  FakeDeviceLink link_;
  std::unique_ptr<twin::TwinService> twins_;
  std::unique_ptr<GroupService> group_;
  std::mutex presence_mutex_;
  std::map<std::string, registry::PresenceState> presence_;
};

TEST_F(GroupServiceTest, PublishesEveryCardRetainedOnceUntilSomethingChanges) {
  group_->sync_registry();
  const auto first = routed();
  ASSERT_EQ(first.size(), 3u);
  for (const auto& r : first) {
    EXPECT_TRUE(r.retain);
    EXPECT_EQ(r.qos, 1);
  }
  const json card = json::parse(*last_card("users/ana/devices/watch"));
  EXPECT_EQ(card["class"], "wearable");
  EXPECT_EQ(card["online"], false);
  ASSERT_TRUE(last_card("users/bob/devices/laptop"));

  group_->sync_registry();            // nothing changed
  group_->presence_changed("watch");  // told, but nothing is new
  EXPECT_EQ(routed().size(), 3u);
}

TEST_F(GroupServiceTest, CardsFollowPresenceAndTheReportedEcosystemProperty) {
  group_->sync_registry();
  set_online("watch", true);
  EXPECT_EQ(json::parse(*last_card("users/ana/devices/watch"))["online"], true);
  const auto count = routed().size();
  report("watch", {{"temperature", 20}});  // not the ecosystem part: no new card
  EXPECT_EQ(routed().size(), count);
  report("watch", {{"ecosystem", {{"battery", {{"level", 41}}}}}});
  EXPECT_EQ(json::parse(*last_card("users/ana/devices/watch"))["battery"]["level"], 41);
}

TEST_F(GroupServiceTest, RemovedOrMovedDevicesLoseTheirCard) {
  group_->sync_registry();
  registry_.remove_device("watch");
  group_->sync_registry();
  EXPECT_EQ(last_card("users/ana/devices/watch"), "");  // empty retained: cleared
  registry_.remove_device("phone");
  add("phone", "bob", registry::DeviceClass::phone);  // same id, new owner
  group_->sync_registry();
  EXPECT_EQ(last_card("users/ana/devices/phone"), "");
  ASSERT_TRUE(last_card("users/bob/devices/phone"));
  EXPECT_NE(last_card("users/bob/devices/phone"), "");
}

TEST_F(GroupServiceTest, ACallRunsAsADirectMethodAndTheAnswerReachesTheCaller) {
  set_online("phone", true);
  set_online("watch", true);
  publish("phone", "$ecosystem/call/watch/ring/?$rid=c1", R"({"from":"someone-else","loud":true})");
  const auto call = sent(1);
  EXPECT_EQ(call.client_id, "watch");
  ASSERT_TRUE(call.topic.starts_with("$iothub/methods/POST/ring/?$rid=")) << call.topic;
  // §: the hub sets "from": a caller cannot pose as another device.
  EXPECT_EQ(json::parse(call.payload), json::parse(R"({"from":"phone","loud":true})"));
  const std::string rid = call.topic.substr(call.topic.find("$rid=") + 5);
  publish("watch", "$iothub/methods/res/200/?$rid=" + rid, R"({"ringing":true})");
  const auto answer = sent(2);
  EXPECT_EQ(answer.client_id, "phone");
  EXPECT_EQ(answer.topic, "$ecosystem/res/200/?$rid=c1");
  EXPECT_EQ(json::parse(answer.payload), json::parse(R"({"ringing":true})"));
}

TEST_F(GroupServiceTest, AnEmptyPayloadBecomesJustTheCaller) {
  set_online("phone", true);
  set_online("watch", true);
  publish("phone", "$ecosystem/call/watch/ring/?$rid=c1");
  EXPECT_EQ(json::parse(sent(1).payload), json::parse(R"({"from":"phone"})"));
}

TEST_F(GroupServiceTest, RefusesCallsOutsideTheGroupAndMalformedOnes) {
  set_online("phone", true);
  set_online("laptop", true);
  link_.connect("stranger");
  const std::vector<std::tuple<std::string, std::string, std::string, std::string>> cases = {
      {"phone", "$ecosystem/call/laptop/ring/?$rid=1", "", "$ecosystem/res/404/?$rid=1"},
      {"phone", "$ecosystem/call/nobody/ring/?$rid=2", "", "$ecosystem/res/404/?$rid=2"},
      {"stranger", "$ecosystem/call/phone/ring/?$rid=3", "", "$ecosystem/res/403/?$rid=3"},
      {"phone", "$ecosystem/call/watch/ring/?$rid=4", "{not json", "$ecosystem/res/400/?$rid=4"},
      {"phone", "$ecosystem/call/watch/ring/?$rid=5&$timeout=0", "", "$ecosystem/res/400/?$rid=5"},
      {"phone", "$ecosystem/call/watch/ring/?$rid=6&$timeout=301", "",
       "$ecosystem/res/400/?$rid=6"},
      {"phone", "$ecosystem/call/watch/?$rid=7", "", "$ecosystem/res/400/?$rid=7"},
      {"phone", "$ecosystem/call/watch/bad$name/?$rid=8", "", "$ecosystem/res/400/?$rid=8"},
      {"phone", "$ecosystem/call/watch/ring/?$rid=9", "", "$ecosystem/res/404/?$rid=9"},  // offline
  };
  std::size_t n = 0;
  for (const auto& [caller, topic, payload, expected] : cases) {
    publish(caller, topic, payload);
    const auto answer = sent(++n);
    EXPECT_EQ(answer.topic, expected) << topic;
    EXPECT_TRUE(json::parse(answer.payload).contains("error")) << answer.payload;
  }
  publish("phone", "$ecosystem/call/watch/ring");  // no rid: nobody to answer
  EXPECT_EQ(link_.wait_sent(0).size(), n);
}

TEST_F(GroupServiceTest, TheHubTellsADeviceWhoItIs) {
  link_.connect("watch");
  publish("watch", "$ecosystem/call/$hub/whoami/?$rid=w");
  const auto answer = sent(1);
  EXPECT_EQ(answer.topic, "$ecosystem/res/200/?$rid=w");
  EXPECT_EQ(json::parse(answer.payload),
            json::parse(R"({"deviceId":"watch","owner":"ana","name":"watch","class":"wearable"})"));
  publish("watch", "$ecosystem/call/$hub/reboot/?$rid=x");
  EXPECT_EQ(sent(2).topic, "$ecosystem/res/404/?$rid=x");
}

// Another hub (an edge bridged to this one) hosts "tv", Ana's: its card
// came over the bridge, and calls to it are relayed.
TEST_F(GroupServiceTest, ACallToADeviceOfABridgedHubIsRelayedAndAnswered) {
  set_online("phone", true);
  group_->on_group_message("users/ana/devices/tv", R"({"deviceId":"tv","online":true})");
  publish("phone", "$ecosystem/call/tv/ring/?$rid=r1&$timeout=7", R"({"loud":true})");
  const auto relayed = routed().back();
  EXPECT_EQ(relayed.topic, "users/ana/relay/call/tv");
  EXPECT_EQ(relayed.qos, 0);
  const json call = json::parse(relayed.payload);
  EXPECT_EQ(call["method"], "ring");
  EXPECT_EQ(call["payload"], json::parse(R"({"from":"phone","loud":true})"));
  EXPECT_EQ(call["from"], "phone");
  EXPECT_EQ(call["fromClass"], "phone");
  EXPECT_EQ(call["timeout"], 7);
  const std::string hub = call["hub"];
  const std::string rid = call["rid"];
  group_->on_group_message("users/ana/relay/result/" + hub + "/" + rid,
                           R"({"status":200,"payload":{"ringing":true}})");
  const auto answer = sent(1);
  EXPECT_EQ(answer.client_id, "phone");
  EXPECT_EQ(answer.topic, "$ecosystem/res/200/?$rid=r1");
  EXPECT_EQ(json::parse(answer.payload), json::parse(R"({"ringing":true})"));
  // A second answer (or another hub's) finds nobody waiting.
  group_->on_group_message("users/ana/relay/result/" + hub + "/" + rid, R"({"status":200})");
  group_->on_group_message("users/ana/relay/result/otherhub/" + rid, R"({"status":200})");
  EXPECT_EQ(link_.wait_sent(0).size(), 1u);
}

TEST_F(GroupServiceTest, RelaysOnlyToOnlineDevicesOfTheCallersOwnGroup) {
  set_online("phone", true);
  group_->on_group_message("users/ana/devices/tv", R"({"deviceId":"tv","online":false})");
  group_->on_group_message("users/bob/devices/radio", R"({"deviceId":"radio","online":true})");
  group_->on_group_message("users/ana/devices/phone", R"({"online":false})");  // ours: ignored
  const auto before = routed().size();
  publish("phone", "$ecosystem/call/tv/ring/?$rid=1");
  publish("phone", "$ecosystem/call/radio/ring/?$rid=2");
  publish("phone", "$ecosystem/call/ghost/ring/?$rid=3");
  EXPECT_EQ(sent(1).topic, "$ecosystem/res/404/?$rid=1");
  EXPECT_EQ(sent(2).topic, "$ecosystem/res/404/?$rid=2");
  EXPECT_EQ(sent(3).topic, "$ecosystem/res/404/?$rid=3");
  EXPECT_EQ(routed().size(), before);                    // nothing relayed
  group_->on_group_message("users/ana/devices/tv", "");  // removed there
  publish("phone", "$ecosystem/call/tv/ring/?$rid=4");
  EXPECT_EQ(sent(4).topic, "$ecosystem/res/404/?$rid=4");
}

TEST_F(GroupServiceTest, RunsCallsRelayedForItsOwnDevicesWithTheRemoteCallersClass) {
  set_online("watch", true);
  report("watch", {{"ecosystem", {{"commands", {{"beep", {{"allow", {"laptop"}}}}}}}}});
  const auto before = link_.wait_sent(0).size();
  group_->on_group_message(
      "users/ana/relay/call/watch",
      R"({"hub":"edge1","rid":"5","method":"command.run","payload":{"name":"beep","from":"car"},
          "timeout":5,"from":"car","fromClass":"car"})");
  auto refused = routed().back();
  EXPECT_EQ(refused.topic, "users/ana/relay/result/edge1/5");
  EXPECT_EQ(json::parse(refused.payload)["status"], 403);
  group_->on_group_message(
      "users/ana/relay/call/watch",
      R"({"hub":"edge1","rid":"6","method":"ring","payload":{"from":"car"},"timeout":5,
          "from":"car","fromClass":"car"})");
  const auto call = sent(before + 1);
  EXPECT_EQ(call.client_id, "watch");
  ASSERT_TRUE(call.topic.starts_with("$iothub/methods/POST/ring/?$rid=")) << call.topic;
  const std::string rid = call.topic.substr(call.topic.find("$rid=") + 5);
  publish("watch", "$iothub/methods/res/200/?$rid=" + rid, R"({"ok":1})");
  ASSERT_TRUE(
      eventually([&] { return routed().back().topic == "users/ana/relay/result/edge1/6"; }));
  EXPECT_EQ(json::parse(routed().back().payload),
            json::parse(R"({"status":200,"payload":{"ok":1}})"));
  // Not ours, another owner's, or malformed: ignored.
  const auto count = routed().size();
  group_->on_group_message("users/ana/relay/call/tv", R"({"hub":"e","rid":"7","method":"ring"})");
  group_->on_group_message("users/bob/relay/call/watch",
                           R"({"hub":"e","rid":"8","method":"ring"})");
  group_->on_group_message("users/ana/relay/call/watch", R"([1,2])");
  group_->on_group_message("users/ana/relay/call/watch", R"({"hub":1,"rid":"9","method":"ring"})");
  EXPECT_EQ(routed().size(), count);
}

TEST_F(GroupServiceTest, RemoteCommandsHonourTheTargetsAllowList) {
  set_online("phone", true);
  set_online("watch", true);
  report("watch", {{"ecosystem",
                    {{"commands",
                      {{"lock", {{"label", "Lock"}, {"allow", {"laptop"}}}},
                       {"beep", {{"label", "Beep"}, {"allow", {"phone"}}}}}}}}});
  auto before = link_.wait_sent(0).size();
  publish("phone", "$ecosystem/call/watch/command.run/?$rid=a", R"({"name":"lock"})");
  EXPECT_EQ(sent(before + 1).topic, "$ecosystem/res/403/?$rid=a");
  publish("phone", "$ecosystem/call/watch/command.run/?$rid=b", R"({"name":"reboot"})");
  EXPECT_EQ(sent(before + 2).topic, "$ecosystem/res/404/?$rid=b");
  publish("phone", "$ecosystem/call/watch/command.run/?$rid=c", R"({"name":"beep"})");
  const auto call = sent(before + 3);
  EXPECT_EQ(call.client_id, "watch");
  EXPECT_TRUE(call.topic.starts_with("$iothub/methods/POST/command.run/")) << call.topic;
}

TEST_F(GroupServiceTest, AnUnansweredCallEndsWith504) {
  set_online("phone", true);
  set_online("watch", true);
  publish("phone", "$ecosystem/call/watch/ring/?$rid=slow&$timeout=1");
  sent(1);  // the call reached the watch, which never answers
  const auto answer = sent(2);
  EXPECT_EQ(answer.topic, "$ecosystem/res/504/?$rid=slow");
}

}  // namespace
}  // namespace allscene::ecosystem
