// The evaluation of issue #10: every request of tests/data/assistant/
// eval.jsonl parsed against devices.json; intent accuracy and slot accuracy
// (all slots exactly right) for the dev part and the held-out part. Only
// dev failures are printed: the held-out part is never looked at to tune.
#include <date/tz.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>

#include "eval_set.hpp"

namespace allscene::services::assistant::testing {

using nlohmann::json;

std::chrono::system_clock::time_point parse_iso(const std::string& iso) {
  int y, mo, d, h, mi, s, oh, om;
  char sign;
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d%c%d:%d", &y, &mo, &d, &h, &mi, &s, &sign, &oh,
                  &om) != 9) {
    throw std::invalid_argument("not ISO 8601 with offset: " + iso);
  }
  const auto offset = std::chrono::hours(oh) + std::chrono::minutes(om);
  const auto local = date::sys_days(date::year(y) / mo / d) + std::chrono::hours(h) +
                     std::chrono::minutes(mi) + std::chrono::seconds(s);
  return sign == '-' ? local + offset : local - offset;
}

ParseContext eval_context() {
  std::ifstream in(std::string(ASSISTANT_DATA_DIR) + "/devices.json");
  const json j = json::parse(in);
  ParseContext c;
  for (const auto& d : j["devices"]) {
    DeviceInfo info;
    info.id = d["id"];
    info.name = d["name"];
    info.device_class = d["class"];
    info.online = d["online"];
    info.battery = d["battery"];
    info.capabilities = d["capabilities"].get<std::vector<std::string>>();
    c.devices.push_back(std::move(info));
  }
  c.caller_device = j["caller"];
  c.zone = date::locate_zone(j["timezone"].get<std::string>());
  c.now = parse_iso(j["now"]);
  return c;
}

std::vector<Example> eval_examples() {
  std::ifstream in(std::string(ASSISTANT_DATA_DIR) + "/eval.jsonl");
  std::vector<Example> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    out.push_back({j["text"], j["intent"], j["slots"], j["split"], j["closed"]});
  }
  return out;
}

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
