#include "services/speech/grammar.hpp"

#include <gtest/gtest.h>

namespace allscene::services::speech {
namespace {

const Dictionary& dictionary() {
  static const Dictionary d("/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict");
  return d;
}

TEST(Dictionary, KnownCompoundAndSpelledWords) {
  EXPECT_EQ(dictionary().guess("watch")->phones, "W AA CH");
  auto compound = dictionary().guess("earbuds");  // ear + buds
  ASSERT_TRUE(compound);
  EXPECT_EQ(compound->source, Dictionary::Source::compound);
  auto spelled = dictionary().guess("xq");
  ASSERT_TRUE(spelled);
  EXPECT_EQ(spelled->source, Dictionary::Source::spelled);
  EXPECT_EQ(spelled->phones, "EH K S K Y UW");
}

TEST(Grammar, NumberWords) {
  EXPECT_EQ(number_words("0"), "zero");
  EXPECT_EQ(number_words("7"), "seven");
  EXPECT_EQ(number_words("35"), "thirty five");
  EXPECT_EQ(number_words("100"), "one hundred");
  EXPECT_EQ(number_words("2024"), "two zero two four");
}

TEST(Grammar, DeviceNamesBecomeSpokenPhrases) {
  const auto g = build_command_grammar(
      {{"Pixel 7", "phone"}, {"Galaxy S23", "phone"}, {"Zyxw Hub!", "hub"}}, dictionary());
  EXPECT_NE(g.jsgf.find("pixel seven"), std::string::npos);
  EXPECT_NE(g.jsgf.find("galaxy s twenty three"), std::string::npos);
  EXPECT_NE(g.jsgf.find("public <request>"), std::string::npos);
  EXPECT_NE(std::find(g.guessed.begin(), g.guessed.end(), "zyxw (spelled)"), g.guessed.end());
  // Every word of the grammar has a pronunciation for the decoder.
  for (const auto& [word, phones] : g.words) EXPECT_FALSE(phones.empty()) << word;
}

TEST(Grammar, RestoresNamesAndNumbers) {
  const auto g = build_command_grammar({{"Pixel 7", "phone"}, {"Living room speaker", "audio"}},
                                       dictionary());
  EXPECT_EQ(restore_names_and_numbers("set the living room speaker to thirty five", g),
            "set the Living room speaker to 35");
  EXPECT_EQ(restore_names_and_numbers("ring my pixel seven", g), "ring my Pixel 7");
  EXPECT_EQ(restore_names_and_numbers("volume one hundred", g), "volume 100");
  EXPECT_EQ(restore_names_and_numbers("volume zero", g), "volume 0");
  EXPECT_EQ(restore_names_and_numbers("volume to a hundred", g), "volume to 100");
}

}  // namespace
}  // namespace allscene::services::speech
