// The spoken evaluation of issue #10: every closed-slot request of
// tests/data/assistant/eval.jsonl is spoken by espeak-ng (16 kHz), heard by
// pocketsphinx with the grammar built from devices.json, and — when the
// assistant's parser is in the build — parsed; intent and slots are compared
// with the label. Word accuracy is against the request as spoken (digits as
// number words). Dev failures are printed; the held-out part only as figures.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "services/speech/speech_engine.hpp"
#include "word_overlap.hpp"

#ifdef SPEECH_WITH_ASSISTANT
#include "eval_set.hpp"
#include "services/assistant/parser.hpp"
#endif

namespace allscene::services::speech {
namespace {

using nlohmann::json;

struct Request {
  std::string text;
  std::string intent;
  json slots;
};

json devices_file() {
  std::ifstream in(std::string(ASSISTANT_DATA_DIR) + "/devices.json");
  return json::parse(in);
}

std::vector<Request> closed_requests(const std::string& split) {
  std::ifstream in(std::string(ASSISTANT_DATA_DIR) + "/eval.jsonl");
  std::vector<Request> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    if (j["closed"].get<bool>() && j["split"] == split)
      out.push_back({j["text"], j["intent"], j["slots"]});
  }
  return out;
}

// What espeak-ng says for the text: digits become number words.
std::string as_spoken(const std::string& text) {
  std::string out;
  for (const auto& w : normalised_words(text)) {
    out += ' ';
    out += (w.front() >= '0' && w.front() <= '9') ? number_words(w) : w;
  }
  return out;
}

struct Score {
  std::size_t n = 0;
  double word_accuracy = 0;          // mean over requests
  std::size_t understood = 0;        // intent and every slot right
  std::size_t typed_understood = 0;  // the same for the typed text (the parser's own share)
  double seconds_of_audio = 0;
  double seconds_decoding = 0;
};

// At most `limit` requests (all if 0), evenly spread.
Score evaluate(const std::string& split, std::size_t limit, bool print_failures) {
  static SpeechEngine engine;
  const json file = devices_file();
  std::vector<DeviceName> devices;
  for (const auto& d : file["devices"]) devices.push_back({d["name"], d["class"]});
#ifdef SPEECH_WITH_ASSISTANT
  const auto context = assistant::testing::eval_context();  // closed requests carry no times
#endif
  auto requests = closed_requests(split);
  const std::size_t stride = limit == 0 || requests.size() <= limit ? 1 : requests.size() / limit;
  Score score;
  for (std::size_t i = 0; i < requests.size(); i += stride) {
    const auto& r = requests[i];
    auto audio = engine.synthesizer().synthesize(
        r.text, {.voice = "en-us+klatt5", .sample_rate = 16000, .seed = 1});
    if (!audio.ok()) ADD_FAILURE() << r.text << ": " << audio.error().message;
    if (!audio.ok()) continue;
    auto heard = engine.recognizer().recognize(audio.value(), devices);
    if (!heard.ok()) ADD_FAILURE() << r.text << ": " << heard.error().message;
    if (!heard.ok()) continue;
    ++score.n;
    score.seconds_of_audio += audio.value().seconds();
    score.seconds_decoding += heard.value().ms / 1000.0;
    const double accuracy = word_accuracy(as_spoken(r.text), heard.value().words);
    score.word_accuracy += accuracy;
    bool understood = false;
#ifdef SPEECH_WITH_ASSISTANT
    const auto parsed = assistant::parse(heard.value().text, context);
    understood = parsed.intent == r.intent && parsed.slots == r.slots;
    const auto typed = assistant::parse(r.text, context);
    score.typed_understood += typed.intent == r.intent && typed.slots == r.slots;
#endif
    score.understood += understood;
    if (print_failures && (!understood || accuracy < 1.0)) {
      std::cout << "  said \"" << r.text << "\" heard \"" << heard.value().text << "\""
                << (understood ? "" : "  [misunderstood]") << "\n";
    }
  }
  if (score.n > 0) score.word_accuracy /= static_cast<double>(score.n);
  std::cout << split << ": " << score.n << " spoken requests, word accuracy " << score.word_accuracy
            << ", understood " << score.understood << " ("
            << (score.n
                    ? 100.0 * static_cast<double>(score.understood) / static_cast<double>(score.n)
                    : 0)
            << "%), typed " << score.typed_understood << ", real-time factor "
            << (score.seconds_of_audio > 0 ? score.seconds_decoding / score.seconds_of_audio : 0)
            << "\n";
  return score;
}

// Under sanitizers the engines run ~10x slower: a fixed, evenly spread subset.
// The subset's floors are looser: 12 requests are a noisy sample.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kLimit = 12;
constexpr double kFloorScale = 0.6;
#else
constexpr std::size_t kLimit = 0;
constexpr double kFloorScale = 1.0;
#endif

TEST(SpokenEvaluation, Dev) {
  const Score s = evaluate("dev", kLimit, true);
  ASSERT_GT(s.n, 0u);
  EXPECT_GE(s.word_accuracy, SPEECH_DEV_WORD_ACCURACY * kFloorScale);
#ifdef SPEECH_WITH_ASSISTANT
  EXPECT_GE(static_cast<double>(s.understood) / static_cast<double>(s.n),
            SPEECH_DEV_UNDERSTOOD * kFloorScale);
#endif
}

TEST(SpokenEvaluation, Heldout) {
  const Score s = evaluate("heldout", kLimit, false);
  ASSERT_GT(s.n, 0u);
  EXPECT_GE(s.word_accuracy, SPEECH_HELDOUT_WORD_ACCURACY * kFloorScale);
#ifdef SPEECH_WITH_ASSISTANT
  EXPECT_GE(static_cast<double>(s.understood) / static_cast<double>(s.n),
            SPEECH_HELDOUT_UNDERSTOOD * kFloorScale);
#endif
}

}  // namespace
}  // namespace allscene::services::speech
