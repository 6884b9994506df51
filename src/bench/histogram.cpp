#include "bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace allscene::bench {

std::size_t Histogram::bucket_of(std::uint64_t value) {
  if (value < kLinear) return static_cast<std::size_t>(value);
  const int msb = 63 - std::countl_zero(value);
  const int shift = msb - kLinearBits + 1;                         // >= 1
  const auto mantissa = static_cast<std::size_t>(value >> shift);  // [kPerOctave, kLinear)
  return kLinear + static_cast<std::size_t>(shift - 1) * kPerOctave + (mantissa - kPerOctave);
}

std::uint64_t Histogram::bucket_low(std::size_t bucket) {
  if (bucket < kLinear) return bucket;
  const std::size_t k = bucket - kLinear;
  const std::size_t shift = k / kPerOctave + 1;
  return static_cast<std::uint64_t>(kPerOctave + k % kPerOctave) << shift;
}

std::uint64_t Histogram::bucket_width(std::size_t bucket) {
  if (bucket < kLinear) return 1;
  return std::uint64_t{1} << ((bucket - kLinear) / kPerOctave + 1);
}

void Histogram::record(std::uint64_t value) {
  ++counts_[bucket_of(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value);
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::reset() { *this = Histogram{}; }

double Histogram::mean() const {
  return count_ ? static_cast<double>(sum_ / static_cast<long double>(count_)) : 0.0;
}

std::uint64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::uint64_t mid = bucket_low(i) + bucket_width(i) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

}  // namespace allscene::bench
