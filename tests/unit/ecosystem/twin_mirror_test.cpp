// Twins across two bridged hubs, each a real registry and twin service over
// fakes; the test plays the bridge, carrying what one hub routes under
// $hubs/ to the other's mirror.
#include "ecosystem/twin_mirror.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "../registry/fake_storage.hpp"
#include "../twin/fake_device_link.hpp"
#include "ecosystem/topics.hpp"

namespace allscene::ecosystem {
namespace {

using nlohmann::json;
using registry::registry_testing::FakeStorage;
using twin::twin_testing::FakeDeviceLink;
using twin::twin_testing::NoReply;

constexpr std::int64_t kNow = 1'764'000'000'000;

// One hub: registry, twins and mirror.
struct Hub {
  explicit Hub(const std::vector<std::string>& devices)
      : registry(storage, registry::registry_testing::fast_options()) {
    registry.load();
    registry.add_user("ana", "Ana");
    registry.add_user("bob", "Bob");
    for (const auto& id : devices) add(id, "ana");
    twins =
        std::make_unique<twin::TwinService>(registry, storage, link, twin::ServiceOptions{},
                                            twin::TwinService::StatusSource{}, [] { return kNow; });
    mirror = std::make_unique<TwinMirror>(registry, *twins, link, 3);
    twins->set_remote_twins(mirror.get());
    twins->set_change_listener([this](const std::string& id) { mirror->device_changed(id); });
  }
  ~Hub() {
    twins.reset();  // its thread may still tell the mirror
    mirror.reset();
  }
  void add(const std::string& id, const std::string& owner) {
    registry::NewDevice d;
    d.id = id;
    d.owner = owner;
    registry.add_device(d);
  }
  void report(const std::string& device, const json& patch) {
    link.connect(device);
    const auto before = link.wait_sent(0).size();
    mqtt::Publish p;
    p.topic = "$iothub/twin/PATCH/properties/reported/?$rid=r";
    p.payload = patch.dump();
    NoReply reply;
    twins->on_publish(device, device, p, reply);
    link.wait_sent(before + 1);  // the answer: the listeners ran before it
  }
  // What this hub routed under $hubs/ since the last call.
  std::vector<twin::DeviceLink::Routed> take_hub_messages() {
    std::lock_guard lock(link.mutex);
    std::vector<twin::DeviceLink::Routed> out;
    for (std::size_t i = carried; i < link.routed.size(); ++i) {
      if (link.routed[i].topic.starts_with("$hubs/")) out.push_back(link.routed[i]);
    }
    carried = link.routed.size();
    return out;
  }

  FakeStorage storage;
  registry::Registry registry;
  FakeDeviceLink link;
  std::unique_ptr<twin::TwinService> twins;
  std::unique_ptr<TwinMirror> mirror;
  std::size_t carried = 0;
};

// Polls `done` for up to 5 s (patches apply on the twin thread).
bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

class TwinMirrorTest : public ::testing::Test {
 protected:
  // The bridge: each hub's $hubs/ messages reach the other (and, as the
  // broker would, itself).
  std::size_t carry(Hub& from, Hub& to) {
    const auto messages = from.take_hub_messages();
    for (const auto& m : messages) {
      from.mirror->on_message(m.topic, m.payload);
      to.mirror->on_message(m.topic, m.payload);
    }
    return messages.size();
  }

  Hub edge_{{"speaker", "lamp"}};
  Hub cloud_{{"phone"}};
};

TEST_F(TwinMirrorTest, ReportedPropertiesOfAnEdgeDeviceShowInTheCloudsTwin) {
  EXPECT_EQ(cloud_.twins->get_twin("speaker").status, 404);
  edge_.report("speaker", {{"volume", 30}});
  const auto sent = edge_.take_hub_messages();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topic, "$hubs/ana/twins/speaker");
  EXPECT_TRUE(sent[0].retain);
  cloud_.mirror->on_message(sent[0].topic, sent[0].payload);
  edge_.mirror->on_message(sent[0].topic, sent[0].payload);  // its own: not a mirror

  const twin::Result twin = cloud_.twins->get_twin("speaker");
  ASSERT_EQ(twin.status, 200);
  EXPECT_EQ(twin.body["properties"]["reported"]["volume"], 30);
  EXPECT_EQ(twin.body["mirrored"], true);
  EXPECT_EQ(twin.etag, edge_.twins->get_twin("speaker").etag);
  EXPECT_EQ(cloud_.mirror->mirror_count(), 1u);
  EXPECT_EQ(edge_.mirror->mirror_count(), 0u);
  EXPECT_FALSE(edge_.twins->get_twin("speaker").body.contains("mirrored"));
}

TEST_F(TwinMirrorTest, ADesiredPatchInTheCloudReachesTheEdgeDevice) {
  edge_.report("speaker", {{"volume", 30}});
  carry(edge_, cloud_);
  const twin::Result forwarded = cloud_.twins->patch_twin(
      "speaker", {{"properties", {{"desired", {{"mode", "night"}}}}}}, "*");
  EXPECT_EQ(forwarded.status, 202) << forwarded.body;
  EXPECT_EQ(forwarded.body["forwarded"], true);
  EXPECT_EQ(carry(cloud_, edge_), 1u);  // the patch, on .../patch

  ASSERT_TRUE(eventually([&] {
    return edge_.twins->get_twin("speaker").body["properties"]["desired"].value("mode", "") ==
           "night";
  }));
  // The device was sent the change, and the cloud's mirror follows.
  const auto sent = edge_.link.wait_sent(2);
  ASSERT_GE(sent.size(), 2u);
  EXPECT_EQ(sent.back().client_id, "speaker");
  EXPECT_NE(sent.back().topic.find("$iothub/twin/PATCH/properties/desired/"), std::string::npos);
  EXPECT_EQ(json::parse(sent.back().payload)["mode"], "night");
  ASSERT_TRUE(eventually([&] { return carry(edge_, cloud_) > 0; }));
  EXPECT_EQ(cloud_.twins->get_twin("speaker").body["properties"]["desired"]["mode"], "night");
}

TEST_F(TwinMirrorTest, TheCloudChecksIfMatchAgainstTheMirrorAndRefusesAReplace) {
  edge_.report("speaker", {{"volume", 30}});
  carry(edge_, cloud_);
  const std::string etag = cloud_.twins->get_twin("speaker").etag;
  const json patch = {{"tags", {{"room", "kitchen"}}}};
  EXPECT_EQ(cloud_.twins->patch_twin("speaker", patch, "\"stale\"").status, 412);
  EXPECT_EQ(cloud_.twins->patch_twin("speaker", patch, "\"" + etag + "\"").status, 202);
  EXPECT_EQ(cloud_.twins->replace_twin("speaker", json::object(), "*").status, 409);
  EXPECT_EQ(cloud_.twins->patch_twin("nobody", patch, "*").status, 404);
  // A patch must still be a valid one.
  EXPECT_EQ(
      cloud_.twins->patch_twin("speaker", {{"properties", {{"reported", {{"a", 1}}}}}}, "*").status,
      400);
}

TEST_F(TwinMirrorTest, APatchNamingAnotherOwnerOrABadBodyIsIgnored) {
  edge_.mirror->on_message(twin_patch_topic("bob", "speaker"),
                           json{{"tags", {{"owned", "by bob"}}}}.dump());
  edge_.mirror->on_message(twin_patch_topic("ana", "speaker"), "not json");
  edge_.mirror->on_message(twin_patch_topic("ana", "speaker"), "[1]");
  edge_.mirror->on_message(twin_patch_topic("ana", "speaker"),
                           json{{"tags", {{"room", "hall"}}}}.dump());
  ASSERT_TRUE(eventually(
      [&] { return edge_.twins->get_twin("speaker").body["tags"].value("room", "") == "hall"; }));
  EXPECT_FALSE(edge_.twins->get_twin("speaker").body["tags"].contains("owned"));
}

TEST_F(TwinMirrorTest, AViewIsRepublishedOnlyWhenItChanges) {
  edge_.report("speaker", {{"volume", 30}});
  EXPECT_EQ(edge_.take_hub_messages().size(), 1u);
  edge_.mirror->device_changed("speaker");  // presence unchanged
  EXPECT_EQ(edge_.take_hub_messages().size(), 0u);
  edge_.report("speaker", {{"volume", 31}});
  EXPECT_EQ(edge_.take_hub_messages().size(), 1u);
}

TEST_F(TwinMirrorTest, ARemovedOrMovedDeviceIsClearedOnTheOtherHub) {
  edge_.report("speaker", {{"volume", 30}});
  edge_.report("lamp", {{"on", true}});
  carry(edge_, cloud_);
  ASSERT_EQ(cloud_.mirror->mirror_count(), 2u);

  edge_.registry.remove_device("speaker");
  edge_.twins->forget("speaker");
  const auto cleared = edge_.take_hub_messages();
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].topic, "$hubs/ana/twins/speaker");
  EXPECT_TRUE(cleared[0].payload.empty());
  EXPECT_TRUE(cleared[0].retain);
  cloud_.mirror->on_message(cleared[0].topic, cleared[0].payload);
  EXPECT_EQ(cloud_.twins->get_twin("speaker").status, 404);

  // Registered again for another owner (by another process, so the hub
  // learns it from the registry): cleared under the old, published under
  // the new.
  edge_.registry.remove_device("lamp");
  edge_.add("lamp", "bob");
  edge_.mirror->sync_registry();
  const auto moved = edge_.take_hub_messages();
  ASSERT_EQ(moved.size(), 2u);
  EXPECT_EQ(moved[0].topic, "$hubs/ana/twins/lamp");
  EXPECT_TRUE(moved[0].payload.empty());
  EXPECT_EQ(moved[1].topic, "$hubs/bob/twins/lamp");
}

TEST_F(TwinMirrorTest, MalformedOrTooManyViewsAreNotKept) {
  cloud_.mirror->on_message("$hubs/ana/twins/x", "not json");
  cloud_.mirror->on_message("$hubs/ana/twins/x", json{{"deviceId", "y"}}.dump());
  cloud_.mirror->on_message("$hubs/ana/twins/x/other", json{{"deviceId", "x"}}.dump());
  cloud_.mirror->on_message("$hubs/ana/devices/x", json{{"deviceId", "x"}}.dump());
  EXPECT_EQ(cloud_.mirror->mirror_count(), 0u);
  // A device registered here is never mirrored from elsewhere.
  cloud_.mirror->on_message("$hubs/ana/twins/phone", json{{"deviceId", "phone"}}.dump());
  EXPECT_EQ(cloud_.mirror->mirror_count(), 0u);
  for (const char* id : {"a", "b", "c", "d"}) {
    cloud_.mirror->on_message(std::string("$hubs/ana/twins/") + id, json{{"deviceId", id}}.dump());
  }
  EXPECT_EQ(cloud_.mirror->mirror_count(), 3u);  // the cap
  EXPECT_EQ(cloud_.twins->get_twin("d").status, 404);
}

}  // namespace
}  // namespace allscene::ecosystem
