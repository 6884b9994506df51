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
