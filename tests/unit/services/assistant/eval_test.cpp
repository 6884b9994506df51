// The evaluation of issue #10: every request of tests/data/assistant/
// eval.jsonl parsed against devices.json; intent accuracy and slot accuracy
// (all slots exactly right) for the dev part and the held-out part. Only
// dev failures are printed: the held-out part is never looked at to tune.
#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "eval_set.hpp"

namespace allscene::services::assistant::testing {

using nlohmann::json;

namespace {

struct Score {
  int total = 0;
  int intent = 0;
  int slots = 0;  // intent and every slot exactly right
  double intent_accuracy() const { return total ? double(intent) / total : 0; }
  double slot_accuracy() const { return total ? double(slots) / total : 0; }
};

TEST(AssistantEvaluation, SetIsLargeVariedAndSplit) {
  const auto examples = eval_examples();
  ASSERT_GE(examples.size(), 360u);
  int dev = 0;
  int unknown = 0;
  for (const auto& e : examples) {
    dev += e.split == "dev";
    unknown += e.intent == "unknown";
  }
  EXPECT_NEAR(dev, static_cast<int>(examples.size()) / 2, 1);
  EXPECT_GE(unknown, 20);
}

TEST(AssistantEvaluation, IntentAndSlotAccuracy) {
  const ParseContext context = eval_context();
  std::map<std::string, Score> scores;
  for (const auto& e : eval_examples()) {
    const ParseResult got = parse(e.text, context);
    const bool intent_ok = got.intent == e.intent;
    const bool slots_ok = intent_ok && got.slots == e.slots;
    for (const std::string& part : {e.split, e.split + (e.closed ? "_closed" : "_open")}) {
      auto& s = scores[part];
      ++s.total;
      s.intent += intent_ok;
      s.slots += slots_ok;
    }
    if (e.split == "dev" && !slots_ok) {
      std::cout << "dev miss: \"" << e.text << "\" want " << e.intent << " " << e.slots.dump()
                << " got " << got.intent << " " << got.slots.dump() << "\n";
    }
  }
  for (const auto& [part, s] : scores) {
    std::cout << part << ": " << s.total << " requests, intent " << 100 * s.intent_accuracy()
              << "%, intent+slots " << 100 * s.slot_accuracy() << "%\n";
    RecordProperty(part + "_intent_accuracy", std::to_string(s.intent_accuracy()));
    RecordProperty(part + "_slot_accuracy", std::to_string(s.slot_accuracy()));
  }
  // The target for text, on the part never used for tuning.
  EXPECT_GE(scores["heldout"].intent_accuracy(), 0.95);
  EXPECT_GE(scores["heldout"].slot_accuracy(), 0.95);
}

}  // namespace
}  // namespace allscene::services::assistant::testing
