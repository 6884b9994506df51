// The parser's pieces: device resolution, ambiguity, defaults, slots.
#include "services/assistant/parser.hpp"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <random>

#include "eval_set.hpp"
#include "services/assistant/devices.hpp"

namespace allscene::services::assistant {
namespace {

using nlohmann::json;

class AssistantParser : public ::testing::Test {
 protected:
  ParseContext context = testing::eval_context();

  ParseResult p(std::string_view text) { return parse(text, context); }
};

TEST_F(AssistantParser, ResolvesNamesClassesAndRooms) {
  EXPECT_EQ(p("ring the Galaxy Tab").slots, (json{{"device", "tablet"}}));
  EXPECT_EQ(p("ring my mobile").slots, (json{{"device", "pixel"}}));
  EXPECT_EQ(p("pause the notebook").slots, (json{{"device", "work-laptop"}}));
  EXPECT_EQ(p("pause the kitchen").slots, (json{{"device", "kitchen-display"}}));
  EXPECT_EQ(p("next song on the speaker in the bedroom").slots,
            (json{{"device", "bedroom-speaker"}}));
}

TEST_F(AssistantParser, AmbiguousWordsListTheCandidates) {
  const auto r = p("pause the speaker");
  EXPECT_EQ(r.intent, "media.pause");
  EXPECT_EQ(r.slots, (json{{"ambiguous", {"bedroom-speaker", "living-room-speaker"}}}));
}

TEST_F(AssistantParser, CapabilityNarrowsAnAmbiguousWord) {
  // "screen" could be the display or a TV; only the TV cannot play.
  context.devices.push_back(DeviceInfo{"hall-tv", "Hall TV", "tv", true, -1, {}, {}});
  EXPECT_EQ(p("pause the screen").slots, (json{{"device", "kitchen-display"}}));
  EXPECT_EQ(p("battery of the screen").slots,
            (json{{"ambiguous", {"hall-tv", "kitchen-display"}}}));
}

TEST_F(AssistantParser, DefaultsWhenNoDeviceIsNamed) {
  EXPECT_EQ(p("pause").slots, (json{{"device", "pixel"}}));
  EXPECT_EQ(p("what is my battery").slots, (json{{"device", "pixel"}}));
  EXPECT_EQ(p("send my clipboard").slots, (json{{"ambiguous", {"tablet", "work-laptop"}}}));
  context.caller_device.clear();                        // a REST caller: no device to default to
  EXPECT_EQ(p("pause").slots["ambiguous"].size(), 7u);  // every media device
}

TEST_F(AssistantParser, HandoffSourceAndTarget) {
  EXPECT_EQ(p("continue this on the tablet").slots,
            (json{{"device", "tablet"}, {"source", "pixel"}}));
  EXPECT_EQ(p("continue from the laptop on the tablet").slots,
            (json{{"device", "tablet"}, {"source", "work-laptop"}}));
  EXPECT_EQ(p("continue the tablet's work here").slots,
            (json{{"device", "pixel"}, {"source", "tablet"}}));
}

TEST_F(AssistantParser, Volume) {
  EXPECT_EQ(p("set the volume to 30 on the kitchen display").slots,
            (json{{"device", "kitchen-display"}, {"volume", 30}}));
  EXPECT_EQ(p("volume up by five").slots,
            (json{{"device", "pixel"}, {"direction", "up"}, {"step", 5}}));
  EXPECT_EQ(p("set the volume to 250").slots["volume"], 100);
}

TEST_F(AssistantParser, TranslateLanguagesAndText) {
  EXPECT_EQ(p("translate \"where is the bus\" from English to Catalan").slots,
            (json{{"from", "en"}, {"language", "ca"}, {"text", "where is the bus"}}));
  EXPECT_EQ(p("how do you say good bye in French").slots,
            (json{{"language", "fr"}, {"text", "good bye"}}));
}

TEST_F(AssistantParser, ReminderWithAndWithoutTime) {
  EXPECT_EQ(p("remind me to feed the fish at 8 pm").slots,
            (json{{"time", "2026-11-24T20:00:00+01:00"}, {"text", "feed the fish"}}));
  EXPECT_EQ(p("remind me to feed the fish").slots, (json{{"text", "feed the fish"}}));
  EXPECT_EQ(p("remind me to go at 5 pm to the bank please").slots,
            (json{{"time", "2026-11-24T17:00:00+01:00"}, {"text", "go to the bank"}}));
}

TEST_F(AssistantParser, OutOfScope) {
  EXPECT_EQ(p("play chess with me").intent, "unknown");
  EXPECT_EQ(p("what's the weather like").intent, "unknown");
  EXPECT_EQ(p("").intent, "unknown");
  EXPECT_EQ(p("").slots, json::object());
}

// Bad input is normal: any words, quotes, digits and bytes give an intent,
// never a crash (run under ASan/UBSan in CI).
TEST_F(AssistantParser, AnyTextGivesAnIntent) {
  static constexpr const char* kPieces[] = {
      "play",     "the",     "speaker",  "in",     "at",        "7",        "pm",
      "tomorrow", "remind",  "me",       "to",     "translate", "\"",       "'",
      "Spanish",  "from",    "on",       "Friday", "half",      "an",       "hour",
      "a",        "hundred", "by",       "up",     "down",      "doing",    "here",
      "'s",       ",",       ":",        "13:99",  "twenty-",   "\xc3\xa9", "\xff",
      "noon",     "in the",  "continue", "volume", "bedroom",   "?",        "12am"};
  std::mt19937 random(7);
  std::uniform_int_distribution<std::size_t> piece(0, std::size(kPieces) - 1);
  std::uniform_int_distribution<int> length(0, 14);
  for (int round = 0; round < 500; ++round) {
    std::string text;
    for (int n = length(random); n > 0; --n) {
      text += kPieces[piece(random)];
      if (random() % 3 != 0) text += ' ';
    }
    const auto r = p(text);
    EXPECT_FALSE(r.intent.empty()) << text;
    EXPECT_TRUE(r.slots.is_object()) << text;
  }
}

TEST(AssistantDevices, MentionsStayApartWhenTheyFitNoDeviceInCommon) {
  const auto context = testing::eval_context();
  const auto t = tokenize("move it from the tablet to the laptop");
  const auto m = find_mentions(t, context.devices);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].candidates, std::vector<std::string>{"tablet"});
  EXPECT_EQ(m[1].candidates, std::vector<std::string>{"work-laptop"});
}

}  // namespace
}  // namespace allscene::services::assistant
