#include "services/docs/encoding.hpp"

#include <gtest/gtest.h>

#include <random>

namespace allscene::services::docs {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

TextDoc edited_doc() {
  TextDoc doc("phone");
  doc.insert_utf8(0, "hello world");
  doc.remove(0, 1);
  doc.insert_utf8(0, "H");
  doc.remove(doc.length() - 1, 1);
  doc.remove(doc.length() - 1, 1);
  TextDoc other("laptop");
  other.apply(doc.updates_since({}));
  other.insert_utf8(5, ", caf\xC3\xA9");
  doc.apply(other.updates_since(doc.version()));
  return doc;
}

// docs/services/docs.md, "Encoding": tag, agents, runs.
TEST(Encoding, ExactBytesOfOneInsert) {
  TextDoc doc("a");
  doc.insert_utf8(0, "hi");
  EXPECT_EQ(encode(doc.updates_since({})),
            bytes({0xD1, 0x01, 0x01, 'a', 0x01, 0x00, 0x00, 0x02, 0x02, 0x02, 'h', 'i'}));
}

TEST(Encoding, ExactBytesOfAnInsertAfterAndABackspace) {
  TextDoc doc("a");
  doc.insert_utf8(0, "hi");
  const Version v = doc.version();
  doc.insert_utf8(1, "o");  // after "h" (a, 0)
  doc.remove(2, 1);         // the "i" (a, 1)
  EXPECT_EQ(encode(doc.updates_since(v)),
            bytes({0xD1, 0x01, 0x01, 'a', 0x02,
                   // insert after: header 1, seq +2 (zigzag 4), len 1, lamport +3 (6),
                   // origin agent 0, origin seq+1-seq = 1-2 = -1 (1), 1 byte "o"
                   0x01, 0x04, 0x01, 0x06, 0x00, 0x01, 0x01, 'o',
                   // delete forward: header 2, seq +0, len 1, lamport +0, target a +1 (2)
                   0x02, 0x00, 0x01, 0x00, 0x00, 0x02}));
}

TEST(Encoding, RoundTripsAnUpdate) {
  const TextDoc doc = edited_doc();
  const Update update = doc.updates_since({});
  const DecodeResult decoded = decode(encode(update));
  ASSERT_TRUE(decoded.ok()) << decoded.error;
  EXPECT_EQ(decoded.update.ops, update.ops);
  TextDoc copy("reader");
  ASSERT_TRUE(copy.apply(decoded.update).ok());
  EXPECT_EQ(copy.text(), doc.text());
  EXPECT_EQ(copy.text(), "Hello, caf\xC3\xA9 wor");
}

TEST(Encoding, EmptyUpdate) {
  const DecodeResult decoded = decode(encode(Update{}));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded.update.empty());
}

TEST(Encoding, EveryTruncationIsRejected) {
  const std::string full = encode_document(edited_doc());
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_FALSE(decode(std::string_view(full).substr(0, n)).ok()) << "prefix of " << n;
  }
  EXPECT_TRUE(decode(full).ok());
  EXPECT_FALSE(decode(full + '\0').ok());
}

TEST(Encoding, MalformedInputsSayWhatIsWrong) {
  EXPECT_NE(decode("").error.find("format tag"), std::string::npos);
  EXPECT_NE(decode("xyz").error.find("format tag"), std::string::npos);
  // Overlong number.
  EXPECT_FALSE(
      decode(bytes({0xD1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F})).ok());
  // A count of agents larger than the input could hold.
  EXPECT_FALSE(decode(bytes({0xD1, 0xFF, 0xFF, 0x03})).ok());
  // Agent index 1 with one agent.
  EXPECT_FALSE(
      decode(bytes({0xD1, 0x01, 0x01, 'a', 0x01, 0x04, 0x00, 0x01, 0x02, 0x01, 'h'})).ok());
  // Invalid UTF-8 text (a lone continuation byte).
  const DecodeResult utf8 =
      decode(bytes({0xD1, 0x01, 0x01, 'a', 0x01, 0x00, 0x00, 0x01, 0x02, 0x01, 0x80}));
  EXPECT_NE(utf8.error.find("UTF-8"), std::string::npos) << utf8.error;
  // Text shorter than its run.
  EXPECT_FALSE(
      decode(bytes({0xD1, 0x01, 0x01, 'a', 0x01, 0x00, 0x00, 0x03, 0x02, 0x01, 'h'})).ok());
  // An agent named twice, an empty agent name, an empty run.
  EXPECT_FALSE(decode(bytes({0xD1, 0x02, 0x01, 'a', 0x01, 'a', 0x00})).ok());
  EXPECT_FALSE(decode(bytes({0xD1, 0x01, 0x00, 0x00})).ok());
  EXPECT_FALSE(decode(bytes({0xD1, 0x01, 0x01, 'a', 0x01, 0x00, 0x00, 0x00, 0x02, 0x00})).ok());
  // A negative sequence number.
  EXPECT_FALSE(
      decode(bytes({0xD1, 0x01, 0x01, 'a', 0x01, 0x00, 0x01, 0x01, 0x02, 0x01, 'h'})).ok());
}

// Random bytes and random corruptions of a valid encoding: decode never
// crashes, and what it accepts the CRDT applies or refuses cleanly.
TEST(Encoding, RandomAndCorruptedBytesNeverCrash) {
  std::mt19937 rng(20261124);
  const std::string valid = encode_document(edited_doc());
  size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string input;
    if (i % 2 == 0) {
      input.resize(rng() % 64);
      for (char& c : input) c = static_cast<char>(rng());
      if (i % 4 == 0 && !input.empty()) input[0] = static_cast<char>(kFormatTag);
    } else {
      input = valid;
      for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
        input[rng() % input.size()] = static_cast<char>(rng());
      }
    }
    const DecodeResult decoded = decode(input);
    if (!decoded.ok()) {
      EXPECT_TRUE(decoded.update.empty());
      continue;
    }
    ++accepted;
    TextDoc doc("fuzz");
    doc.apply(decoded.update);
    EXPECT_EQ(doc.text32().size(), doc.length());
  }
  EXPECT_GT(accepted, 0u);
}

}  // namespace
}  // namespace allscene::services::docs
