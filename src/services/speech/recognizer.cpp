#include "services/speech/recognizer.hpp"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/jsgf.h>
#include <sphinxbase/ngram_model.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "services/speech/resample.hpp"

namespace allscene::services::speech {

namespace {

constexpr int kModelRate = 16000;
constexpr const char* kGrammarSearch = "commands";
constexpr const char* kFallbackSearch = "loose";

// pocketsphinx logs every step to stderr through one global setting.
void silence_engine_logs() {
  static std::once_flag once;
  std::call_once(once, [] { err_set_logfp(nullptr); });
}

struct ConfigDeleter {
  void operator()(cmd_ln_t* c) const { cmd_ln_free_r(c); }
};
struct JsgfDeleter {
  void operator()(jsgf_t* j) const { jsgf_grammar_free(j); }
};
struct DecoderDeleter {
  void operator()(ps_decoder_t* d) const { ps_free(d); }
};

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

}  // namespace

// One pocketsphinx decoder: not thread-safe itself, so decode() holds its
// mutex for the whole utterance.
class Decoder {
 public:
  // `dict` and `lm` may be empty (the words then come from add_words).
  Decoder(const RecognizerOptions& o, const std::string& dict, const std::string& lm) {
    silence_engine_logs();
    const std::string hmm = (o.model_dir / o.acoustic_model).string();
    std::vector<std::string> args{"-hmm", hmm};
    if (!dict.empty()) args.insert(args.end(), {"-dict", dict});
    if (!lm.empty()) args.insert(args.end(), {"-lm", lm});
    const auto& tuning = dict.empty() ? o.grammar_args : o.general_args;
    args.insert(args.end(), tuning.begin(), tuning.end());
    std::vector<char*> argv;
    argv.reserve(args.size());
    for (auto& a : args) argv.push_back(a.data());
    std::unique_ptr<cmd_ln_t, ConfigDeleter> config(
        cmd_ln_parse_r(nullptr, ps_args(), static_cast<int32>(argv.size()), argv.data(), TRUE));
    if (!config) throw std::runtime_error("pocketsphinx rejected its configuration");
    decoder_.reset(ps_init(config.get()));
    if (!decoder_) throw std::runtime_error("pocketsphinx could not load the model in " + hmm);
  }

  void add_words(const std::vector<std::pair<std::string, std::string>>& words) {
    for (std::size_t i = 0; i < words.size(); ++i) {
      const bool last = i + 1 == words.size();
      if (ps_add_word(decoder_.get(), words[i].first.c_str(), words[i].second.c_str(),
                      last ? TRUE : FALSE) < 0) {
        throw std::runtime_error("pocketsphinx refused the word " + words[i].first);
      }
    }
  }

  // ps_set_jsgf_string of 5prealpha leaks the parsed grammar (LeakSanitizer),
  // so the grammar is parsed, turned into a finite-state grammar and freed
  // here; the decoder keeps its own reference to the FSG.
  // The structured grammar is the decoder's search; a fallback grammar, if
  // given, is decoded only when the structured search finds nothing.
  void use_grammars(const std::string& text, const std::string& fallback) {
    add_grammar(kFallbackSearch, fallback.empty() ? text : fallback);
    add_grammar(kGrammarSearch, text);
    has_fallback_ = !fallback.empty();
    if (ps_set_search(decoder_.get(), kGrammarSearch) != 0) {
      throw std::runtime_error("pocketsphinx rejected the command grammar");
    }
  }

  void add_grammar(const char* search, const std::string& text) {
    std::unique_ptr<jsgf_t, JsgfDeleter> jsgf(jsgf_parse_string(text.c_str(), nullptr));
    jsgf_rule_t* rule = jsgf ? jsgf_get_public_rule(jsgf.get()) : nullptr;
    if (rule == nullptr) throw std::runtime_error("pocketsphinx rejected the command grammar");
    const auto lw = static_cast<float>(cmd_ln_float32_r(ps_get_config(decoder_.get()), "-lw"));
    fsg_model_t* fsg = jsgf_build_fsg(jsgf.get(), rule, ps_get_logmath(decoder_.get()), lw);
    const bool ok = fsg != nullptr && ps_set_fsg(decoder_.get(), search, fsg) == 0;
    if (fsg != nullptr) fsg_model_free(fsg);
    if (!ok) throw std::runtime_error("pocketsphinx rejected the command grammar");
  }

  Result<Recognition> decode(const std::vector<std::int16_t>& samples) {
    std::lock_guard lock(mutex_);
    const auto start = std::chrono::steady_clock::now();
    auto first = decode_once(samples);
    if (!first.ok()) return first;
    Recognition out = std::move(first).value();
    if (out.words.empty() && has_fallback_) {
      ps_set_search(decoder_.get(), kFallbackSearch);
      auto second = decode_once(samples);
      ps_set_search(decoder_.get(), kGrammarSearch);
      if (!second.ok()) return second;
      out = std::move(second).value();
    }
    out.ms = elapsed_ms(start);
    return out;
  }

 private:
  // One pass of the current search over the utterance; the caller holds
  // the mutex.
  Result<Recognition> decode_once(const std::vector<std::int16_t>& samples) {
    ps_decoder_t* ps = decoder_.get();
    // full_utt FALSE: frames go through the live path (cepstral mean from
    // the model's initial estimate, updated as it goes); the whole-utterance
    // path was 3–4 points worse in word accuracy on the dev split.
    if (ps_start_utt(ps) < 0 ||
        ps_process_raw(ps, samples.data(), samples.size(), FALSE, FALSE) < 0 ||
        ps_end_utt(ps) < 0) {
      return SpeechError{500, "engine_failed", "pocketsphinx failed on this audio; try again"};
    }
    Recognition out;
    std::int32_t score = 0;
    if (const char* hyp = ps_get_hyp(ps, &score)) out.words = hyp;
    out.text = out.words;
    const double probability = logmath_exp(ps_get_logmath(ps), ps_get_prob(ps));
    if (probability > 0.0 && probability <= 1.0 && !out.words.empty()) {
      out.confidence = probability;
    }
    return out;
  }

  std::mutex mutex_;
  std::unique_ptr<ps_decoder_t, DecoderDeleter> decoder_;
  bool has_fallback_ = false;
};

struct Recognizer::Cached {
  std::string key;
  CommandGrammar grammar;
  std::unique_ptr<Decoder> decoder;
};

namespace {

// Devices in a canonical order, so the same set always finds its decoder.
std::string cache_key(const std::vector<DeviceName>& devices) {
  std::vector<std::string> parts;
  parts.reserve(devices.size());
  for (const auto& d : devices) parts.push_back(d.name + '\x1f' + d.device_class);
  std::sort(parts.begin(), parts.end());
  parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
  std::string key;
  for (const auto& p : parts) key += p + '\x1e';
  return key;
}

// `pcm` with `seconds` of quiet on each side: ±2 LSB of fixed
// pseudo-random noise (deterministic, so results repeat).
PcmAudio padded(PcmAudio pcm, double seconds) {
  const auto n = static_cast<std::size_t>(std::max(0.0, seconds) * pcm.sample_rate);
  if (n == 0) return pcm;
  std::vector<std::int16_t> out;
  out.reserve(pcm.samples.size() + 2 * n);
  std::uint32_t state = 12345;
  auto quiet = [&state] {
    state = state * 1103515245u + 12345u;
    return static_cast<std::int16_t>(static_cast<int>((state >> 16) % 5) - 2);
  };
  for (std::size_t i = 0; i < n; ++i) out.push_back(quiet());
  out.insert(out.end(), pcm.samples.begin(), pcm.samples.end());
  for (std::size_t i = 0; i < n; ++i) out.push_back(quiet());
  pcm.samples = std::move(out);
  return pcm;
}

}  // namespace

Recognizer::Recognizer(RecognizerOptions options)
    : options_(std::move(options)), dictionary_(options_.model_dir / options_.dictionary) {}

Recognizer::~Recognizer() = default;

Decoder& Recognizer::general_decoder() {
  std::call_once(general_once_, [this] {
    general_ = std::make_unique<Decoder>(options_, (options_.model_dir / options_.dictionary).string(),
                                         (options_.model_dir / options_.language_model).string());
  });
  return *general_;
}

std::shared_ptr<Recognizer::Cached> Recognizer::grammar_decoder(
    const std::vector<DeviceName>& devices) {
  const std::string key = cache_key(devices);
  {
    std::lock_guard lock(cache_mutex_);
    auto it = std::find_if(cache_.begin(), cache_.end(), [&](auto& c) { return c->key == key; });
    if (it != cache_.end()) {
      cache_.splice(cache_.begin(), cache_, it);
      return cache_.front();
    }
  }
  // Built outside the lock: other device sets keep decoding meanwhile. Two
  // callers racing on a new set both build; the second one's is dropped.
  auto fresh = std::make_shared<Cached>();
  fresh->key = key;
  fresh->grammar = build_command_grammar(devices, dictionary_, word_weights());
  fresh->decoder = std::make_unique<Decoder>(options_, "", "");
  fresh->decoder->add_words(fresh->grammar.words);
  fresh->decoder->use_grammars(fresh->grammar.jsgf, fresh->grammar.fallback_jsgf);

  std::lock_guard lock(cache_mutex_);
  auto it = std::find_if(cache_.begin(), cache_.end(), [&](auto& c) { return c->key == key; });
  if (it != cache_.end()) return *it;
  cache_.push_front(fresh);
  while (cache_.size() > std::max<std::size_t>(1, options_.cached_grammars)) cache_.pop_back();
  return fresh;
}

// The unigram probabilities of the request vocabulary in the general
// language model, read once at the first grammar build (the 27 MB model is
// freed again).
const WordWeights& Recognizer::word_weights() {
  std::call_once(weights_once_, [this] {
    silence_engine_logs();
    logmath_t* lmath = logmath_init(1.0001, 0, 0);
    const std::string path = (options_.model_dir / options_.language_model).string();
    ngram_model_t* lm = ngram_model_read(nullptr, path.c_str(), NGRAM_AUTO, lmath);
    if (lm == nullptr) {
      logmath_free(lmath);
      throw std::runtime_error("cannot read the language model " + path);
    }
    for (const auto& word : request_vocabulary()) {
      if (ngram_wid(lm, word.c_str()) == ngram_unknown_wid(lm)) continue;
      weights_[word] = logmath_exp(lmath, ngram_score(lm, word.c_str(), nullptr));
    }
    ngram_model_free(lm);
    logmath_free(lmath);
  });
  return weights_;
}

void Recognizer::prepare(const std::vector<DeviceName>& devices) { grammar_decoder(devices); }

std::size_t Recognizer::cached_grammars() const {
  std::lock_guard lock(cache_mutex_);
  return cache_.size();
}

Result<PcmAudio> Recognizer::to_model_rate(const PcmAudio& audio) const {
  if (audio.samples.empty()) return bad_audio("the WAV holds no samples; record the request again");
  if (audio.seconds() > options_.max_seconds) {
    return SpeechError{413, "too_long",
                       fmt::format("audio is {:.1f} s; send at most {:.0f} s per request",
                                   audio.seconds(), options_.max_seconds)};
  }
  return padded(resample(audio, kModelRate), options_.pad_seconds);
}

namespace {

SpeechError decoder_failed(const std::exception& e) {
  return {500, "engine_failed", std::string("the recognizer could not start: ") + e.what() +
                                    "; tell the hub's operator"};
}

}  // namespace

Result<Recognition> Recognizer::recognize(const PcmAudio& audio) {
  auto pcm = to_model_rate(audio);
  if (!pcm.ok()) return pcm.error();
  try {
    return general_decoder().decode(pcm.value().samples);
  } catch (const std::exception& e) {
    return decoder_failed(e);
  }
}

Result<Recognition> Recognizer::recognize(const PcmAudio& audio,
                                          const std::vector<DeviceName>& devices) {
  auto pcm = to_model_rate(audio);
  if (!pcm.ok()) return pcm.error();
  std::shared_ptr<Cached> cached;
  try {
    cached = grammar_decoder(devices);
  } catch (const std::exception& e) {
    return decoder_failed(e);
  }
  auto result = cached->decoder->decode(pcm.value().samples);
  if (!result.ok()) return result;
  Recognition out = std::move(result).value();
  // A grammar's posterior is 1 whatever was said (measured): no confidence.
  out.confidence.reset();
  out.text = restore_names_and_numbers(out.words, cached->grammar);
  out.guessed = cached->grammar.guessed;
  return out;
}

}  // namespace allscene::services::speech
