#include "services/speech/speech_service.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

namespace allscene::services::speech {
namespace {

using nlohmann::json;

SpeechService& service() {
  static SpeechService instance(ServiceContext{});
  return instance;
}

const Caller kCaller{"ana", "pixel", false};

// The owner's devices, as the service host would list them.
class FakeHub : public HubAccess {
 public:
  std::vector<DeviceInfo> devices(const std::string& user) override {
    asked.push_back(user);
    DeviceInfo speaker;
    speaker.id = "bedroom-speaker";
    speaker.name = "Bedroom speaker";
    speaker.device_class = "audio";
    return {speaker};
  }
  void invoke(const std::string&, const std::string&, nlohmann::json, std::chrono::seconds,
              std::function<void(Reply)> done) override {
    done(Reply::error(404, "offline", "not in this test"));
  }
  void send_message(const std::string&, std::string,
                    std::vector<std::pair<std::string, std::string>>,
                    std::function<void(Reply)> done) override {
    done(Reply::error(404, "unknown", "not in this test"));
  }
  void publish(const std::string&, std::string, bool) override {}
  Reply call(const Caller&, std::string_view, std::string_view, const nlohmann::json&) override {
    return Reply::error(404, "unknown_service", "not in this test");
  }
  std::vector<std::string> asked;
};

TEST(SpeechService, SynthesizeThenRecognizeOverTheWire) {
  auto spoken = service().call(kCaller, "synthesize",
                               {{"text", "pause the music on my phone"}, {"voice", "en-us+klatt"},
                                {"sample_rate", 16000}});
  ASSERT_TRUE(spoken.ok()) << spoken.body.dump();
  EXPECT_EQ(spoken.body["sample_rate"], 16000);
  EXPECT_GT(spoken.body["seconds"].get<double>(), 0.5);
  auto heard = service().call(kCaller, "recognize",
                              {{"audio", spoken.body["audio"]}, {"devices", {"Pixel", "Watch"}}});
  ASSERT_TRUE(heard.ok()) << heard.body.dump();
  EXPECT_EQ(heard.body["mode"], "commands");
  // Measured: "pause a music on my phone".
  const auto text = heard.body["text"].get<std::string>();
  for (const char* word : {"pause", "music", "phone"}) {
    EXPECT_NE(text.find(word), std::string::npos) << text;
  }
  EXPECT_GE(heard.body["ms"].get<double>(), 0.0);
}

TEST(SpeechService, WithoutDevicesUsesTheOwnersFromTheHub) {
  FakeHub hub;
  SpeechService with_hub(ServiceContext{{}, &hub});
  auto spoken = with_hub.call(kCaller, "synthesize",
                              {{"text", "pause the bedroom speaker"}, {"voice", "en-us+klatt"},
                               {"sample_rate", 16000}});
  ASSERT_TRUE(spoken.ok());
  auto heard = with_hub.call(kCaller, "recognize", {{"audio", spoken.body["audio"]}});
  ASSERT_TRUE(heard.ok()) << heard.body.dump();
  EXPECT_EQ(hub.asked, std::vector<std::string>{"ana"});
  EXPECT_EQ(heard.body["mode"], "commands");
  EXPECT_NE(heard.body["text"].get<std::string>().find("Bedroom speaker"), std::string::npos)
      << heard.body["text"];
  // "general" overrides the owner's devices.
  auto general = with_hub.call(kCaller, "recognize",
                               {{"audio", spoken.body["audio"]}, {"mode", "general"}});
  ASSERT_TRUE(general.ok());
  EXPECT_EQ(general.body["mode"], "general");
}

TEST(SpeechService, DefaultsToEspeakRate) {
  auto spoken = service().call(kCaller, "synthesize", {{"text", "hello"}});
  ASSERT_TRUE(spoken.ok());
  EXPECT_EQ(spoken.body["sample_rate"], 22050);
}

TEST(SpeechService, BadInputIsAClearError) {
  auto bad_base64 = service().call(kCaller, "recognize", {{"audio", "not base64!"}});
  EXPECT_EQ(bad_base64.status, 400);
  EXPECT_EQ(bad_base64.body["code"], "bad_audio");
  // Valid base64 of something that is not a WAV.
  auto not_wav = service().call(kCaller, "recognize", {{"audio", "aGVsbG8gd29ybGQ="}});
  EXPECT_EQ(not_wav.body["code"], "bad_audio");
  auto missing = service().call(kCaller, "recognize", json::object());
  EXPECT_EQ(missing.body["code"], "bad_audio");
  auto huge = service().call(kCaller, "recognize", {{"audio", std::string(8u << 20, 'A')}});
  EXPECT_EQ(huge.status, 413);
  auto empty = service().call(kCaller, "synthesize", {{"text", ""}});
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.body["code"], "empty_text");
  EXPECT_EQ(service().call(kCaller, "synthesize", {{"text", "hi"}, {"rate", "fast"}}).status, 400);
  EXPECT_EQ(service().call(kCaller, "nope", json::object()).status, 404);
  auto bad_mode = service().call(kCaller, "recognize", {{"audio", "UklGRg=="}, {"mode", "x"}});
  EXPECT_EQ(bad_mode.status, 400);
}

}  // namespace
}  // namespace allscene::services::speech
