// A log-bucketed latency histogram in the spirit of HdrHistogram: values
// below 256 have their own bucket; above, each power of two is split into
// 128 buckets, so a recorded value is known to within 1/128 (< 0.8 %).
// Fixed size (about 60 KB), no allocation after construction; recording is
// a few instructions. Not thread-safe: one histogram per thread, merged at
// the end.
#pragma once

#include <array>
#include <cstdint>

namespace allscene::bench {

class Histogram {
 public:
  void record(std::uint64_t value);
  void merge(const Histogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const;
  // The value at quantile q in [0, 1]: the midpoint of the bucket holding
  // the ceil(q * count)-th smallest value, clamped to [min, max]; 0 when empty.
  std::uint64_t quantile(double q) const;

  static std::size_t bucket_of(std::uint64_t value);
  // Lowest value and width of a bucket.
  static std::uint64_t bucket_low(std::size_t bucket);
  static std::uint64_t bucket_width(std::size_t bucket);

  static constexpr int kLinearBits = 8;  // values < 256 are exact
  static constexpr std::size_t kLinear = std::size_t{1} << kLinearBits;
  static constexpr std::size_t kPerOctave = kLinear / 2;
  static constexpr std::size_t kBuckets = kLinear + (64 - kLinearBits) * kPerOctave;

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace allscene::bench
