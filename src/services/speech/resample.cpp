#include "services/speech/resample.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

namespace allscene::services::speech {
namespace {

constexpr int kZeroCrossings = 16;
constexpr double kCutoff = 0.95;
// Above this many phases the kernel is evaluated per tap instead of tabled.
constexpr long kMaxTabledPhases = 4096;

double sinc(double x) {
  if (std::abs(x) < 1e-9) return 1.0;
  const double px = std::numbers::pi * x;
  return std::sin(px) / px;
}

// Blackman window over [-1, 1].
double window(double x) {
  if (std::abs(x) >= 1.0) return 0.0;
  const double a = std::numbers::pi * (x + 1.0);
  return 0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2.0 * a);
}

std::int16_t clamp_sample(double v) {
  return static_cast<std::int16_t>(std::clamp(std::lround(v), -32768L, 32767L));
}

// Output sample n sits at input position (n * from) / to = base + phase / to.
// Its value is the sum over taps j in [-reach, reach] of
// x[base + j] * kernel(phase / to - j).
class Interpolator {
 public:
  Interpolator(long from, long to) : from_(from), to_(to) {
    const long g = std::gcd(from, to);
    from_ /= g;
    to_ /= g;
    // Downsampling: the kernel is stretched to the output rate's bandwidth.
    scale_ = std::min(1.0, static_cast<double>(to_) / static_cast<double>(from_)) * kCutoff;
    half_width_ = kZeroCrossings / scale_;
    reach_ = static_cast<long>(std::ceil(half_width_)) + 1;
    if (to_ <= kMaxTabledPhases) build_table();
  }

  std::int16_t sample(const std::vector<std::int16_t>& in, long n) const {
    const long base = static_cast<long>((static_cast<long long>(n) * from_) / to_);
    const long phase = static_cast<long>((static_cast<long long>(n) * from_) % to_);
    const long n_in = static_cast<long>(in.size());
    const long first = std::max(-reach_, -base);
    const long last = std::min(reach_, n_in - 1 - base);
    double acc = 0.0;
    for (long j = first; j <= last; ++j) {
      acc += in[static_cast<std::size_t>(base + j)] * weight(phase, j);
    }
    return clamp_sample(acc);
  }

  long outputs_for(long n_in) const {
    return static_cast<long>((static_cast<long long>(n_in) * to_) / from_);
  }

 private:
  double kernel(double d) const {
    return scale_ * sinc(scale_ * d) * window(d / half_width_);
  }
  double weight(long phase, long j) const {
    if (!table_.empty()) return table_[static_cast<std::size_t>(phase * taps() + j + reach_)];
    return kernel(static_cast<double>(phase) / static_cast<double>(to_) - static_cast<double>(j));
  }
  long taps() const { return 2 * reach_ + 1; }
  void build_table() {
    table_.resize(static_cast<std::size_t>(to_ * taps()));
    for (long p = 0; p < to_; ++p) {
      for (long j = -reach_; j <= reach_; ++j) {
        table_[static_cast<std::size_t>(p * taps() + j + reach_)] =
            kernel(static_cast<double>(p) / static_cast<double>(to_) - static_cast<double>(j));
      }
    }
  }

  long from_;
  long to_;
  double scale_ = 1.0;
  double half_width_ = 1.0;
  long reach_ = 1;
  std::vector<double> table_;  // [phase][tap], when the phases are few
};

}  // namespace

PcmAudio resample(const PcmAudio& audio, int to_rate) {
  if (audio.sample_rate == to_rate || audio.samples.empty()) {
    return {to_rate, audio.samples};
  }
  const Interpolator interpolator(audio.sample_rate, to_rate);
  const long n_out = interpolator.outputs_for(static_cast<long>(audio.samples.size()));
  PcmAudio out{to_rate, {}};
  out.samples.reserve(static_cast<std::size_t>(n_out));
  for (long n = 0; n < n_out; ++n) out.samples.push_back(interpolator.sample(audio.samples, n));
  return out;
}

}  // namespace allscene::services::speech
