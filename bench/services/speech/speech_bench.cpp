// Speech engine figures: synthesis and recognition real-time factors
// (processing time / audio duration; below 1 is faster than real time) and
// the time to build a grammar decoder for a new device set.
// Usage: allscene_speech_bench [repetitions]
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "services/speech/speech_engine.hpp"

namespace speech = allscene::services::speech;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

const std::vector<std::string> kRequests = {
    "play music on the living room speaker", "set the volume to 50", "ring my watch",
    "skip to the next track on the bedroom speaker", "what is the battery of Galaxy Tab",
    "send my clipboard to the laptop"};

std::vector<speech::DeviceName> devices(int variant) {
  return {{"Pixel", "phone"}, {"Work laptop", "laptop"}, {"Galaxy Tab", "tablet"},
          {"Kitchen display", "display"}, {"Watch", "wearable"},
          {"Living room speaker " + std::to_string(variant), "audio"}};
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const auto start_load = std::chrono::steady_clock::now();
  speech::SpeechEngine engine;
  std::cout << "dictionary load: " << seconds_since(start_load) * 1000 << " ms\n";

  double audio_s = 0, synth_s = 0, grammar_s = 0, general_s = 0;
  std::vector<speech::PcmAudio> clips;
  for (int r = 0; r < reps; ++r) {
    for (const auto& text : kRequests) {
      const auto t = std::chrono::steady_clock::now();
      auto audio = engine.synthesizer().synthesize(text, {.voice = "en-us+klatt", .sample_rate = 16000});
      synth_s += seconds_since(t);
      audio_s += audio.value().seconds();
      if (r == 0) clips.push_back(std::move(audio).value());
    }
  }
  std::cout << "synthesis (16 kHz, resampled): real-time factor " << synth_s / audio_s << "\n";

  const auto t_build = std::chrono::steady_clock::now();
  for (int v = 0; v < reps; ++v) engine.recognizer().prepare(devices(v));
  std::cout << "grammar decoder build: " << seconds_since(t_build) / reps * 1000 << " ms each\n";

  const auto t_general_load = std::chrono::steady_clock::now();
  (void)engine.recognizer().recognize(clips.front());
  std::cout << "general decoder first use (load + one utterance): "
            << seconds_since(t_general_load) * 1000 << " ms\n";

  double clip_s = 0;
  for (int r = 0; r < reps; ++r) {
    for (const auto& clip : clips) {
      clip_s += clip.seconds();
      auto t = std::chrono::steady_clock::now();
      (void)engine.recognizer().recognize(clip, devices(0));
      grammar_s += seconds_since(t);
      t = std::chrono::steady_clock::now();
      (void)engine.recognizer().recognize(clip);
      general_s += seconds_since(t);
    }
  }
  std::cout << "recognition, grammar: real-time factor " << grammar_s / clip_s << "\n";
  std::cout << "recognition, general language model: real-time factor " << general_s / clip_s
            << "\n";
  return 0;
}
