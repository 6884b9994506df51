#include "services/translation/translation_engine.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/locale/encoding_utf.hpp>

#include "log/module_log.hpp"
#include "services/translation/stream_format.hpp"

namespace allscene::services::translation {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kModeLookupTimeout{5000};

bool only_whitespace(std::string_view text) {
  return text.find_first_not_of(" \t\n\r\v\f") == std::string_view::npos;
}

bool valid_utf8(const std::string& text) {
  try {
    boost::locale::conv::utf_to_utf<char>(text, boost::locale::conv::stop);
    return true;
  } catch (const boost::locale::conv::conversion_error&) {
    return false;
  }
}

// Apertium passes bytes through; keep what reaches JSON valid UTF-8.
std::string drop_invalid_utf8(const std::string& text) {
  return boost::locale::conv::utf_to_utf<char>(text, boost::locale::conv::skip);
}

TranslateResult refuse(Failure failure, std::string message) {
  return {failure, std::move(message), {}};
}

}  // namespace

TranslationEngine::TranslationEngine(EngineOptions options)
    : options_(std::move(options)), catalog_(options_.modes_dir, options_.iso_codes_file) {
  for (const auto& pair : catalog_.pairs()) slots_.emplace(pair.name, std::make_unique<Slot>());
  module_log().info("translation: {} Apertium pairs in {}: {}", catalog_.pairs().size(),
                    options_.modes_dir.string(), catalog_.names());
}

TranslationEngine::~TranslationEngine() {
  for (auto& [name, slot] : slots_) {
    std::lock_guard lock(slot->mutex);
    slot->pipeline.reset();
  }
}

TranslateResult TranslationEngine::check(const std::vector<std::string>& texts) const {
  if (texts.empty()) return refuse(Failure::empty_text, "there is no text to translate");
  if (texts.size() > options_.max_batch_texts) {
    return refuse(Failure::too_many_texts, fmt::format("a batch holds at most {} texts; split it",
                                                       options_.max_batch_texts));
  }
  size_t total = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto& text = texts[i];
    const std::string which = texts.size() == 1 ? "the text" : fmt::format("text {}", i);
    if (only_whitespace(text)) {
      return refuse(Failure::empty_text, fmt::format("{} is empty; send some words", which));
    }
    if (text.find('\0') != std::string::npos) {
      return refuse(Failure::bad_text, fmt::format("{} contains a NUL byte; remove it", which));
    }
    if (!valid_utf8(text)) {
      return refuse(Failure::bad_text, fmt::format("{} is not valid UTF-8", which));
    }
    total += text.size();
  }
  if (total > options_.max_text_bytes) {
    return refuse(Failure::text_too_long,
                  fmt::format("{} bytes of text; one request may carry at most {} bytes, split it",
                              total, options_.max_text_bytes));
  }
  return {};
}

TranslateResult TranslationEngine::translate(const PairInfo& pair,
                                             const std::vector<std::string>& texts,
                                             bool mark_unknown) {
  const auto deadline = Clock::now() + options_.request_timeout;
  auto slot = slots_.find(pair.name);
  if (slot == slots_.end()) {
    return refuse(Failure::engine_failed, fmt::format("{} is not an installed pair", pair.name));
  }
  if (auto refused = check(texts); !refused.ok()) return refused;

  std::vector<std::string> requests;
  requests.reserve(texts.size());
  for (const auto& text : texts) requests.push_back(to_stream(text));

  ExchangeResult exchanged;
  {
    // Time out while waiting, and do not start on a pipeline with no time
    // left: timing out there would kill a healthy pipeline.
    std::unique_lock lock(slot->second->mutex, deadline);
    if (!lock.owns_lock() || Clock::now() >= deadline) {
      return refuse(Failure::engine_timeout,
                    fmt::format("Apertium ({}) was busy with other requests for {} ms; retry "
                                "later or send fewer requests at once",
                                pair.name, options_.request_timeout.count()));
    }
    exchanged = exchange_locked(*slot->second, pair, requests, deadline);
  }
  if (exchanged.status == ExchangeResult::Status::timed_out) {
    return refuse(
        Failure::engine_timeout,
        fmt::format("Apertium ({}) did not answer within {} ms; send shorter text or "
                    "retry (the pipeline was killed; the next request starts a fresh one)",
                    pair.name, options_.request_timeout.count()));
  }
  if (exchanged.status == ExchangeResult::Status::failed) {
    return refuse(Failure::engine_failed,
                  fmt::format("Apertium ({}) failed: {}; retry later", pair.name, exchanged.error));
  }
  TranslateResult result;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto plain = from_stream(exchanged.outputs[i], mark_unknown, texts[i]);
    for (auto& word : plain.unknown) word = drop_invalid_utf8(word);
    result.translations.push_back({drop_invalid_utf8(plain.text), std::move(plain.unknown)});
  }
  return result;
}

bool TranslationEngine::start_locked(Slot& slot, const PairInfo& pair, std::string& error) {
  if (slot.stages.empty()) {
    // apertium-wblank-mode -z rewrites the mode's pipeline with every stage
    // in null-flush mode, as `apertium -z` runs it.
    std::string command;
    if (!capture_output({"apertium-wblank-mode", "-z", pair.mode_file.string()}, kModeLookupTimeout,
                        command, error)) {
      return false;
    }
    slot.stages = parse_mode_pipeline(command, "-g");
  }
  slot.pipeline = Pipeline::start(slot.stages, error);
  if (!slot.pipeline) return false;
  pipeline_starts_.fetch_add(1);
  module_log().debug("translation: started the {} pipeline ({} stages)", pair.name,
                     slot.stages.size());
  return true;
}

ExchangeResult TranslationEngine::send_locked(Slot& slot, const std::vector<std::string>& requests,
                                              std::chrono::steady_clock::time_point deadline) {
  auto result = slot.pipeline->exchange(requests, deadline);
  if (result.status == ExchangeResult::Status::ok &&
      !std::all_of(result.outputs.begin(), result.outputs.end(), is_complete_answer)) {
    return {ExchangeResult::Status::failed, {}, "the Apertium pipeline cut an answer short"};
  }
  return result;
}

ExchangeResult TranslationEngine::exchange_locked(Slot& slot, const PairInfo& pair,
                                                  const std::vector<std::string>& requests,
                                                  Clock::time_point deadline) {
  if (slot.pipeline && !slot.pipeline->healthy()) {
    module_log().warn("translation: the {} pipeline died while idle; restarting it", pair.name);
    slot.pipeline.reset();
  }
  const bool warm = slot.pipeline != nullptr;
  std::string error;
  if (!warm && !start_locked(slot, pair, error)) {
    return {ExchangeResult::Status::failed, {}, error};
  }
  auto result = send_locked(slot, requests, deadline);
  if (result.status == ExchangeResult::Status::failed && warm) {
    module_log().warn("translation: the {} pipeline failed ({}); restarting it", pair.name,
                      result.error);
    slot.pipeline.reset();
    if (!start_locked(slot, pair, error)) return {ExchangeResult::Status::failed, {}, error};
    result = send_locked(slot, requests, deadline);
  }
  if (result.status != ExchangeResult::Status::ok) {
    module_log().warn("translation: the {} pipeline is killed: {}", pair.name, result.error);
    slot.pipeline.reset();
  }
  return result;
}

std::vector<pid_t> TranslationEngine::pipeline_pids(std::string_view pair) {
  auto slot = slots_.find(pair);
  if (slot == slots_.end()) return {};
  std::lock_guard lock(slot->second->mutex);
  return slot->second->pipeline ? slot->second->pipeline->pids() : std::vector<pid_t>{};
}

}  // namespace allscene::services::translation
