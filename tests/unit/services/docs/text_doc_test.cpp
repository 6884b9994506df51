#include "services/docs/text_doc.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace allscene::services::docs {
namespace {

// Sends everything `from` has that `to` lacks.
ApplyResult sync(const TextDoc& from, TextDoc& to) {
  return to.apply(from.updates_since(to.version()));
}

TEST(TextDoc, LocalInsertAndRemoveByPosition) {
  TextDoc doc("a");
  doc.insert_utf8(0, "hello");
  doc.insert_utf8(5, " world");
  doc.insert_utf8(0, ">");
  EXPECT_EQ(doc.text(), ">hello world");
  doc.remove(0, 1);
  doc.remove(5, 6);
  EXPECT_EQ(doc.text(), "hello");
  doc.insert_utf8(2, "--");
  EXPECT_EQ(doc.text(), "he--llo");
  EXPECT_EQ(doc.length(), 7u);
}

TEST(TextDoc, PositionsCountCodePoints) {
  TextDoc doc("a");
  doc.insert_utf8(0, "h\xC3\xA9llo \xF0\x9F\x99\x82");  // "héllo 🙂"
  EXPECT_EQ(doc.length(), 7u);
  doc.insert_utf8(2, "!");
  doc.remove(6, 1);  // the space
  EXPECT_EQ(doc.text(), "h\xC3\xA9!llo\xF0\x9F\x99\x82");
}

TEST(TextDoc, PositionsPastTheEndAreProgrammerErrors) {
  TextDoc doc("a");
  doc.insert_utf8(0, "abc");
  EXPECT_THROW(doc.insert_utf8(4, "x"), std::out_of_range);
  EXPECT_THROW(doc.remove(2, 2), std::out_of_range);
  EXPECT_THROW(doc.insert_utf8(0, "\xC3"), std::invalid_argument);
  EXPECT_THROW(doc.insert(0, std::u32string(1, U'\0')), std::invalid_argument);
  EXPECT_EQ(doc.text(), "abc");
}

TEST(TextDoc, VersionCountsOperationsPerAgent) {
  TextDoc doc("a");
  doc.insert_utf8(0, "abc");
  doc.remove(1, 1);
  EXPECT_EQ(doc.version(), (Version{{"a", 4}}));
}

TEST(TextDoc, TypingAndBackspacingMakeOneRunEach) {
  TextDoc doc("a");
  for (char32_t c : std::u32string(U"typing")) doc.insert(doc.length(), std::u32string(1, c));
  for (int i = 0; i < 3; ++i) doc.remove(doc.length() - 1, 1);
  EXPECT_EQ(doc.text(), "typ");
  const Update all = doc.updates_since({});
  ASSERT_EQ(all.ops.size(), 2u);
  EXPECT_EQ(all.ops[0].text, U"typing");
  EXPECT_TRUE(all.ops[1].backward);
  EXPECT_EQ(all.ops[1].len, 3u);
  TextDoc copy("b");
  ASSERT_TRUE(copy.apply(all).ok());
  EXPECT_EQ(copy.text(), "typ");
}

TEST(TextDoc, ConcurrentInsertsAtOnePlaceConvergeInEitherOrder) {
  TextDoc base("base");
  base.insert_utf8(0, "ac");
  TextDoc x("x"), y("y");
  ASSERT_TRUE(sync(base, x).ok());
  ASSERT_TRUE(sync(base, y).ok());
  x.insert_utf8(1, "XX");
  y.insert_utf8(1, "YY");
  TextDoc first("f"), second("s");
  sync(base, first);
  sync(x, first);
  sync(y, first);
  sync(base, second);
  sync(y, second);
  sync(x, second);
  ASSERT_TRUE(sync(y, x).ok());
  ASSERT_TRUE(sync(x, y).ok());
  EXPECT_EQ(x.text(), y.text());
  EXPECT_EQ(first.text(), x.text());
  EXPECT_EQ(second.text(), x.text());
  // Each side's run stays whole (no interleaving of XX and YY).
  EXPECT_TRUE(x.text() == "aXXYYc" || x.text() == "aYYXXc") << x.text();
}

TEST(TextDoc, ConcurrentDeletesOfOneCharacterAreIdempotent) {
  TextDoc x("x");
  x.insert_utf8(0, "abc");
  TextDoc y("y");
  sync(x, y);
  x.remove(1, 1);
  y.remove(1, 2);
  sync(x, y);
  sync(y, x);
  EXPECT_EQ(x.text(), "a");
  EXPECT_EQ(y.text(), "a");
  EXPECT_EQ(x.version(), y.version());
}

TEST(TextDoc, DuplicatesAreSkippedAndPartlyKnownRunsTrimmed) {
  TextDoc x("x");
  x.insert_utf8(0, "abc");
  TextDoc y("y");
  const Update prefix = x.updates_since({});
  x.insert_utf8(3, "def");  // one run "abcdef" in x's log
  ASSERT_TRUE(y.apply(prefix).ok());
  const ApplyResult again = y.apply(prefix);
  EXPECT_EQ(again.duplicates, 1u);
  const ApplyResult whole = y.apply(x.updates_since({}));
  EXPECT_TRUE(whole.ok());
  EXPECT_EQ(whole.applied, 1u);
  EXPECT_EQ(y.text(), "abcdef");
}

TEST(TextDoc, OperationsWaitForTheirDependencies) {
  TextDoc x("x");
  x.insert_utf8(0, "ab");
  const Update first = x.updates_since({});
  const Version v = x.version();
  x.insert_utf8(1, "Z");
  x.remove(0, 1);
  const Update second = x.updates_since(v);
  TextDoc y("y");
  const ApplyResult early = y.apply(second);
  EXPECT_TRUE(early.ok());
  EXPECT_EQ(early.applied, 0u);
  EXPECT_EQ(y.pending(), 2u);
  EXPECT_EQ(y.text(), "");
  const ApplyResult late = y.apply(first);
  EXPECT_EQ(late.applied, 3u);
  EXPECT_EQ(y.pending(), 0u);
  EXPECT_EQ(y.text(), "Zb");
}

// Every run in its own message, delivered newest first: each waits until
// its predecessors arrive, then all apply.
TEST(TextDoc, RunsDeliveredInReverseOrderAllApply) {
  TextDoc x("x");
  std::vector<Update> messages;
  for (size_t i = 0; i < 3000; ++i) {
    const Version before = x.version();
    if (i % 4 == 3) {
      x.remove((i * 31) % x.length(), 1);
    } else {
      x.insert((i * 7) % (x.length() + 1), U"ab");
    }
    messages.push_back(x.updates_since(before));
  }
  TextDoc y("y");
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) ASSERT_TRUE(y.apply(*it).ok());
  EXPECT_EQ(y.pending(), 0u);
  EXPECT_EQ(y.text(), x.text());
}

TEST(TextDoc, UpdatesSinceCarriesOnlyWhatIsMissing) {
  TextDoc x("x");
  x.insert_utf8(0, "abc");
  TextDoc y("y");
  sync(x, y);
  y.insert_utf8(3, "d");
  EXPECT_TRUE(x.updates_since(y.version()).empty());
  const Update missing = y.updates_since(x.version());
  ASSERT_EQ(missing.ops.size(), 1u);
  EXPECT_EQ(missing.ops[0].agent, "y");
  EXPECT_EQ(missing.ops[0].origin, (OpId{"x", 2}));
  const Version upto{{"x", 2}};
  const Update clipped = x.updates_since({}, &upto);
  ASSERT_EQ(clipped.ops.size(), 1u);
  EXPECT_EQ(clipped.ops[0].text, U"ab");
}

TEST(TextDoc, InvalidRemoteOperationsAreRefused) {
  TextDoc x("x");
  x.insert_utf8(0, "ab");
  TextDoc y("y");
  sync(x, y);
  OpRun bad;
  bad.agent = "z";
  bad.len = 1;
  bad.lamport = 1;  // not after its origin's timestamp (x's "b" has 2)
  bad.origin = OpId{"x", 1};
  bad.text = U"!";
  EXPECT_FALSE(y.apply(Update{{bad}}).ok());
  bad.lamport = 5;
  bad.text = U"!!";  // two characters for a run of one
  EXPECT_FALSE(y.apply(Update{{bad}}).ok());
  bad.text = U"!";
  bad.lamport = uint64_t{1} << 40;  // would use up the timestamp space
  EXPECT_FALSE(y.apply(Update{{bad}}).ok());
  OpRun remove;
  remove.kind = OpRun::Kind::remove;
  remove.agent = "z";
  remove.len = 1;
  remove.lamport = 9;
  remove.target = OpId{"x", 7};  // x has no operation 7: waits
  EXPECT_TRUE(y.apply(Update{{remove}}).ok());
  EXPECT_EQ(y.pending(), 1u);
  EXPECT_EQ(y.text(), "ab");
}

// A device that lost its copy and starts numbering again must not have its
// new edits silently taken for duplicates.
TEST(TextDoc, ReusedOperationIdsAreRefused) {
  TextDoc phone("phone");
  phone.insert_utf8(0, "abc");
  TextDoc hub("hub");
  ASSERT_TRUE(sync(phone, hub).ok());
  TextDoc reinstalled("phone");
  reinstalled.insert_utf8(0, "xyz");
  const ApplyResult r = hub.apply(reinstalled.updates_since({}));
  EXPECT_NE(r.error.find("reused"), std::string::npos) << r.error;
  EXPECT_EQ(hub.text(), "abc");
  // The same operations again are plain duplicates.
  EXPECT_TRUE(hub.apply(phone.updates_since({})).ok());
}

TEST(TextDoc, DeleteOfADeleteIsRefused) {
  TextDoc x("x");
  x.insert_utf8(0, "ab");
  x.remove(0, 1);  // x's operation 2
  TextDoc y("y");
  sync(x, y);
  OpRun remove;
  remove.kind = OpRun::Kind::remove;
  remove.agent = "z";
  remove.len = 1;
  remove.lamport = 9;
  remove.target = OpId{"x", 2};
  EXPECT_FALSE(y.apply(Update{{remove}}).ok());
  EXPECT_EQ(y.text(), "b");
}

TEST(TextDoc, ManyEditsSpanManyBlocks) {
  TextDoc doc("a");
  std::u32string model;
  for (size_t i = 0; i < 5000; ++i) {
    const size_t pos = (i * 7919) % (model.size() + 1);
    doc.insert(pos, U"x");
    model.insert(pos, U"x");
    if (i % 3 == 0) {
      const size_t at = (i * 104729) % model.size();
      doc.remove(at, 1);
      model.erase(at, 1);
    }
  }
  EXPECT_EQ(doc.text32(), model);
  EXPECT_GT(doc.item_count(), 128u);
  TextDoc copy("b");
  ASSERT_TRUE(sync(doc, copy).ok());
  EXPECT_EQ(copy.text32(), model);
}

}  // namespace
}  // namespace allscene::services::docs
