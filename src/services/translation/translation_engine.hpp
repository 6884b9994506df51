// Translation with Apertium: the installed pairs (PairCatalog) and one warm
// pipeline per pair, started on the pair's first request and kept for the
// next ones, so a short sentence costs a round trip through running
// processes, never a process start.
//
// Failures: a pipeline found dead between requests is replaced before the
// request is sent; one that dies during a request of a warm pipeline is
// replaced and the request sent once more (translation has no side
// effects); one that fails again, or does not answer before the request
// timeout, is killed and the caller gets engine_failed / engine_timeout.
// Bad input is refused before it reaches a pipeline: Failure, never an
// exception.
//
// Thread-safety: every member may be called from any thread. Requests for
// one pair take turns on its pipeline (one mutex per pair); different
// pairs run in parallel. A request's timeout counts from its call, waiting
// for its turn included, so a queue behind a hung pipeline drains in one
// timeout rather than one per waiting caller. Destroying the engine kills
// every pipeline.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "services/translation/pair_catalog.hpp"
#include "services/translation/pipeline.hpp"

namespace allscene::services::translation {

struct EngineOptions {
  std::filesystem::path modes_dir{kDefaultModesDir};
  std::filesystem::path iso_codes_file{kDefaultIsoCodesFile};
  // How long one request (a text or a whole batch) may take, waiting for
  // its pair's pipeline included.
  std::chrono::milliseconds request_timeout{8000};
  // The most text one request may carry: one text, or a batch's total.
  size_t max_text_bytes = 64 * 1024;
  size_t max_batch_texts = 256;
};

enum class Failure {
  none,
  empty_text,      // a text is empty or only whitespace
  text_too_long,   // over max_text_bytes
  bad_text,        // NUL bytes or invalid UTF-8
  too_many_texts,  // a batch over max_batch_texts
  engine_failed,   // the pipeline could not start or died
  engine_timeout,  // the pipeline did not answer in time
};

struct Translation {
  std::string text;
  std::vector<std::string> unknown;  // words Apertium could not translate
};

struct TranslateResult {
  Failure failure = Failure::none;
  std::string message;                    // when failed: what happened and what to do
  std::vector<Translation> translations;  // one per text, when not failed
  bool ok() const { return failure == Failure::none; }
};

class TranslationEngine {
 public:
  explicit TranslationEngine(EngineOptions options = {});
  ~TranslationEngine();
  TranslationEngine(const TranslationEngine&) = delete;
  TranslationEngine& operator=(const TranslationEngine&) = delete;

  const PairCatalog& catalog() const { return catalog_; }
  const EngineOptions& options() const { return options_; }

  // Translates every text with `pair` (one of catalog().pairs()) in one
  // pass through its pipeline. `mark_unknown` keeps Apertium's * # @ marks
  // on untranslated words; they are reported in Translation::unknown either
  // way.
  TranslateResult translate(const PairInfo& pair, const std::vector<std::string>& texts,
                            bool mark_unknown = false);

  // How many pipelines have been started, all pairs together.
  uint64_t pipeline_starts() const { return pipeline_starts_.load(); }
  // The process ids of a pair's running pipeline (empty if none).
  std::vector<pid_t> pipeline_pids(std::string_view pair);

 private:
  struct Slot {
    std::timed_mutex mutex;
    std::unique_ptr<Pipeline> pipeline;  // guarded by mutex
    std::vector<Argv> stages;            // guarded by mutex; found on first start
  };

  TranslateResult check(const std::vector<std::string>& texts) const;
  // With slot.mutex held.
  bool start_locked(Slot& slot, const PairInfo& pair, std::string& error);
  // One exchange; an answer cut short (a stage died) counts as a failure.
  ExchangeResult send_locked(Slot& slot, const std::vector<std::string>& requests,
                             std::chrono::steady_clock::time_point deadline);
  ExchangeResult exchange_locked(Slot& slot, const PairInfo& pair,
                                 const std::vector<std::string>& requests,
                                 std::chrono::steady_clock::time_point deadline);

  const EngineOptions options_;
  const PairCatalog catalog_;
  std::map<std::string, std::unique_ptr<Slot>, std::less<>> slots_;  // one per pair; fixed
  std::atomic<uint64_t> pipeline_starts_{0};
};

}  // namespace allscene::services::translation
