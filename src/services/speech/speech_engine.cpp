#include "services/speech/speech_engine.hpp"

#include <fmt/format.h>

namespace allscene::services::speech {

SpeechEngine::SpeechEngine(RecognizerOptions options) : recognizer_(std::move(options)) {}

Result<Recognition> SpeechEngine::recognize_wav(const std::string& wav,
                                                const std::vector<DeviceName>& devices) {
  if (wav.size() > kMaxWavBytes) {
    return SpeechError{413, "too_long",
                       fmt::format("the WAV is {} bytes; send at most {} (30 s of audio)",
                                   wav.size(), kMaxWavBytes)};
  }
  auto audio = read_wav(wav);
  if (!audio.ok()) return audio.error();
  if (devices.empty()) return recognizer_.recognize(audio.value());
  return recognizer_.recognize(audio.value(), devices);
}

Result<std::string> SpeechEngine::synthesize_wav(const std::string& text,
                                                 const SynthesisOptions& options) {
  auto audio = synthesizer_.synthesize(text, options);
  if (!audio.ok()) return audio.error();
  return write_wav(audio.value());
}

}  // namespace allscene::services::speech
