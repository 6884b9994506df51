// AssistantService against a fake hub that records what it was asked and
// answers as a device or a service would.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "eval_set.hpp"
#include "services/assistant/assistant_service.hpp"

namespace allscene::services {
namespace {

using nlohmann::json;

struct Invoke {
  std::string device;
  std::string method;
  json payload;
};

struct ServiceCall {
  std::string service;
  std::string operation;
  json request;
};

class FakeHub : public HubAccess {
 public:
  std::vector<DeviceInfo> owned;
  // method → answer; a device id in `silent` never answers.
  std::map<std::string, Reply> answers;
  std::set<std::string> silent;
  std::map<std::string, Reply> service_answers;  // "service/operation" → reply
  std::vector<Invoke> invokes;
  std::vector<ServiceCall> calls;
  std::string devices_of;

  std::vector<DeviceInfo> devices(const std::string& user) override {
    devices_of = user;
    return owned;
  }
  void invoke(const std::string& device_id, const std::string& method, json payload,
              std::chrono::seconds, std::function<void(Reply)> done) override {
    invokes.push_back({device_id, method, payload});
    if (silent.contains(device_id)) return;
    const auto card = std::find_if(owned.begin(), owned.end(),
                                   [&](const DeviceInfo& d) { return d.id == device_id; });
    if (card == owned.end() || !card->online) {
      done(Reply::error(404, "not_found", "the device is offline"));
      return;
    }
    const auto it = answers.find(method);
    done(it != answers.end() ? it->second : Reply::success(json::object()));
  }
  void send_message(const std::string&, std::string,
                    std::vector<std::pair<std::string, std::string>>,
                    std::function<void(Reply)> done) override {
    done(Reply::error(500, "unexpected", "the assistant sends no messages"));
  }
  void publish(const std::string&, std::string, bool) override {}
  Reply call(const Caller&, std::string_view service, std::string_view operation,
             const json& request) override {
    calls.push_back({std::string(service), std::string(operation), request});
    const auto it = service_answers.find(std::string(service) + "/" + std::string(operation));
    if (it == service_answers.end()) return Reply::error(404, "unknown_service", "no such service");
    return it->second;
  }
};

class AssistantServiceTest : public ::testing::Test {
 protected:
  FakeHub hub;
  Caller phone{"ana", "pixel", false};
  std::unique_ptr<AssistantService> service;

  void SetUp() override {
    const auto context = assistant::testing::eval_context();
    hub.owned = context.devices;
    for (auto& d : hub.owned) {
      if (d.id == "car") d.last_seen = assistant::testing::parse_iso("2026-11-24T09:30:00+01:00");
    }
    AssistantOptions options;
    options.default_timezone = "Europe/Madrid";
    options.clock = [now = context.now] { return now; };
    options.device_timeout = std::chrono::seconds(0);
    service = std::make_unique<AssistantService>(ServiceContext{{}, &hub}, options);
  }

  json ask(json request, const Caller& caller) {
    const Reply r = service->call(caller, "ask", request);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body;
  }
  json ask(const std::string& text) { return ask(json{{"text", text}}, phone); }
};

TEST_F(AssistantServiceTest, PlaysOnTheNamedDevice) {
  hub.answers["media.control"] =
      Reply::success({{"state", "playing"}, {"title", "So What"}, {"volume", 40}});
  const json r = ask("play music on the living room speaker");
  ASSERT_EQ(hub.invokes.size(), 1u);
  EXPECT_EQ(hub.invokes[0].device, "living-room-speaker");
  EXPECT_EQ(hub.invokes[0].method, "media.control");
  EXPECT_EQ(hub.invokes[0].payload, (json{{"action", "play"}, {"from", "pixel"}}));
  EXPECT_EQ(hub.devices_of, "ana");
  EXPECT_EQ(r["intent"], "media.play");
  EXPECT_TRUE(r["done"]);
  EXPECT_EQ(r["answer"], "Playing \"So What\" on Living room speaker.");
  EXPECT_EQ(r["device"], (json{{"id", "living-room-speaker"}, {"name", "Living room speaker"}}));
  EXPECT_EQ(r["media"]["volume"], 40);
}

TEST_F(AssistantServiceTest, PauseNextPreviousAndVolumeSendTheirActions) {
  ask("pause the bedroom speaker");
  ask("next track on the kitchen display");
  ask("previous song");
  const json r = ask("set the volume of the tablet to thirty");
  ASSERT_EQ(hub.invokes.size(), 4u);
  EXPECT_EQ(hub.invokes[0].payload, (json{{"action", "pause"}, {"from", "pixel"}}));
  EXPECT_EQ(hub.invokes[1].payload, (json{{"action", "next"}, {"from", "pixel"}}));
  EXPECT_EQ(hub.invokes[2].device, "pixel");  // no device named: the one asking
  EXPECT_EQ(hub.invokes[2].payload, (json{{"action", "previous"}, {"from", "pixel"}}));
  EXPECT_EQ(hub.invokes[3].payload,
            (json{{"action", "volume"}, {"volume", 30}, {"from", "pixel"}}));
  EXPECT_EQ(r["answer"], "Galaxy Tab's volume is now 30.");
}

TEST_F(AssistantServiceTest, RelativeVolumeIsAnsweredHonestly) {
  const json r = ask("turn the bedroom speaker up");
  EXPECT_TRUE(hub.invokes.empty());
  EXPECT_FALSE(r["done"]);
  EXPECT_NE(r["answer"].get<std::string>().find("cannot read its current volume"),
            std::string::npos);
}

TEST_F(AssistantServiceTest, AsksBackWhenTheDeviceIsAmbiguousThenActsOnTheChoice) {
  const json q = ask("pause the speaker");
  EXPECT_TRUE(hub.invokes.empty());
  EXPECT_TRUE(q["clarify"]);
  EXPECT_FALSE(q["done"]);
  EXPECT_EQ(q["question"], "Which speaker: Bedroom speaker or Living room speaker?");
  EXPECT_EQ(q["candidates"],
            (json{{{"id", "bedroom-speaker"}, {"name", "Bedroom speaker"}},
                  {{"id", "living-room-speaker"}, {"name", "Living room speaker"}}}));
  const json r = ask(json{{"text", "pause the speaker"}, {"device", "bedroom-speaker"}}, phone);
  ASSERT_EQ(hub.invokes.size(), 1u);
  EXPECT_EQ(hub.invokes[0].device, "bedroom-speaker");
  EXPECT_TRUE(r["done"]);
}

TEST_F(AssistantServiceTest, TheUsersOwnAnswerToTheQuestionChoosesTheDevice) {
  const auto ask_with = [&](const std::string& choice) {
    return ask(json{{"text", "next song on the speaker"}, {"choice", choice}}, phone);
  };
  EXPECT_EQ(ask_with("the living room one")["device"]["id"], "living-room-speaker");
  EXPECT_EQ(ask_with("bedrom")["device"]["id"], "bedroom-speaker");     // a slip is forgiven
  EXPECT_EQ(ask_with("the first")["device"]["id"], "bedroom-speaker");  // as offered
  EXPECT_EQ(hub.invokes.size(), 3u);
  const json again = ask_with("the kitchen");  // not one of those offered
  EXPECT_TRUE(again["clarify"]);
  EXPECT_EQ(hub.invokes.size(), 3u);
}

TEST_F(AssistantServiceTest, AChosenDeviceMustBeTheOwners) {
  const Reply r =
      service->call(phone, "ask", {{"text", "pause the speaker"}, {"device", "bob-tv"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["code"], "unknown_device");
}

TEST_F(AssistantServiceTest, AnOfflineDeviceIsSaidToBeOffline) {
  const json r = ask("pause the car");
  ASSERT_EQ(hub.invokes.size(), 1u);  // the hub answered 404
  EXPECT_FALSE(r["done"]);
  EXPECT_EQ(r["answer"],
            "Car is offline (last seen Tue 24 Nov at 09:30), so I can't pause it now.");
}

TEST_F(AssistantServiceTest, RingsAndExplainsWhyAnOfflineDeviceCannotRing) {
  EXPECT_EQ(ask("ring my watch")["answer"], "Ringing Watch.");
  ASSERT_EQ(hub.invokes.size(), 1u);
  EXPECT_EQ(hub.invokes[0].method, "ring");
  const json r = ask("find the car");
  EXPECT_EQ(hub.invokes.size(), 1u);  // the card says offline: nothing to call
  EXPECT_EQ(r["answer"],
            "Car is offline (last seen Tue 24 Nov at 09:30), battery 76%, so it "
            "cannot ring.");
}

TEST_F(AssistantServiceTest, ADeviceThatDoesNotAnswerTimesOut) {
  hub.silent.insert("watch");
  const json r = ask("ring my watch");
  EXPECT_FALSE(r["done"]);
  EXPECT_EQ(r["answer"], "Watch did not answer in time, so I can't ring it.");
}

TEST_F(AssistantServiceTest, BatteryComesFromTheCard) {
  const json r = ask("what's the battery of my watch");
  EXPECT_TRUE(hub.invokes.empty());
  EXPECT_EQ(r["answer"], "Watch's battery is at 23%.");
  EXPECT_EQ(r["battery"], 23);
  EXPECT_EQ(ask("how charged is the car")["answer"],
            "Car's battery is at 76% as last reported; it is offline (last seen Tue 24 Nov at "
            "09:30).");
  EXPECT_FALSE(ask("battery of the kitchen display")["done"]);
}

TEST_F(AssistantServiceTest, ClipboardIsAlreadySharedWhereItCanBe) {
  const json r = ask("send my clipboard to the laptop");
  EXPECT_TRUE(r["done"]);
  EXPECT_TRUE(hub.invokes.empty());
  EXPECT_EQ(r["answer"], "Your clipboard is shared with Work laptop already: paste it there.");
  const json no = ask(json{{"text", "send my clipboard to the watch"}}, phone);
  EXPECT_FALSE(no["done"]);
}

TEST_F(AssistantServiceTest, FilesCannotBeSentFromTheHub) {
  const json r = ask("send report.pdf to my tablet");
  EXPECT_FALSE(r["done"]);
  EXPECT_EQ(r["slots"]["file"], "report.pdf");
  EXPECT_NE(r["answer"].get<std::string>().find("On Pixel, share it to Galaxy Tab"),
            std::string::npos);
  EXPECT_TRUE(hub.invokes.empty());
}

TEST_F(AssistantServiceTest, HandoffTakesTheActivityAndSendsItsLink) {
  const json activity = {{"app", "editor"},
                         {"title", "Trip notes"},
                         {"uri", "file:///home/ana/trip.md"},
                         {"state", {{"line", 12}}}};
  hub.answers["handoff.take"] = Reply::success(activity);
  const json r = ask("continue this on the tablet");
  ASSERT_EQ(hub.invokes.size(), 2u);
  EXPECT_EQ(hub.invokes[0].device, "pixel");
  EXPECT_EQ(hub.invokes[0].method, "handoff.take");
  EXPECT_EQ(hub.invokes[1].device, "tablet");
  EXPECT_EQ(hub.invokes[1].method, "share");
  EXPECT_EQ(hub.invokes[1].payload, (json{{"url", "file:///home/ana/trip.md"}, {"from", "pixel"}}));
  EXPECT_TRUE(r["done"]);
  EXPECT_EQ(r["activity"], activity);
}

TEST_F(AssistantServiceTest, HandoffHereReturnsTheActivityToTheCaller) {
  hub.answers["handoff.take"] = Reply::success({{"title", "Trip notes"}, {"uri", "x:1"}});
  const json r = ask("continue what I was doing on the laptop here");
  ASSERT_EQ(hub.invokes.size(), 1u);
  EXPECT_EQ(hub.invokes[0].device, "work-laptop");
  EXPECT_EQ(r["answer"], "Continuing \"Trip notes\" here.");
  EXPECT_EQ(r["activity"]["uri"], "x:1");
}

TEST_F(AssistantServiceTest, HandoffWithNothingToContinue) {
  hub.answers["handoff.take"] = Reply::error(404, "none", "no activity");
  const json r = ask("continue this on the laptop");
  EXPECT_EQ(hub.invokes.size(), 1u);
  EXPECT_EQ(r["answer"], "Pixel has nothing to continue right now.");
}

TEST_F(AssistantServiceTest, TranslatesThroughTheTranslationService) {
  hub.service_answers["translation/translate"] = Reply::success({{"text", "buenos días"}});
  const json r = ask("translate \"good morning\" to Spanish");
  ASSERT_EQ(hub.calls.size(), 1u);
  EXPECT_EQ(hub.calls[0].request, (json{{"from", "en"}, {"to", "es"}, {"text", "good morning"}}));
  EXPECT_EQ(r["answer"], "In Spanish: \"buenos días\"");
  EXPECT_EQ(r["translation"], "buenos días");
}

TEST_F(AssistantServiceTest, TranslationFailuresAndUnknownSourcesAreSaid) {
  hub.service_answers["translation/translate"] =
      Reply::error(400, "unknown_pair", "no pair en-de is installed");
  const json r = ask("translate \"good morning\" to German");
  EXPECT_FALSE(r["done"]);
  EXPECT_EQ(r["answer"], "I couldn't translate that: no pair en-de is installed");
  const json q = ask("translate \"gracias\" to English");
  EXPECT_EQ(hub.calls.size(), 1u);  // which language is it from? asked, not guessed
  EXPECT_FALSE(q["done"]);
}

TEST_F(AssistantServiceTest, RemindersGoToTheTravelService) {
  hub.service_answers["travel/remind"] = Reply::success({{"id", "r1"}});
  const json r = ask("remind me at 7 pm to call mom");
  ASSERT_EQ(hub.calls.size(), 1u);
  EXPECT_EQ(hub.calls[0].service, "travel");
  EXPECT_EQ(hub.calls[0].operation, "remind");
  EXPECT_EQ(hub.calls[0].request,
            (json{{"at", "2026-11-24T19:00:00+01:00"}, {"text", "call mom"}}));
  EXPECT_EQ(r["answer"], "I'll remind you at 19:00 on 2026-11-24: call mom.");
  const json q = ask("remind me to call grandma");
  EXPECT_EQ(hub.calls.size(), 1u);
  EXPECT_EQ(q["answer"], "When should I remind you to call grandma?");
}

TEST_F(AssistantServiceTest, NextFlightFromTheTravelService) {
  hub.service_answers["travel/next_flight"] =
      Reply::success({{"flight",
                       {{"number", "LH 123"},
                        {"from", "MAD"},
                        {"to", "FRA"},
                        {"departure", "2026-11-26T14:05:00+01:00"}}}});
  const json r = ask("when is my next flight");
  EXPECT_EQ(hub.calls.at(0).operation, "next_flight");
  EXPECT_EQ(r["answer"],
            "Your next flight: LH 123 from MAD to FRA leaves at 2026-11-26T14:05:00+01:00.");
  hub.service_answers["travel/next_flight"] = Reply::success({{"flight", nullptr}});
  EXPECT_EQ(ask("next flight")["answer"], "You have no upcoming flights.");
  hub.service_answers.clear();
  EXPECT_FALSE(ask("next flight")["done"]);
}

TEST_F(AssistantServiceTest, ListsTheOwnersDevices) {
  const json r = ask("list my devices");
  EXPECT_EQ(r["devices"].size(), 10u);
  EXPECT_EQ(r["answer"].get<std::string>().rfind("You have 10 devices: Pixel (online)", 0), 0u);
}

TEST_F(AssistantServiceTest, OutOfScopeSaysWhatItCanDo) {
  const json r = ask("order a pizza");
  EXPECT_EQ(r["intent"], "unknown");
  EXPECT_FALSE(r["done"]);
  EXPECT_EQ(r["answer"].get<std::string>().rfind("Sorry, I can't help with that.", 0), 0u);
  EXPECT_TRUE(hub.invokes.empty());
  EXPECT_TRUE(hub.calls.empty());
}

TEST_F(AssistantServiceTest, ParseUnderstandsWithoutActing) {
  const Reply r = service->call(phone, "parse", {{"text", "ring my watch"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, (json{{"intent", "device.ring"}, {"slots", {{"device", "watch"}}}}));
  EXPECT_TRUE(hub.invokes.empty());
}

TEST_F(AssistantServiceTest, BadRequestsAreRefusedWithACode) {
  const auto code = [&](std::string_view op, const json& request) {
    const Reply r = service->call(phone, op, request);
    EXPECT_GE(r.status, 400);
    return r.body.value("code", "");
  };
  EXPECT_EQ(code("ask", json::array()), "bad_request");
  EXPECT_EQ(code("ask", {{"text", 5}}), "bad_request");
  EXPECT_EQ(code("ask", {{"text", "   "}}), "empty_text");
  EXPECT_EQ(code("parse", {{"text", std::string(2000, 'a')}}), "text_too_long");
  EXPECT_EQ(code("ask", {{"text", "pause"}, {"timezone", "Mars/Base"}}), "unknown_timezone");
  EXPECT_EQ(code("ask", {{"text", "pause"}, {"timezone", 1}}), "bad_timezone");
  EXPECT_EQ(code("shout", {{"text", "pause"}}), "unknown_operation");
}

TEST_F(AssistantServiceTest, SpeaksThroughTheHookWhenThereIsOne) {
  const json plain = ask(json{{"text", "order a pizza"}, {"speak", true}}, phone);
  EXPECT_FALSE(plain["spoken"]);
  EXPECT_FALSE(plain.contains("audio"));
  AssistantOptions options;
  std::string spoken;
  options.speak = [&](const std::string& text) -> std::optional<std::string> {
    spoken = text;
    return std::string("RIFF");
  };
  AssistantService speaking(ServiceContext{{}, &hub}, options);
  const Reply r = speaking.call(phone, "ask", {{"text", "ring my watch"}, {"speak", true}});
  EXPECT_EQ(spoken, "Ringing Watch.");
  EXPECT_TRUE(r.body["spoken"]);
  EXPECT_EQ(r.body["audio"], (json{{"mime", "audio/wav"}, {"base64", "UklGRg=="}}));
}

TEST_F(AssistantServiceTest, HearsASpokenRequestAndSpeaksThroughTheSpeechService) {
  hub.service_answers["speech/recognize"] = Reply::success({{"text", "ring my watch"}});
  hub.service_answers["speech/synthesize"] = Reply::success({{"audio", "UklGRg=="}});
  const json r = ask(json{{"audio", "UklGRgAAAAA="}, {"speak", true}}, phone);
  ASSERT_GE(hub.calls.size(), 2u);
  EXPECT_EQ(hub.calls[0].service + "/" + hub.calls[0].operation, "speech/recognize");
  EXPECT_EQ(hub.calls[0].request, (json{{"audio", "UklGRgAAAAA="}}));
  EXPECT_EQ(r["heard"], "ring my watch");
  EXPECT_EQ(r["intent"], "device.ring");
  EXPECT_EQ(hub.calls.back().request, (json{{"text", "Ringing Watch."}}));
  EXPECT_EQ(r["audio"], (json{{"mime", "audio/wav"}, {"base64", "UklGRg=="}}));
  // Nothing heard, or the speech service refusing: said, with a code.
  hub.service_answers["speech/recognize"] = Reply::success({{"text", ""}});
  EXPECT_EQ(service->call(phone, "ask", {{"audio", "UklGRg=="}}).body["code"], "not_understood");
  hub.service_answers["speech/recognize"] = Reply::error(400, "bad_audio", "not a WAV");
  EXPECT_EQ(service->call(phone, "ask", {{"audio", "x"}}).status, 400);
}

TEST(AssistantServiceSetup, RefusesAnUnknownDefaultZone) {
  FakeHub hub;
  AssistantOptions options;
  options.default_timezone = "Nowhere/Land";
  EXPECT_ANY_THROW(AssistantService(ServiceContext{{}, &hub}, options));
  EXPECT_ANY_THROW(AssistantService(ServiceContext{}, AssistantOptions{}));
}

}  // namespace
}  // namespace allscene::services
