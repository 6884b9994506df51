// The speech layer's error style: every fallible call returns a Result<T>,
// either a value or a SpeechError carrying the HTTP-style status, the stable
// code word and the message the service hands back unchanged. Nothing in
// this layer throws for bad input; exceptions mean a broken installation
// (missing model files) and are thrown only while engines start.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace allscene::services::speech {

struct SpeechError {
  int status = 400;
  std::string code;     // "bad_audio", "too_long", "empty_text", …
  std::string message;  // what went wrong and what to do next
};

template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}                // NOLINT: implicit by design
  Result(SpeechError error) : state_(std::move(error)) {}      // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const SpeechError& error() const { return std::get<SpeechError>(state_); }

 private:
  std::variant<T, SpeechError> state_;
};

inline SpeechError bad_audio(std::string message) {
  return {400, "bad_audio", std::move(message)};
}

}  // namespace allscene::services::speech
