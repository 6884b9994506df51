// Property tests: replicas editing at once, exchanging updates through the
// binary encoding with random delay, reordering and duplication, all end
// with the same text; sequential histories match a plain string.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "services/docs/encoding.hpp"
#include "services/docs/text_doc.hpp"

namespace allscene::services::docs {
namespace {

const std::u32string kAlphabet = U"abcdefgh \u00e9\u4e2d\U0001F642";

std::u32string random_text(std::mt19937& rng) {
  std::u32string out(1 + rng() % 4, U'a');
  for (char32_t& c : out) c = kAlphabet[rng() % kAlphabet.size()];
  return out;
}

// One random local edit; mirrors it on `model` when given.
void random_edit(std::mt19937& rng, TextDoc& doc, std::u32string* model = nullptr) {
  if (doc.length() > 0 && rng() % 3 == 0) {
    const size_t pos = rng() % doc.length();
    const size_t count = 1 + rng() % std::min<size_t>(4, doc.length() - pos);
    doc.remove(pos, count);
    if (model) model->erase(pos, count);
  } else {
    const size_t pos = rng() % (doc.length() + 1);
    const std::u32string text = random_text(rng);
    doc.insert(pos, text);
    if (model) model->insert(pos, text);
  }
}

struct Message {
  size_t to;
  size_t due;  // step at which it may be delivered
  std::string bytes;
};

void deliver(std::vector<TextDoc>& replicas, const Message& m) {
  const DecodeResult decoded = decode(m.bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error;
  const ApplyResult r = replicas[m.to].apply(decoded.update);
  ASSERT_TRUE(r.ok()) << r.error;
}

void run_network(uint32_t seed, size_t replica_count, size_t steps) {
  std::mt19937 rng(seed);
  std::vector<TextDoc> replicas;
  for (size_t i = 0; i < replica_count; ++i) replicas.emplace_back("r" + std::to_string(i));
  std::vector<Message> in_flight;
  for (size_t step = 0; step < steps; ++step) {
    const size_t who = rng() % replica_count;
    TextDoc& doc = replicas[who];
    const Version before = doc.version();
    random_edit(rng, doc);
    const std::string delta = encode(doc.updates_since(before));
    for (size_t to = 0; to < replica_count; ++to) {
      if (to == who) continue;
      const int copies = rng() % 8 == 0 ? 2 : 1;  // sometimes duplicated
      for (int c = 0; c < copies; ++c) in_flight.push_back({to, step + rng() % 20, delta});
    }
    // Now and then a replica asks a peer for everything it lacks (overlaps
    // what is in flight: partly known runs).
    if (rng() % 10 == 0) {
      const size_t from = rng() % replica_count;
      const size_t to = rng() % replica_count;
      if (from != to) {
        in_flight.push_back(
            {to, step, encode(replicas[from].updates_since(replicas[to].version()))});
      }
    }
    // Deliver a random subset of what is due, in random order.
    std::shuffle(in_flight.begin(), in_flight.end(), rng);
    std::vector<Message> later;
    for (Message& m : in_flight) {
      if (m.due <= step && rng() % 2 == 0) {
        deliver(replicas, m);
      } else {
        later.push_back(std::move(m));
      }
    }
    in_flight = std::move(later);
  }
  std::shuffle(in_flight.begin(), in_flight.end(), rng);
  for (const Message& m : in_flight) deliver(replicas, m);
  for (const TextDoc& r : replicas) {
    EXPECT_EQ(r.pending(), 0u) << "seed " << seed;
    EXPECT_EQ(r.version(), replicas[0].version()) << "seed " << seed;
    EXPECT_EQ(r.text(), replicas[0].text()) << "seed " << seed;
    EXPECT_EQ(r.text32().size(), r.length());
  }
  // A newcomer loading the whole document from any replica agrees too.
  TextDoc newcomer("newcomer");
  ASSERT_TRUE(newcomer.apply(decode(encode_document(replicas.back())).update).ok());
  EXPECT_EQ(newcomer.text(), replicas[0].text()) << "seed " << seed;
}

TEST(Convergence, ReplicasWithDelayReorderingAndDuplicatesConverge) {
  for (uint32_t seed = 1; seed <= 25; ++seed) {
    run_network(seed, 3 + seed % 3, 400);
    if (HasFailure()) return;
  }
}

TEST(Convergence, SequentialHistoryMatchesAPlainString) {
  for (uint32_t seed = 100; seed < 110; ++seed) {
    std::mt19937 rng(seed);
    TextDoc doc("solo");
    std::u32string model;
    for (int i = 0; i < 2000; ++i) random_edit(rng, doc, &model);
    ASSERT_EQ(doc.text32(), model) << "seed " << seed;
  }
}

// Several agents taking turns, each seeing the others' edits before its
// own: the result is that of one string edited in the same order.
TEST(Convergence, TurnTakingAgentsMatchAPlainString) {
  for (uint32_t seed = 200; seed < 205; ++seed) {
    std::mt19937 rng(seed);
    std::vector<TextDoc> replicas{TextDoc("a"), TextDoc("b"), TextDoc("c")};
    std::u32string model;
    for (int i = 0; i < 600; ++i) {
      TextDoc& doc = replicas[rng() % replicas.size()];
      for (const TextDoc& other : replicas) {
        if (&other == &doc) continue;
        ASSERT_TRUE(doc.apply(other.updates_since(doc.version())).ok());
      }
      random_edit(rng, doc, &model);
      ASSERT_EQ(doc.text32(), model) << "seed " << seed << " step " << i;
    }
  }
}

}  // namespace
}  // namespace allscene::services::docs
