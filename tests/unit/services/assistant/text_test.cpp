// Tokens, typo correction and numbers.
#include "services/assistant/text.hpp"

#include <gtest/gtest.h>

#include "services/assistant/numbers.hpp"

namespace allscene::services::assistant {
namespace {

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& t : tokenize(text)) out.push_back(t.word);
  return out;
}

TEST(AssistantText, KeepsTheUsersSpellingBesideTheMatchingForm) {
  const auto t = tokenize("  Ring  Ana's WATCH, please! ");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[1].original, "Ana's");
  EXPECT_EQ(t[1].word, "ana");
  EXPECT_TRUE(t[1].possessive);
  EXPECT_EQ(t[2].original, "WATCH");
  EXPECT_EQ(t[2].word, "watch");
  EXPECT_TRUE(t[2].comma_after);
  EXPECT_EQ(t[3].word, "please");
  EXPECT_EQ(join_original(t, 1, 3), "Ana's WATCH");
}

TEST(AssistantText, ContractionsAreNotPossessives) {
  const auto t = tokenize("what's the time");
  EXPECT_EQ(t[0].word, "what's");
  EXPECT_FALSE(t[0].possessive);
}

TEST(AssistantText, CorrectsOneSlipTowardsAKeywordOnly) {
  EXPECT_EQ(words("plya the speakr"), (std::vector<std::string>{"play", "the", "speaker"}));
  EXPECT_EQ(words("ring my wacth"), (std::vector<std::string>{"ring", "my", "watch"}));
  // One substitution from "paste" and one swap from "pause": the swap wins.
  EXPECT_EQ(words("pasue"), std::vector<std::string>{"pause"});
  // Common words next to keywords stay what they are.
  EXPECT_EQ(words("sing a song"), (std::vector<std::string>{"sing", "a", "song"}));
  EXPECT_EQ(words("change it"), (std::vector<std::string>{"change", "it"}));
  // Four letters: only a swap counts, so "ting" is not "ring".
  EXPECT_EQ(words("ting"), std::vector<std::string>{"ting"});
}

TEST(AssistantText, EditDistanceCountsASwapAsOne) {
  EXPECT_EQ(edit_distance("clipbaord", "clipboard"), 1u);
  EXPECT_EQ(edit_distance("remnd", "remind"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(AssistantText, PhrasesAreFoundOnWholeWords) {
  const auto t = tokenize("please go back one song");
  EXPECT_EQ(find_phrase(t, "go back"), 1u);
  EXPECT_TRUE(phrase_at(t, 2, "back one song"));
  EXPECT_EQ(find_phrase(t, "back two"), std::string::npos);
  EXPECT_EQ(find_word(t, "song"), 4u);
}

int number(std::string_view text, std::size_t* length = nullptr) {
  const auto t = tokenize(text);
  const auto n = number_at(t, 0);
  if (!n) return -1;
  if (length) *length = n->length;
  return n->value;
}

TEST(AssistantNumbers, DigitsAndWords) {
  std::size_t length = 0;
  EXPECT_EQ(number("30"), 30);
  EXPECT_EQ(number("45%"), 45);
  EXPECT_EQ(number("seven"), 7);
  EXPECT_EQ(number("thirty five percent", &length), 35);
  EXPECT_EQ(length, 2u);
  EXPECT_EQ(number("twenty-five"), 25);
  EXPECT_EQ(number("a hundred", &length), 100);
  EXPECT_EQ(length, 2u);
  EXPECT_EQ(number("one hundred and twenty"), 120);
  EXPECT_EQ(number("zero"), 0);
}

TEST(AssistantNumbers, OtherWordsAreNotNumbers) {
  EXPECT_EQ(number("a bit"), -1);
  EXPECT_EQ(number("loud"), -1);
  EXPECT_EQ(number("12abc"), -1);
  EXPECT_EQ(number("twenty-zero"), -1);
  EXPECT_EQ(number(""), -1);
}

}  // namespace
}  // namespace allscene::services::assistant
