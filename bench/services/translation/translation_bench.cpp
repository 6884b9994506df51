// Translation engine figures per pair (docs/services/translation.md):
//  - cold: the pair's first request, which starts its pipeline;
//  - warm: a short sentence on the running pipeline, p50/p99 over N requests;
//  - long: words/s for one long text (just under the 64 KiB request cap);
//  - batch: words/s for N short sentences in one batch request.
//
// Usage: allscene_translation_bench [requests]   (default 200)
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "services/translation/translation_engine.hpp"

namespace {

using namespace allscene::services::translation;
using Clock = std::chrono::steady_clock;

struct Workload {
  const char* pair;
  std::vector<std::string> sentences;  // short sentences, cycled through
};

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

size_t count_words(const std::string& text) {
  size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    bool blank = c == ' ' || c == '\n' || c == '\t';
    if (!blank && !in_word) ++words;
    in_word = !blank;
  }
  return words;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

// Translates `texts` in one request; exits on failure (a benchmark of
// errors measures nothing).
double timed(TranslationEngine& engine, const PairInfo& pair,
             const std::vector<std::string>& texts) {
  auto start = Clock::now();
  auto result = engine.translate(pair, texts);
  double ms = ms_since(start);
  if (!result.ok()) {
    fmt::print(stderr, "{}: {}\n", pair.name, result.message);
    std::exit(1);
  }
  return ms;
}

std::string long_text(const Workload& work, size_t max_bytes) {
  std::string text;
  for (size_t i = 0;; ++i) {
    const auto& sentence = work.sentences[i % work.sentences.size()];
    if (text.size() + sentence.size() + 1 > max_bytes) return text;
    text += sentence;
    text += (i % 5 == 4) ? "\n\n" : " ";
  }
}

void run(const Workload& work, size_t requests) {
  TranslationEngine engine;
  const PairInfo* pair = engine.catalog().by_name(work.pair);
  if (pair == nullptr) {
    fmt::print("{:8} not installed (apt-get install apertium-{})\n", work.pair, work.pair);
    return;
  }
  double cold = timed(engine, *pair, {work.sentences[0]});

  std::vector<double> warm;
  size_t warm_words = 0;
  for (size_t i = 0; i < requests; ++i) {
    const auto& sentence = work.sentences[i % work.sentences.size()];
    warm.push_back(timed(engine, *pair, {sentence}));
    warm_words += count_words(sentence);
  }
  double warm_total = 0;
  for (double ms : warm) warm_total += ms;

  const std::string text = long_text(work, engine.options().max_text_bytes - 16);
  double long_ms = timed(engine, *pair, {text});

  std::vector<std::string> batch;
  size_t batch_words = 0;
  for (size_t i = 0; i < requests; ++i) {
    batch.push_back(work.sentences[i % work.sentences.size()]);
    batch_words += count_words(batch.back());
  }
  double batch_ms = timed(engine, *pair, batch);

  fmt::print(
      "{:8} cold {:7.1f} ms | warm p50 {:6.2f} ms p99 {:6.2f} ms ({:6.0f} words/s one by one) | "
      "long {:5.1f} KiB {:7.0f} words/s | batch of {} {:7.0f} words/s | starts {}\n",
      pair->name, cold, percentile(warm, 0.5), percentile(warm, 0.99),
      static_cast<double>(warm_words) / (warm_total / 1000.0),
      static_cast<double>(text.size()) / 1024.0,
      static_cast<double>(count_words(text)) / (long_ms / 1000.0), requests,
      static_cast<double>(batch_words) / (batch_ms / 1000.0), engine.pipeline_starts());
}

}  // namespace

int main(int argc, char** argv) {
  const size_t requests = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200;
  if (requests == 0) {
    fmt::print(stderr, "usage: allscene_translation_bench [requests > 0]\n");
    return 2;
  }
  const std::vector<Workload> workloads{
      {"eng-spa",
       {"The house is big.", "I have a black dog.", "My sister works in a small hospital.",
        "We will travel to the coast next summer.", "The children are playing in the garden.",
        "Please send me the report before Friday.",
        "The weather was cold and the streets were empty.", "She reads a book every week."}},
      {"fr-es",
       {"Le chat est noir.", "Le garçon mange une pomme.",
        "Ma sœur travaille dans un petit hôpital.", "Nous voyagerons sur la côte l'été prochain.",
        "Les enfants jouent dans le jardin.", "Envoyez-moi le rapport avant vendredi.",
        "Il faisait froid et les rues étaient vides.", "Elle lit un livre chaque semaine."}},
  };
  fmt::print("Apertium translation engine, {} requests per measure\n", requests);
  for (const auto& work : workloads) run(work, requests);
  return 0;
}
