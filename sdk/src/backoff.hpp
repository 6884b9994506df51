// Reconnect delays: exponential, capped, with jitter. No I/O; the random
// source is injected so the schedule can be checked exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

#include "allscene/device_client.hpp"

namespace allscene::sdk::detail {

// The delay before retry `attempt` (0-based) when the random draw is `u`
// in [0, 1): min(max_delay, initial_delay * multiplier^attempt) * (1 -
// jitter * u), never negative, never above max_delay.
std::chrono::milliseconds backoff_delay(const ReconnectPolicy& policy, unsigned attempt, double u);

class Backoff {
 public:
  Backoff(ReconnectPolicy policy, std::uint64_t seed) : policy_(policy), random_(seed) {}
  // The delay before the next attempt; each call moves one step on.
  std::chrono::milliseconds next();
  // After a connection that stayed up: the next delay is the first again.
  void reset() { attempt_ = 0; }
  unsigned attempt() const { return attempt_; }

 private:
  ReconnectPolicy policy_;
  std::mt19937_64 random_;
  unsigned attempt_ = 0;
};

}  // namespace allscene::sdk::detail
