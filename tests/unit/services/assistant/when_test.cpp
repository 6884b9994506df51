// Reminder times against a fixed clock, in the owner's zone.
#include "services/assistant/when.hpp"

#include <date/tz.h>
#include <gtest/gtest.h>

#include "eval_set.hpp"

namespace allscene::services::assistant {
namespace {

using testing::parse_iso;

// Tuesday 24 November 2026, 15:00 in Madrid.
std::string when(std::string_view text, std::string_view now = "2026-11-24T15:00:00+01:00",
                 const char* zone = "Europe/Madrid") {
  const auto t = tokenize(text);
  const auto m = find_time(t, parse_iso(std::string(now)), *date::locate_zone(zone));
  return m ? m->iso : "none";
}

TEST(AssistantWhen, TimeOfDayIsItsNextOccurrence) {
  EXPECT_EQ(when("at 7 pm"), "2026-11-24T19:00:00+01:00");
  EXPECT_EQ(when("at 7pm"), "2026-11-24T19:00:00+01:00");
  EXPECT_EQ(when("at 9"), "2026-11-24T21:00:00+01:00");      // 9 am has passed
  EXPECT_EQ(when("at 10 am"), "2026-11-25T10:00:00+01:00");  // tomorrow
  EXPECT_EQ(when("at 4 o'clock"), "2026-11-24T16:00:00+01:00");
  EXPECT_EQ(when("at 14:30"), "2026-11-25T14:30:00+01:00");  // 24-hour: no pm guess
  EXPECT_EQ(when("at noon"), "2026-11-25T12:00:00+01:00");
  EXPECT_EQ(when("at midnight"), "2026-11-25T00:00:00+01:00");
  EXPECT_EQ(when("at eleven pm"), "2026-11-24T23:00:00+01:00");
}

TEST(AssistantWhen, RelativeTimes) {
  EXPECT_EQ(when("in 10 minutes"), "2026-11-24T15:10:00+01:00");
  EXPECT_EQ(when("in an hour"), "2026-11-24T16:00:00+01:00");
  EXPECT_EQ(when("in half an hour"), "2026-11-24T15:30:00+01:00");
  EXPECT_EQ(when("in twenty five minutes"), "2026-11-24T15:25:00+01:00");
  EXPECT_EQ(when("in 3 hours"), "2026-11-24T18:00:00+01:00");
}

TEST(AssistantWhen, DaysAndPartsOfTheDay) {
  EXPECT_EQ(when("tomorrow at 8"), "2026-11-25T08:00:00+01:00");
  EXPECT_EQ(when("tomorrow at 4"), "2026-11-25T16:00:00+01:00");
  EXPECT_EQ(when("tomorrow"), "2026-11-25T09:00:00+01:00");
  EXPECT_EQ(when("tomorrow evening"), "2026-11-25T19:00:00+01:00");
  EXPECT_EQ(when("tonight at 11"), "2026-11-24T23:00:00+01:00");
  EXPECT_EQ(when("this afternoon"), "2026-11-25T15:00:00+01:00");  // 15:00 is now: next one
  EXPECT_EQ(when("on Saturday at 10"), "2026-11-28T10:00:00+01:00");
  EXPECT_EQ(when("Tuesday at 9 am"), "2026-12-01T09:00:00+01:00");  // today's has passed
  EXPECT_EQ(when("at 6 in the morning"), "2026-11-25T06:00:00+01:00");
}

TEST(AssistantWhen, OffsetsFollowTheZoneAndDaylightSaving) {
  // Summer time starts in Madrid on Sunday 29 March 2026.
  EXPECT_EQ(when("tomorrow at 9", "2026-03-28T12:00:00+01:00"), "2026-03-29T09:00:00+02:00");
  EXPECT_EQ(when("at 7 pm", "2026-11-24T15:00:00+01:00", "America/New_York"),
            "2026-11-24T19:00:00-05:00");
  EXPECT_EQ(when("in 10 minutes", "2026-11-24T15:00:00+01:00", "Asia/Kolkata"),
            "2026-11-24T19:40:00+05:30");
}

TEST(AssistantWhen, MarksTheWordsItUsedAndNothingElse) {
  const auto t = tokenize("remind me at 7 pm to call mom");
  const auto m =
      find_time(t, parse_iso("2026-11-24T15:00:00+01:00"), *date::locate_zone("Europe/Madrid"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->used, (std::vector<bool>{false, false, true, true, true, false, false, false}));
}

TEST(AssistantWhen, NoTimeIsNoTime) {
  EXPECT_EQ(when("call mom"), "none");
  EXPECT_EQ(when("meet at the station"), "none");
  EXPECT_EQ(when("at 25"), "none");
  EXPECT_EQ(when("at 13 pm"), "none");
}

}  // namespace
}  // namespace allscene::services::assistant
