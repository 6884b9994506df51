// Real engines end to end: espeak-ng speaks, pocketsphinx listens.
#include <gtest/gtest.h>

#include <thread>

#include "services/speech/speech_engine.hpp"
#include "word_overlap.hpp"

namespace allscene::services::speech {
namespace {

SpeechEngine& engine() {
  static SpeechEngine instance;
  return instance;
}

// espeak-ng's Klatt voice is recognised far better by pocketsphinx's en-us
// model than its default voice (docs/services/speech.md).
const SynthesisOptions kClearVoice{.voice = "en-us+klatt", .sample_rate = 16000};

PcmAudio speak(const std::string& text) {
  auto audio = engine().synthesizer().synthesize(text, kClearVoice);
  EXPECT_TRUE(audio.ok());
  return std::move(audio).value();
}

TEST(Synthesizer, SpeaksAtNativeAndResampledRates) {
  auto native = engine().synthesizer().synthesize("hello world");
  ASSERT_TRUE(native.ok());
  EXPECT_EQ(native.value().sample_rate, 22050);
  EXPECT_GT(native.value().seconds(), 0.4);
  EXPECT_LT(native.value().seconds(), 3.0);
  auto slow = engine().synthesizer().synthesize("hello world", {.words_per_minute = 100});
  EXPECT_GT(slow.value().seconds(), native.value().seconds() * 1.3);
  EXPECT_EQ(speak("hello world").sample_rate, 16000);
}

TEST(Synthesizer, RejectsEmptyLongAndBadOptions) {
  EXPECT_EQ(engine().synthesizer().synthesize(" \n ").error().code, "empty_text");
  EXPECT_EQ(engine().synthesizer().synthesize(std::string(3000, 'a')).error().status, 413);
  EXPECT_EQ(engine().synthesizer().synthesize("hi", {.words_per_minute = 10}).error().code,
            "bad_option");
  EXPECT_EQ(engine().synthesizer().synthesize("hi", {.voice = "no-such-voice"}).error().code,
            "bad_option");
}

// Measured on 2026-11-24: espeak-ng's voices and pocketsphinx's en-us model
// do not agree on every word ("my" is often lost or heard as "by"), so the
// round trips assert the words that carry the request: the action, the
// device as its owner wrote it, the number.
TEST(Recognizer, GrammarRoundTripRingMyWatch) {
  const std::vector<DeviceName> devices{{"Watch", "wearable"}, {"Pixel 7", "phone"}};
  auto heard = engine().recognizer().recognize(
      engine().synthesizer().synthesize("ring my watch", {.sample_rate = 16000}).value(), devices);
  ASSERT_TRUE(heard.ok()) << heard.error().message;
  // Measured: "watch" (default voice); the Klatt voices lose "watch" instead.
  EXPECT_GE(word_accuracy("ring my watch", heard.value().words), 0.3) << heard.value().words;
  EXPECT_NE(heard.value().text.find("Watch"), std::string::npos) << heard.value().text;
}

TEST(Recognizer, GrammarPutsNamesAndNumbersBack) {
  const std::vector<DeviceName> devices{{"Pixel 7", "phone"}, {"Kitchen Speaker", "audio"}};
  auto volume = engine().recognizer().recognize(
      speak("set the volume on the kitchen speaker to 35"), devices);
  ASSERT_TRUE(volume.ok());
  // Measured: "set a volume a Kitchen Speaker does 35" — the slots survive.
  EXPECT_NE(volume.value().words.find("kitchen speaker"), std::string::npos);
  EXPECT_NE(volume.value().words.find("thirty five"), std::string::npos);
  EXPECT_NE(volume.value().text.find("volume"), std::string::npos);
  EXPECT_NE(volume.value().text.find("Kitchen Speaker"), std::string::npos);
  EXPECT_NE(volume.value().text.find(" 35"), std::string::npos);
  auto ring = engine().recognizer().recognize(speak("ring my Pixel 7"), devices);
  EXPECT_NE(ring.value().text.find("Pixel 7"), std::string::npos) << ring.value().text;
}

TEST(Recognizer, DecodersAreCachedPerDeviceSetLeastRecentlyUsedOut) {
  RecognizerOptions options;
  options.cached_grammars = 2;
  Recognizer recognizer(options);
  recognizer.prepare({{"Watch", "wearable"}, {"Pixel", "phone"}});
  recognizer.prepare({{"Pixel", "phone"}, {"Watch", "wearable"}});  // same set
  EXPECT_EQ(recognizer.cached_grammars(), 1u);
  recognizer.prepare({{"Car", "car"}});
  recognizer.prepare({{"Tablet", "tablet"}});
  EXPECT_EQ(recognizer.cached_grammars(), 2u);
}

TEST(Recognizer, GeneralModelGetsMostWords) {
  const std::string sentence = "what is the weather like today";
  auto heard = engine().recognizer().recognize(speak(sentence));
  ASSERT_TRUE(heard.ok()) << heard.error().message;
  // Measured 0.33 ("is that whether by today"); the grammar does far better.
  EXPECT_GE(word_overlap(sentence, heard.value().text), 0.3) << heard.value().text;
}

// Several callers at once: synthesis is serialised, decoders of different
// device sets run in parallel, one device set's decoder is shared.
TEST(Recognizer, ConcurrentCallersGetTheirOwnAnswers) {
  const PcmAudio clip = speak("pause the music");
  std::vector<std::string> heard(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < heard.size(); ++i) {
    threads.emplace_back([&, i] {
      const std::vector<DeviceName> devices{{"Speaker " + std::to_string(i % 2), "audio"}};
      (void)engine().synthesizer().synthesize("thank you");
      auto r = engine().recognizer().recognize(clip, devices);
      if (r.ok()) heard[i] = r.value().words;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& words : heard) EXPECT_NE(words.find("music"), std::string::npos) << words;
}

TEST(Recognizer, ADecoderThatCannotStartIsAnErrorNotAThrow) {
  RecognizerOptions options;
  options.grammar_args = {"-no-such-option", "1"};
  Recognizer broken(options);
  auto heard = broken.recognize(PcmAudio{16000, std::vector<std::int16_t>(1600)},
                                {{"Watch", "wearable"}});
  ASSERT_FALSE(heard.ok());
  EXPECT_EQ(heard.error().status, 500);
  EXPECT_EQ(heard.error().code, "engine_failed");
}

TEST(Recognizer, RejectsEmptyAndOverlongAudio) {
  EXPECT_EQ(engine().recognizer().recognize(PcmAudio{16000, {}}).error().code, "bad_audio");
  PcmAudio long_audio{8000, std::vector<std::int16_t>(8000 * 31)};
  EXPECT_EQ(engine().recognizer().recognize(long_audio).error().status, 413);
}

}  // namespace
}  // namespace allscene::services::speech
