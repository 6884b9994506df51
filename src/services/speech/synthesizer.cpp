#include "services/speech/synthesizer.hpp"

#include <espeak-ng/speak_lib.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <vector>
#include <stdexcept>

#include "services/speech/resample.hpp"

namespace allscene::services::speech {
namespace {

// espeak-ng's global state and the lock that serialises it.
struct Engine {
  std::mutex mutex;
  int rate = 0;  // set once by espeak_Initialize
};

// Collects the samples espeak-ng hands to its (global) callback; the
// buffer travels in each event's user_data.
int collect(short* samples, int count, espeak_EVENT* events) {
  if (samples == nullptr || count <= 0 || events == nullptr) return 0;
  auto* out = static_cast<std::vector<std::int16_t>*>(events->user_data);
  if (out != nullptr) out->insert(out->end(), samples, samples + count);
  return 0;  // 0: continue synthesis
}

Engine& engine() {
  static Engine* instance = [] {
    auto* e = new Engine;  // never destroyed: espeak-ng outlives static destructors
    e->rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
    if (e->rate <= 0) {
      throw std::runtime_error("espeak-ng failed to start: is espeak-ng-data installed?");
    }
    espeak_SetSynthCallback(collect);
    return e;
  }();
  return *instance;
}

bool blank(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); });
}

std::optional<SpeechError> check_options(const std::string& text, const SynthesisOptions& o) {
  if (blank(text)) return SpeechError{400, "empty_text", "give the text to speak in \"text\""};
  if (text.size() > Synthesizer::kMaxTextBytes) {
    return SpeechError{413, "too_long",
                       fmt::format("text is {} bytes; split it into parts of at most {} bytes",
                                   text.size(), Synthesizer::kMaxTextBytes)};
  }
  if (o.words_per_minute < espeakRATE_MINIMUM || o.words_per_minute > espeakRATE_MAXIMUM) {
    return SpeechError{400, "bad_option",
                       fmt::format("rate must be {}–{} words per minute", espeakRATE_MINIMUM,
                                   espeakRATE_MAXIMUM)};
  }
  if (o.sample_rate != 0 && (o.sample_rate < 8000 || o.sample_rate > 48000)) {
    return SpeechError{400, "bad_option", "sample_rate must be 8000–48000 Hz"};
  }
  return std::nullopt;
}

}  // namespace

Synthesizer::Synthesizer() { engine(); }

int Synthesizer::native_rate() { return engine().rate; }

Result<PcmAudio> Synthesizer::synthesize(const std::string& text,
                                         const SynthesisOptions& options) const {
  if (auto error = check_options(text, options)) return *error;
  Engine& e = engine();
  PcmAudio audio{e.rate, {}};
  {
    std::lock_guard lock(e.mutex);
    if (espeak_SetVoiceByName(options.voice.c_str()) != EE_OK) {
      return SpeechError{400, "bad_option",
                         fmt::format("unknown voice \"{}\"; try \"en-us\"", options.voice)};
    }
    espeak_SetParameter(espeakRATE, options.words_per_minute, 0);
    if (options.seed != 0) std::srand(options.seed);
    const auto status = espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0,
                                     espeakCHARS_UTF8, nullptr, &audio.samples);
    if (status != EE_OK || espeak_Synchronize() != EE_OK) {
      return SpeechError{500, "engine_failed", "espeak-ng could not speak this text; try again"};
    }
  }
  if (options.sample_rate != 0) return resample(audio, options.sample_rate);
  return audio;
}

}  // namespace allscene::services::speech
