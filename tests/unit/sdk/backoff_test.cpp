#include "backoff.hpp"

#include <gtest/gtest.h>

namespace allscene::sdk::detail {
namespace {

using std::chrono::milliseconds;

ReconnectPolicy policy() {
  ReconnectPolicy p;
  p.initial_delay = milliseconds(500);
  p.max_delay = milliseconds(10000);
  p.multiplier = 2.0;
  p.jitter = 0.5;
  return p;
}

TEST(Backoff, DoublesUpToTheCapWithoutJitter) {
  const ReconnectPolicy p = policy();
  const long expected[] = {500, 1000, 2000, 4000, 8000, 10000, 10000, 10000};
  for (unsigned n = 0; n < 8; ++n) {
    EXPECT_EQ(backoff_delay(p, n, 0.0), milliseconds(expected[n])) << n;
  }
  // Far past the cap: still the cap, no overflow.
  EXPECT_EQ(backoff_delay(p, 10'000, 0.0), milliseconds(10000));
}

TEST(Backoff, JitterTakesOffUpToItsFraction) {
  const ReconnectPolicy p = policy();
  EXPECT_EQ(backoff_delay(p, 1, 0.5), milliseconds(750));     // 1000 * (1 - 0.5 * 0.5)
  EXPECT_EQ(backoff_delay(p, 9, 0.999), milliseconds(5005));  // 10000 * (1 - 0.4995)
  ReconnectPolicy full = p;
  full.jitter = 3.0;  // clamped to 1
  EXPECT_EQ(backoff_delay(full, 0, 0.5), milliseconds(250));
}

TEST(Backoff, DegeneratePoliciesStayInRange) {
  ReconnectPolicy p = policy();
  p.multiplier = 0.1;  // treated as 1: constant
  EXPECT_EQ(backoff_delay(p, 5, 0.0), milliseconds(500));
  p.initial_delay = milliseconds(-5);
  EXPECT_EQ(backoff_delay(p, 0, 0.0), milliseconds(0));
}

TEST(Backoff, ScheduleGrowsWithinJitterBoundsAndResets) {
  const ReconnectPolicy p = policy();
  Backoff b(p, 42);
  for (unsigned n = 0; n < 12; ++n) {
    const auto base = backoff_delay(p, n, 0.0);
    const auto d = b.next();
    EXPECT_LE(d, base) << n;
    EXPECT_GE(d.count(), base.count() / 2) << n;
  }
  EXPECT_EQ(b.attempt(), 12u);
  b.reset();
  EXPECT_LE(b.next(), milliseconds(500));
}

TEST(Backoff, TwoClientsDoNotRetryInStep) {
  const ReconnectPolicy p = policy();
  Backoff a(p, 1), b(p, 2);
  int differ = 0;
  for (int n = 0; n < 6; ++n) differ += a.next() != b.next();
  EXPECT_GT(differ, 0);
}

}  // namespace
}  // namespace allscene::sdk::detail
