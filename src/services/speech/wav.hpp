// RIFF/WAVE reading and writing for 16-bit mono PCM, the only format the
// speech engines use. Audio comes from devices, so read_wav is total: any
// byte string yields audio or a "bad_audio" error naming what is expected
// (never a crash, never an allocation beyond the input's own size).
// Pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "services/speech/result.hpp"

namespace allscene::services::speech {

struct PcmAudio {
  int sample_rate = 16000;
  std::vector<std::int16_t> samples;  // mono

  double seconds() const {
    return sample_rate > 0 ? static_cast<double>(samples.size()) / sample_rate : 0.0;
  }
};

// Accepted: a RIFF "WAVE" file with a "fmt " chunk of format 1 (PCM) or
// 0xFFFE (extensible, PCM subformat), one channel, 16 bits per sample, a
// sample rate in [8000, 48000], and a "data" chunk. Other chunks are
// skipped; a data chunk longer than the file is read up to the file's end
// (streaming writers leave its size as 0xFFFFFFFF). Errors: 400 bad_audio.
Result<PcmAudio> read_wav(std::span<const std::byte> bytes);
Result<PcmAudio> read_wav(const std::string& bytes);

// A canonical 44-byte-header WAV of `audio`.
std::string write_wav(const PcmAudio& audio);

}  // namespace allscene::services::speech
