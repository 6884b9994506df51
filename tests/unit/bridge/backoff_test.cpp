#include "bridge/backoff.hpp"

#include <gtest/gtest.h>

namespace allscene::bridge {
namespace {

using Ms = std::chrono::milliseconds;

TEST(BridgeBackoff, GrowsExponentiallyUpToTheCap) {
  Backoff b(Ms(100), Ms(1000), 1);
  const Ms expected_caps[] = {Ms(100), Ms(200), Ms(400), Ms(800), Ms(1000), Ms(1000)};
  for (const auto cap : expected_caps) {
    EXPECT_EQ(b.ceiling(), cap);
    const auto d = b.next();
    // Equal jitter: within [cap/2, cap].
    EXPECT_GE(d, cap / 2);
    EXPECT_LE(d, cap);
  }
  EXPECT_EQ(b.failures(), 6u);
}

TEST(BridgeBackoff, ResetStartsOver) {
  Backoff b(Ms(100), Ms(1000), 1);
  for (int i = 0; i < 5; ++i) b.next();
  b.reset();
  EXPECT_EQ(b.failures(), 0u);
  EXPECT_EQ(b.ceiling(), Ms(100));
  EXPECT_LE(b.next(), Ms(100));
}

TEST(BridgeBackoff, ManyFailuresDoNotOverflow) {
  Backoff b(Ms(500), Ms(30'000), 7);
  for (int i = 0; i < 200; ++i) {
    const auto d = b.next();
    ASSERT_GE(d, Ms(250));
    ASSERT_LE(d, Ms(30'000));
  }
  EXPECT_EQ(b.ceiling(), Ms(30'000));
}

TEST(BridgeBackoff, JitterSpreadsEdgesApart) {
  // Two edges cut off at once must not retry in step.
  Backoff a(Ms(1000), Ms(60'000), 1);
  Backoff b(Ms(1000), Ms(60'000), 2);
  int same = 0;
  for (int i = 0; i < 10; ++i) same += a.next() == b.next();
  EXPECT_LT(same, 3);
}

}  // namespace
}  // namespace allscene::bridge
