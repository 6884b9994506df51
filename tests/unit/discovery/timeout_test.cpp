// `allscene discover --timeout`.
#include <gtest/gtest.h>

#include "discover_command.hpp"

namespace allscene::app {
namespace {

using std::chrono::milliseconds;

TEST(DiscoverTimeout, SecondsMillisecondsAndBareNumbers) {
  EXPECT_EQ(parse_timeout("2s"), milliseconds(2000));
  EXPECT_EQ(parse_timeout("1.5s"), milliseconds(1500));
  EXPECT_EQ(parse_timeout("500ms"), milliseconds(500));
  EXPECT_EQ(parse_timeout("3"), milliseconds(3000));
  EXPECT_EQ(parse_timeout("600s"), milliseconds(600000));
}

TEST(DiscoverTimeout, RefusesNonsenseAndOutOfRange) {
  for (const char* bad :
       {"", "s", "ms", "2 s", "2m", "two", "-1s", "0", "0.0001s", "601s", "nan", "inf", "1e9"}) {
    EXPECT_FALSE(parse_timeout(bad)) << bad;
  }
}

}  // namespace
}  // namespace allscene::app
