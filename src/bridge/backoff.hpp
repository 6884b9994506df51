// Delays between reconnection attempts: exponential from `min` up to
// `max`, with jitter so that many edges cut off together do not return to
// the upstream in step. Pure state; the caller owns the timer.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace allscene::bridge {

class Backoff {
 public:
  using Ms = std::chrono::milliseconds;
  Backoff(Ms min, Ms max, std::uint64_t seed);

  // The wait before the next attempt: a random point in the upper half of
  // min * 2^failures, capped at max. Counts one more failure.
  Ms next();
  // After a link that came up: the next failure waits about `min` again.
  void reset() { failures_ = 0; }
  unsigned failures() const { return failures_; }
  // The cap before jitter for the current failure count.
  Ms ceiling() const;

 private:
  Ms min_;
  Ms max_;
  unsigned failures_ = 0;
  std::mt19937_64 random_;
};

}  // namespace allscene::bridge
