#include "backoff.hpp"

#include <algorithm>
#include <cmath>

namespace allscene::sdk::detail {

std::chrono::milliseconds backoff_delay(const ReconnectPolicy& policy, unsigned attempt, double u) {
  const double cap = static_cast<double>(std::max<std::int64_t>(0, policy.max_delay.count()));
  const double initial =
      static_cast<double>(std::max<std::int64_t>(0, policy.initial_delay.count()));
  const double multiplier = std::max(1.0, policy.multiplier);
  // Past the cap the power only grows; stop before it overflows.
  double base = initial;
  for (unsigned i = 0; i < attempt && base < cap; ++i) base *= multiplier;
  base = std::min(base, cap);
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double delay = base * (1.0 - jitter * std::clamp(u, 0.0, 1.0));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(delay)));
}

std::chrono::milliseconds Backoff::next() {
  std::uniform_real_distribution<double> draw(0.0, 1.0);
  const auto delay = backoff_delay(policy_, attempt_, draw(random_));
  if (attempt_ < 64) ++attempt_;
  return delay;
}

}  // namespace allscene::sdk::detail
