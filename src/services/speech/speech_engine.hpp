// The speech API for code in the hub's process (the assistant calls it
// directly; SpeechService puts it on the wire). WAV in, text out; text in,
// WAV out.
//
//   SpeechEngine speech;                                  // loads the dictionary
//   auto heard = speech.recognize_wav(wav, {{"Pixel 7", "phone"}});
//   if (heard.ok()) parse(heard.value().text);            // "ring my Pixel 7"
//   auto spoken = speech.synthesize_wav("Ringing your Pixel 7");
//
// recognize_wav with no devices uses the general language model; with
// devices, the closed-slot grammar built from them (see grammar.hpp).
// Errors (Result): 400 bad_audio (not a 16-bit mono PCM WAV, or empty),
// 413 too_long (over kMaxWavBytes or max_seconds), 400 empty_text,
// 413 too_long (text), 400 bad_option, 500 engine_failed.
// Thread-safe: one SpeechEngine serves every thread (see Recognizer and
// Synthesizer for what runs in parallel and what is serialised).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "services/speech/recognizer.hpp"
#include "services/speech/synthesizer.hpp"

namespace allscene::services::speech {

class SpeechEngine {
 public:
  // 30 s of 48 kHz 16-bit mono plus headers; larger requests are 413.
  static constexpr std::size_t kMaxWavBytes = 4u << 20;

  // Throws std::runtime_error if a model, dictionary or espeak-ng's data is missing.
  explicit SpeechEngine(RecognizerOptions options = {});

  Result<Recognition> recognize_wav(const std::string& wav,
                                    const std::vector<DeviceName>& devices = {});
  // A 16-bit mono WAV; options.sample_rate 0 keeps espeak-ng's 22,050 Hz.
  Result<std::string> synthesize_wav(const std::string& text, const SynthesisOptions& options = {});

  Recognizer& recognizer() { return recognizer_; }
  const Synthesizer& synthesizer() const { return synthesizer_; }

 private:
  Recognizer recognizer_;
  Synthesizer synthesizer_;
};

}  // namespace allscene::services::speech
