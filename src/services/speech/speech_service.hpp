// The "speech" cloud service: $services/speech/{recognize,synthesize} and
// /api/v1/services/speech/{recognize,synthesize}.
//
// recognize  {"audio": base64 WAV (16-bit PCM mono, 8–48 kHz, ≤ 30 s),
//             "devices"?: ["Pixel 7", …], "mode"?: "commands" | "general"}
//         -> {"text", "words", "mode", "confidence"?, "ms"}
//   mode defaults to "commands" when device names are given or the caller's
//   owner has devices (the grammar is built from them), else "general".
// synthesize {"text", "rate"?: words per minute 80–450, "voice"?: "en-us",
//             "sample_rate"?: 8000–48000 (default 22050)}
//         -> {"audio": base64 WAV, "sample_rate", "seconds"}
// Errors: 400 bad_audio (bad base64 or WAV), 413 too_long, 400 empty_text,
// 400 bad_request (wrong field types), 400 bad_option, 500 engine_failed.
// Thread-safe, as Service requires.
#pragma once

#include <memory>

#include "services/service.hpp"
#include "services/speech/speech_engine.hpp"

namespace allscene::services::speech {

class SpeechService : public Service {
 public:
  // `hub` (may be null) lists the caller's devices when a request names none.
  explicit SpeechService(ServiceContext context, RecognizerOptions options = {});

  std::string_view name() const override { return "speech"; }
  std::vector<std::string> operations() const override;
  Reply call(const Caller& caller, std::string_view operation,
             const nlohmann::json& request) override;
  std::chrono::milliseconds deadline(std::string_view operation) const override;

  SpeechEngine& engine() { return engine_; }

 private:
  Reply recognize(const Caller& caller, const nlohmann::json& request);
  Reply synthesize(const nlohmann::json& request);

  ServiceContext context_;
  SpeechEngine engine_;
};

}  // namespace allscene::services::speech
