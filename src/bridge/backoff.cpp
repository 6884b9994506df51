#include "bridge/backoff.hpp"

#include <algorithm>

namespace allscene::bridge {

Backoff::Backoff(Ms min, Ms max, std::uint64_t seed)
    : min_(std::max(min, Ms(1))), max_(std::max(max, min_)), random_(seed) {}

Backoff::Ms Backoff::ceiling() const {
  // Past 2^20 the cap has long been reached; stop doubling before overflow.
  const unsigned shift = std::min(failures_, 20u);
  const auto grown = min_.count() * (std::int64_t{1} << shift);
  return std::min(Ms(grown), max_);
}

Backoff::Ms Backoff::next() {
  const auto cap = ceiling().count();
  ++failures_;
  // "Equal jitter": never below half the cap, so the backoff still grows.
  std::uniform_int_distribution<std::int64_t> pick(cap / 2, cap);
  return Ms(pick(random_));
}

}  // namespace allscene::bridge
