// Sample-rate conversion for mono 16-bit audio: a band-limited windowed-sinc
// interpolator (Blackman window, 16 zero crossings each side of the kernel
// at the lower of the two rates, cut-off at 0.95 of that rate's Nyquist
// frequency), so espeak-ng's 22,050 Hz output reaches pocketsphinx's
// 16 kHz without aliasing. Debian 12's libsoxr/libsamplerate would do the
// same but are not in the project's dependencies. Pure; any thread.
#pragma once

#include "services/speech/wav.hpp"

namespace allscene::services::speech {

// `audio` at `to_rate` Hz (unchanged if already there). Rates must be > 0.
PcmAudio resample(const PcmAudio& audio, int to_rate);

}  // namespace allscene::services::speech
