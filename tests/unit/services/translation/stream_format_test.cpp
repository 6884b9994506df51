// Plain text <-> Apertium stream format, without Apertium.
#include "services/translation/stream_format.hpp"

#include <gtest/gtest.h>

namespace allscene::services::translation {
namespace {

TEST(StreamFormat, EscapesTheStreamsReservedCharactersAsDestxtDoes) {
  EXPECT_EQ(to_stream("a[b]c\\d^e$f/g<h>i{j}k@l"),
            "a\\[b\\]c\\\\d\\^e\\$f\\/g\\<h\\>i\\{j\\}k\\@l[]");
}

TEST(StreamFormat, WhitespaceOtherThanOneSpaceTravelsAsSuperblank) {
  EXPECT_EQ(to_stream("a\n\nb\tc  d e"), "a[\n\n]b[\t]c[  ]d e[]");
}

TEST(StreamFormat, LiteralMarkCharactersTravelAsFormat) {
  EXPECT_EQ(to_stream("5 * 3 #tag ~x"), "5 [*] 3 [#]tag [~]x[]");
}

TEST(StreamFormat, EveryRequestEndsWithAnEmptySuperblankSoTheLastWordIsFlushed) {
  EXPECT_EQ(to_stream("dog."), "dog.[]");
}

TEST(StreamFormat, RoundTripGivesBackTheText) {
  const std::string text = "x [1] \\ ^ $ / < > { } @ * # ~\n\n\ty  z";
  auto plain = from_stream(to_stream(text), false, text);
  EXPECT_EQ(plain.text, text);
  EXPECT_TRUE(plain.unknown.empty());
}

TEST(StreamFormat, ReportsUnknownWordsAndStripsTheirMarks) {
  auto plain = from_stream("*Xyzzy *plorks El gato, d\\@nde es la #canal y @foo? *Xyzzy.[]", false,
                           "source");
  EXPECT_EQ(plain.text, "Xyzzy plorks El gato, d@nde es la canal y foo? Xyzzy.");
  EXPECT_EQ(plain.unknown, (std::vector<std::string>{"Xyzzy", "plorks", "canal", "foo"}));
}

TEST(StreamFormat, KeepsMarksWhenAsked) {
  auto plain = from_stream("*Xyzzy El gato.[]", true, "source");
  EXPECT_EQ(plain.text, "*Xyzzy El gato.");
  EXPECT_EQ(plain.unknown, std::vector<std::string>{"Xyzzy"});
}

TEST(StreamFormat, MarkCharactersInsideSuperblanksAreText) {
  auto plain = from_stream("5 [*] 3 [#]tag[]", false, "source");
  EXPECT_EQ(plain.text, "5 * 3 #tag");
  EXPECT_TRUE(plain.unknown.empty());
}

TEST(StreamFormat, AnUnknownWordEndsWhereApertiumEndsIt) {
  // As eng-spa answers "café/barqq Xyzzy-plork <b>": non-ASCII letters stay
  // in the word; escaped characters, hyphens and apostrophes end it.
  auto plain =
      from_stream("*caf\xC3\xA9\\/*barqq *Xyzzy-*plork *O'*Zorkk \\<*b\\>[]", false, "source");
  EXPECT_EQ(plain.text, "caf\xC3\xA9/barqq Xyzzy-plork O'Zorkk <b>");
  EXPECT_EQ(plain.unknown, (std::vector<std::string>{"caf\xC3\xA9", "barqq", "Xyzzy", "plork", "O",
                                                     "Zorkk", "b"}));
}

TEST(StreamFormat, TrimsOnlyTheBlanksTheSourceDidNotHave) {
  EXPECT_EQ(from_stream(" Tengo un perro.[]", false, "I have a dog.").text, "Tengo un perro.");
  EXPECT_EQ(from_stream("[\n] Tengo.[ ]", false, "\nI have. ").text, "\n Tengo. ");
}

}  // namespace
}  // namespace allscene::services::translation
