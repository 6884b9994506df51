// Every ecosystem feature but file transfer, between Ecosystems on the fake
// hub: what goes on the wire and what the other devices see.
#include <gtest/gtest.h>

#include <mutex>

#include "ecosystem_node.hpp"

namespace allscene::sdk {
namespace {

using nlohmann::json;
using test::await;
using test::Node;
using testing::eventually;

struct EcosystemTest : ::testing::Test {
  testing::FakeHub hub;
  test::TempDir dir{"eco"};
  std::mutex m;  // guards what the callbacks record

  std::unique_ptr<Node> node(const std::string& id, bool share_clipboard = true) {
    auto o = test::ecosystem_options(dir.path / id);
    o.share_clipboard = share_clipboard;
    return std::make_unique<Node>(hub, id, o);
  }
};

TEST_F(EcosystemTest, DeviceGroupFollowsTheRetainedCards) {
  test::put_card(hub, "phone", true);
  test::put_card(hub, "watch", false, R"(,"battery":{"level":62,"charging":false})");
  auto phone = node("phone");
  std::vector<std::string> changed, removed;
  phone->eco.on_device_changed([&](const DeviceCard& c) {
    std::lock_guard lock(m);
    changed.push_back(c.device_id + (c.online ? "+" : "-"));
  });
  phone->eco.on_device_removed([&](const std::string& id) {
    std::lock_guard lock(m);
    removed.push_back(id);
  });
  ASSERT_TRUE(phone->start());
  ASSERT_TRUE(eventually([&] { return phone->eco.devices().size() == 2; }));
  const auto devices = phone->eco.devices();
  EXPECT_EQ(devices[1].device_id, "watch");
  ASSERT_TRUE(devices[1].battery);
  EXPECT_EQ(devices[1].battery->level, 62);

  test::put_card(hub, "watch", true);
  hub.inject("users/ana/devices/phone", "", true);  // removed from the registry
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return removed.size() == 1;
  }));
  std::lock_guard lock(m);
  EXPECT_EQ(changed, (std::vector<std::string>{"phone+", "watch-", "watch+"}));
  EXPECT_EQ(removed, std::vector<std::string>{"phone"});
  EXPECT_EQ(phone->eco.devices().size(), 1u);
}

TEST_F(EcosystemTest, ReportStatusPutsBatteryCapabilitiesAndCommandsInTheTwin) {
  auto phone = node("phone");
  phone->eco.add_command("lock", {"Lock the screen", {"watch", "laptop"}},
                         [](const std::string&) { return "locked"; });
  ASSERT_TRUE(phone->start());
  auto [ec] = await<>([&](auto h) { phone->eco.report_status(Battery{62, true}, h); });
  ASSERT_FALSE(ec);
  const json eco = hub.reported("phone")["ecosystem"];
  EXPECT_EQ(eco["battery"], (json{{"level", 62}, {"charging", true}}));
  EXPECT_EQ(eco["capabilities"].size(), 7u);
  EXPECT_EQ(eco["commands"]["lock"],
            (json{{"label", "Lock the screen"}, {"allow", {"watch", "laptop"}}}));
  const auto patches = hub.published_on("$iothub/twin/PATCH/properties/reported/");
  ASSERT_EQ(patches.size(), 1u);
}

TEST_F(EcosystemTest, ClipboardIsSharedAndAnOptedOutDeviceNeitherReadsNorWrites) {
  auto phone = node("phone");
  auto watch = node("watch");
  auto laptop = node("laptop", false);
  std::vector<ClipboardItem> seen_by_watch;
  int seen_by_laptop = 0;
  watch->eco.on_clipboard([&](const ClipboardItem& c) {
    std::lock_guard lock(m);
    seen_by_watch.push_back(c);
  });
  laptop->eco.on_clipboard([&](const ClipboardItem&) { ++seen_by_laptop; });
  ASSERT_TRUE(phone->start() && watch->start() && laptop->start());

  EXPECT_EQ(await<>([&](auto h) { phone->eco.copy_text("hello", h); }),
            std::tuple{std::error_code()});
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return seen_by_watch.size() == 1;
  }));
  const auto sent = hub.published_on("users/ana/clipboard");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].retain);
  EXPECT_EQ(sent[0].qos, 1);
  const json j = json::parse(sent[0].payload);
  EXPECT_EQ(j["from"], "phone");
  EXPECT_EQ(j["mime"], "text/plain");
  EXPECT_EQ(j["text"], "hello");

  const std::string png("\x89PNG\r\n\x1a\n", 8);
  EXPECT_EQ(await<>([&](auto h) { watch->eco.copy_image("image/png", png, h); }),
            std::tuple{std::error_code()});
  ASSERT_TRUE(eventually([&] {
    const auto c = phone->eco.clipboard();
    return c && c->data == png && c->from == "watch";
  }));
  EXPECT_EQ(await<>([&](auto h) {
              phone->eco.copy_image("image/png", std::string(512 * 1024 + 1, 'x'), h);
            }),
            std::tuple{std::error_code(EcosystemErrc::too_large)});
  EXPECT_EQ(await<>([&](auto h) { laptop->eco.copy_text("secret", h); }),
            std::tuple{std::error_code(EcosystemErrc::opted_out)});
  EXPECT_EQ(hub.published_on("users/ana/clipboard").size(), 2u);
  const auto subs = hub.subscriptions("laptop");
  EXPECT_EQ(std::find(subs.begin(), subs.end(), "users/ana/clipboard"), subs.end());
  EXPECT_FALSE(laptop->eco.clipboard());
  EXPECT_EQ(seen_by_laptop, 0);
}

TEST_F(EcosystemTest, NotificationsArePostedActedOnAndDismissedFromAnyDevice) {
  auto phone = node("phone");
  auto watch = node("watch");
  std::vector<NotificationActionRequest> actions;
  std::vector<std::string> phone_events;
  phone->eco.on_notification_action([&](const NotificationActionRequest& r) {
    std::lock_guard lock(m);
    actions.push_back(r);
    return true;
  });
  phone->eco.on_notification([&](const Notification& n, bool dismissed) {
    std::lock_guard lock(m);
    phone_events.push_back(n.id + (dismissed ? " dismissed" : " posted"));
  });
  ASSERT_TRUE(phone->start() && watch->start());
  Notification n;
  n.id = "n1";
  n.app = "chat";
  n.title = "Bo";
  n.body = "lunch?";
  n.actions = {{"yes", "Yes"}};
  n.reply = true;
  ASSERT_EQ(await<>([&](auto h) { phone->eco.post_notification(n, h); }),
            std::tuple{std::error_code()});
  ASSERT_TRUE(eventually([&] { return watch->eco.notifications().size() == 1; }));
  const Notification seen = watch->eco.notifications()[0];
  EXPECT_EQ(seen.origin, "phone");
  EXPECT_EQ(seen.actions.at(0).label, "Yes");
  EXPECT_TRUE(seen.reply);

  EXPECT_EQ(
      await<>([&](auto h) { watch->eco.act_on_notification("phone", "n1", "reply", "ok!", h); }),
      std::tuple{std::error_code()});
  EXPECT_EQ(await<>([&](auto h) { watch->eco.act_on_notification("phone", "n9", "yes", "", h); }),
            std::tuple{std::error_code(Errc::not_found)});
  {
    std::lock_guard lock(m);
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].from, "watch");
    EXPECT_EQ(actions[0].action, "reply");
    EXPECT_EQ(actions[0].text, "ok!");
  }
  ASSERT_EQ(await<>([&](auto h) { watch->eco.dismiss_notification("phone", "n1", h); }),
            std::tuple{std::error_code()});
  ASSERT_TRUE(eventually([&] { return phone->eco.notifications().empty(); }));
  const auto dismiss = hub.published_on("users/ana/notifications/phone/n1");
  ASSERT_EQ(dismiss.size(), 2u);
  EXPECT_EQ(dismiss[1].from, "watch");
  EXPECT_TRUE(dismiss[1].payload.empty());
  EXPECT_TRUE(dismiss[1].retain);
  std::lock_guard lock(m);
  EXPECT_EQ(phone_events, (std::vector<std::string>{"n1 posted", "n1 dismissed"}));
}

TEST_F(EcosystemTest, HandoffTakesTheLiveStateAndEndsTheActivityAtTheOrigin) {
  auto phone = node("phone");
  auto laptop = node("laptop");
  laptop->eco.on_handoff([](const Activity& a) {
    json state = a.state;
    state["page"] = 42;  // newer than what was published
    return state;
  });
  ASSERT_TRUE(phone->start() && laptop->start());
  Activity a;
  a.app = "reader";
  a.title = "Book";
  a.uri = "reader://book/7";
  a.state = {{"page", 40}};
  ASSERT_EQ(await<>([&](auto h) { laptop->eco.set_activity(a, h); }),
            std::tuple{std::error_code()});
  ASSERT_TRUE(eventually([&] { return phone->eco.activities().size() == 1; }));
  EXPECT_EQ(phone->eco.activities()[0].device_id, "laptop");

  auto [ec, taken] = await<Activity>([&](auto h) { phone->eco.continue_activity("laptop", h); });
  ASSERT_FALSE(ec);
  EXPECT_EQ(taken.uri, "reader://book/7");
  EXPECT_EQ(taken.state["page"], 42);
  EXPECT_EQ(taken.device_id, "laptop");
  EXPECT_FALSE(laptop->eco.activity());
  ASSERT_TRUE(eventually([&] { return phone->eco.activities().empty(); }));
  std::tie(ec, taken) = await<Activity>([&](auto h) { phone->eco.continue_activity("laptop", h); });
  EXPECT_EQ(ec, EcosystemErrc::no_activity);
}

TEST_F(EcosystemTest, HandoffFallsBackToTheRetainedActivityOfAnOfflineDevice) {
  auto phone = node("phone");
  auto laptop = node("laptop");
  ASSERT_TRUE(phone->start() && laptop->start());
  Activity a;
  a.app = "maps";
  a.uri = "geo:1,2";
  ASSERT_EQ(await<>([&](auto h) { laptop->eco.set_activity(a, h); }),
            std::tuple{std::error_code()});
  ASSERT_TRUE(eventually([&] { return phone->eco.activities().size() == 1; }));
  laptop.reset();
  ASSERT_TRUE(eventually([&] { return !hub.connected("laptop"); }));
  auto [ec, taken] = await<Activity>([&](auto h) { phone->eco.continue_activity("laptop", h); });
  ASSERT_FALSE(ec);
  EXPECT_EQ(taken.uri, "geo:1,2");
  const auto cleared = hub.published_on("users/ana/activities/laptop");
  ASSERT_EQ(cleared.size(), 2u);
  EXPECT_EQ(cleared[1].from, "phone");
  EXPECT_TRUE(cleared[1].payload.empty());
}

TEST_F(EcosystemTest, MediaIsPublishedAndControlledOnThePlayer) {
  auto phone = node("phone");
  auto tv = node("tv");
  std::vector<MediaControl> controls;
  NowPlaying playing;
  playing.state = "playing";
  playing.title = "Song";
  playing.volume = 50;
  tv->eco.on_media_control([&](const MediaControl& c) -> std::optional<NowPlaying> {
    std::lock_guard lock(m);
    controls.push_back(c);
    if (c.action == "next") return std::nullopt;  // nothing queued
    if (c.volume) playing.volume = *c.volume;
    return playing;
  });
  ASSERT_TRUE(phone->start() && tv->start());
  ASSERT_EQ(await<>([&](auto h) { tv->eco.publish_media(playing, h); }),
            std::tuple{std::error_code()});
  ASSERT_TRUE(eventually([&] { return phone->eco.media().size() == 1; }));
  EXPECT_EQ(phone->eco.media()[0].title, "Song");

  auto [ec, state] =
      await<NowPlaying>([&](auto h) { phone->eco.control_media("tv", "volume", 30, h); });
  ASSERT_FALSE(ec);
  EXPECT_EQ(state.volume, 30);
  EXPECT_EQ(state.device_id, "tv");
  ASSERT_TRUE(eventually([&] {
    const auto media = phone->eco.media();
    return media.size() == 1 && media[0].volume == 30;  // the player published it
  }));
  std::tie(ec, state) =
      await<NowPlaying>([&](auto h) { phone->eco.control_media("tv", "next", {}, h); });
  EXPECT_EQ(ec, Errc::bad_request);
  std::tie(ec, state) =
      await<NowPlaying>([&](auto h) { phone->eco.control_media("tv", "volume", {}, h); });
  EXPECT_EQ(ec, EcosystemErrc::invalid_argument);
  std::tie(ec, state) =
      await<NowPlaying>([&](auto h) { phone->eco.control_media("tv", "dance", {}, h); });
  EXPECT_EQ(ec, EcosystemErrc::invalid_argument);
  std::lock_guard lock(m);
  ASSERT_EQ(controls.size(), 2u);
  EXPECT_EQ(controls[0].from, "phone");
}

TEST_F(EcosystemTest, RingCommandsAndShare) {
  auto phone = node("phone");
  auto watch = node("watch");
  std::vector<std::string> seen;
  watch->eco.on_ring([&](const RingRequest& r) {
    std::lock_guard lock(m);
    seen.push_back("ring " + r.from + (r.stop ? " stop" : ""));
  });
  watch->eco.on_share([&](const SharedItem& s) {
    std::lock_guard lock(m);
    seen.push_back("share " + s.text + s.url);
  });
  watch->eco.add_command("lock", {"Lock", {"phone"}},
                         [](const std::string& from) { return "locked for " + from; });
  ASSERT_TRUE(phone->start() && watch->start());
  EXPECT_EQ(await<>([&](auto h) { phone->eco.ring("watch", false, h); }),
            std::tuple{std::error_code()});
  EXPECT_EQ(await<>([&](auto h) { phone->eco.ring("watch", true, h); }),
            std::tuple{std::error_code()});
  auto [ec, output] =
      await<std::string>([&](auto h) { phone->eco.run_command("watch", "lock", h); });
  EXPECT_FALSE(ec);
  EXPECT_EQ(output, "locked for phone");
  std::tie(ec, output) =
      await<std::string>([&](auto h) { phone->eco.run_command("watch", "wipe", h); });
  EXPECT_EQ(ec, Errc::not_found);
  EXPECT_EQ(await<>([&](auto h) { phone->eco.share("watch", "note", "", h); }),
            std::tuple{std::error_code()});
  EXPECT_EQ(await<>([&](auto h) { phone->eco.share("watch", "", "https://x.org/", h); }),
            std::tuple{std::error_code()});
  EXPECT_EQ(await<>([&](auto h) { phone->eco.share("watch", "a", "b", h); }),
            std::tuple{std::error_code(EcosystemErrc::invalid_argument)});
  EXPECT_EQ(await<>([&](auto h) { watch->eco.ring("phone", false, h); }),  // phone cannot ring
            std::tuple{std::error_code(Errc::not_found)});
  EXPECT_EQ(await<>([&](auto h) { phone->eco.ring("tv", false, h); }),  // offline
            std::tuple{std::error_code(Errc::not_found)});
  std::lock_guard lock(m);
  EXPECT_EQ(seen, (std::vector<std::string>{"ring phone", "ring phone stop", "share note",
                                            "share https://x.org/"}));
}

TEST_F(EcosystemTest, MalformedMessagesOnEveryTopicAreIgnoredAndCounted) {
  auto phone = node("phone");
  std::vector<std::string> logged;
  phone->eco.on_log([&](std::string_view line) {
    std::lock_guard lock(m);
    logged.emplace_back(line);
  });
  ASSERT_TRUE(phone->start());
  const std::vector<std::string> topics = {"users/ana/devices/watch",
                                           "users/ana/clipboard",
                                           "users/ana/notifications/watch/1",
                                           "users/ana/activities/watch",
                                           "users/ana/media/watch",
                                           "users/ana/inbox/phone/file-read",
                                           "users/ana/inbox/phone/file-status"};
  for (const auto& topic : topics) {
    for (const char* junk : {"{", "[1,2]", "\"s\"", "{\"deviceId\":5,\"mime\":[],\"state\":1}"}) {
      hub.inject(topic, junk);
    }
  }
  hub.inject("users/ana/inbox/phone/file-data/nope/zero", "bytes");
  hub.inject("users/ana/inbox/phone/whatever", "x");
  // A card published for another id than its topic says.
  hub.inject("users/ana/devices/watch", R"({"deviceId":"phone"})");
  ASSERT_TRUE(eventually([&] { return phone->eco.malformed_messages() >= topics.size() * 4 + 3; }));
  EXPECT_TRUE(phone->eco.devices().empty());
  EXPECT_FALSE(phone->eco.clipboard());
  EXPECT_TRUE(phone->eco.notifications().empty());
  EXPECT_TRUE(phone->eco.activities().empty());
  EXPECT_TRUE(phone->eco.media().empty());
  {
    std::lock_guard lock(m);
    EXPECT_GE(logged.size(), topics.size() * 4);
  }
  // Method calls with payloads of the wrong shape are answered 400, not crashed on.
  DeviceClient raw(test::client_options(hub, "watch"));
  ASSERT_FALSE(raw.start());
  ASSERT_TRUE(test::wait_connected(hub, "watch", "$iothub/methods/POST/#"));
  for (const char* method : {"ring", "media.control", "command.run", "handoff.take",
                             "notification.action", "share", "file.offer"}) {
    auto [ec, r] = await<MethodResult>([&](auto h) {
      raw.async_call("phone", method, json::array({1}), std::chrono::seconds(5), h);
    });
    EXPECT_EQ(r.status, 400) << method;
  }
  auto [ec, r] = await<MethodResult>([&](auto h) {
    raw.async_call("phone", "file.offer", {{"name", 5}}, std::chrono::seconds(5), h);
  });
  EXPECT_EQ(r.status, 400);
  // Still working.
  EXPECT_EQ(await<>([&](auto h) { phone->eco.copy_text("fine", h); }),
            std::tuple{std::error_code()});
}

TEST_F(EcosystemTest, OperationsAfterStopCompleteWithShutDown) {
  auto phone = node("phone");
  ASSERT_TRUE(phone->start());
  phone->eco.stop();
  EXPECT_EQ(await<>([&](auto h) { phone->eco.copy_text("x", h); }),
            std::tuple{std::error_code(Errc::shut_down)});
  auto [ec, t] =
      await<Transfer>([&](auto h) { phone->eco.send_file("watch", "/etc/hostname", "", h); });
  EXPECT_EQ(ec, Errc::shut_down);
}

TEST_F(EcosystemTest, WhoamiAsksTheHubForTheOwner) {
  DeviceClient client(test::client_options(hub, "phone"));
  ASSERT_FALSE(client.start());
  auto [ec, me] = await<Identity>([&](auto h) { async_whoami(client, h); });
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(me.owner, "ana");
  EXPECT_EQ(me.device_id, "phone");
  const auto calls = hub.published_on("$ecosystem/call/$hub/whoami/?$rid=");
  EXPECT_EQ(calls.size(), 1u);
}

TEST_F(EcosystemTest, StartRefusesAnInvalidUser) {
  auto o = test::ecosystem_options(dir.path);
  o.user_id = "a/b";
  DeviceClient client(test::client_options(hub, "phone"));
  Ecosystem eco(client, o);
  EXPECT_EQ(eco.start(), EcosystemErrc::invalid_argument);
}

}  // namespace
}  // namespace allscene::sdk
