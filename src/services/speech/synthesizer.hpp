// Text to speech with espeak-ng. espeak-ng keeps its voice, rate and output
// callback in process-wide state, so every Synthesizer in the process shares
// one engine behind one mutex: synthesis is serialised, the API is safe from
// any thread, and the engine is initialised once, on first use.
#pragma once

#include <cstddef>
#include <string>

#include "services/speech/result.hpp"
#include "services/speech/wav.hpp"

namespace allscene::services::speech {

struct SynthesisOptions {
  std::string voice = "en-us";  // an espeak-ng voice name
  int words_per_minute = 175;   // espeak-ng accepts 80–450
  int sample_rate = 0;          // 0: espeak-ng's own (22,050 Hz); otherwise resampled
  // espeak-ng's Klatt voices add noise from the C library's rand(), so the
  // same text sounds slightly different each time. A seed makes it repeat
  // (for tests and measurements) by calling srand(seed) first — which also
  // reseeds rand() for the rest of the process; 0 leaves it alone.
  unsigned seed = 0;
};

class Synthesizer {
 public:
  static constexpr std::size_t kMaxTextBytes = 2000;

  // Throws std::runtime_error if espeak-ng's data cannot be found.
  Synthesizer();

  // Errors: 400 empty_text (nothing but spaces), 413 too_long (above
  // kMaxTextBytes), 400 bad_option (unknown voice, rate or sample rate out
  // of range), 500 engine_failed.
  Result<PcmAudio> synthesize(const std::string& text, const SynthesisOptions& options = {}) const;

  // espeak-ng's native output rate.
  static int native_rate();
};

}  // namespace allscene::services::speech
