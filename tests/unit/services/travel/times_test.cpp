// Local times in IANA zones across DST changes, and the flight reminder
// times computed from them.
#include "services/travel/times.hpp"

#include <gtest/gtest.h>

#include "services/travel/itinerary.hpp"
#include "services/travel/reminder_rules.hpp"

namespace allscene::services::travel {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

Instant utc(const char* iso) { return *parse_instant(iso); }

Moment in_zone(const char* local, const char* zone) {
  auto result = moment_in_zone(local, zone);
  EXPECT_TRUE(result.moment) << result.error;
  return result.moment.value_or(Moment{});
}

// Europe/Paris springs forward on 2026-03-29 at 02:00 CET -> 03:00 CEST.
TEST(TravelTimesTest, ParisSpringForwardNight) {
  EXPECT_EQ(in_zone("2026-03-29T01:30", "Europe/Paris").utc, utc("2026-03-29T00:30:00Z"));
  EXPECT_EQ(in_zone("2026-03-29T03:30", "Europe/Paris").utc, utc("2026-03-29T01:30:00Z"));
  // Two hours on the clock, one hour of real time.
  const auto gap = moment_in_zone("2026-03-29T02:30", "Europe/Paris");
  EXPECT_FALSE(gap.moment);
  EXPECT_NE(gap.error.find("does not exist"), std::string::npos) << gap.error;
  const auto day = local_day("2026-03-29", "Europe/Paris");
  ASSERT_TRUE(day);
  EXPECT_EQ(day->second - day->first, 23h);
}

// Europe/Paris falls back on 2026-10-25: 02:30 happens twice.
TEST(TravelTimesTest, AmbiguousAutumnHourMeansEarlierUnlessOffsetSaysLater) {
  EXPECT_EQ(in_zone("2026-10-25T02:30", "Europe/Paris").utc, utc("2026-10-25T00:30:00Z"));
  EXPECT_EQ(in_zone("2026-10-25T02:30+01:00", "Europe/Paris").utc, utc("2026-10-25T01:30:00Z"));
  EXPECT_FALSE(moment_in_zone("2026-10-25T02:30+05:00", "Europe/Paris").moment);
  EXPECT_EQ(local_day("2026-10-25", "Europe/Paris")->second -
                local_day("2026-10-25", "Europe/Paris")->first,
            25h);
}

TEST(TravelTimesTest, FormatsInTheZoneWithItsAbbreviation) {
  const Instant t = utc("2026-03-29T01:30:00Z");
  EXPECT_EQ(format_iso(t, "Europe/Paris"), "2026-03-29T03:30+02:00");
  EXPECT_EQ(format_human(t, "Europe/Paris"), "Sun 29 Mar 2026 03:30 CEST");
  EXPECT_EQ(format_human(t - 2h, "Europe/Paris"), "Sun 29 Mar 2026 00:30 CET");
  EXPECT_EQ(format_iso(t, "America/New_York"), "2026-03-28T21:30-04:00");
  EXPECT_EQ(local_date(t, "America/Los_Angeles"), "2026-03-28");
  EXPECT_EQ(format_duration(3h + 20min), "3 h 20 min");
  EXPECT_EQ(format_duration(50h), "2 days 2 h 0 min");
}

TEST(TravelTimesTest, RejectsUnknownZonesAndBadTimes) {
  EXPECT_FALSE(is_known_zone("Mars/Olympus_Mons"));
  EXPECT_TRUE(is_known_zone("Asia/Kolkata"));
  EXPECT_FALSE(moment_in_zone("2026-02-30T10:00", "Europe/Paris").moment);
  EXPECT_FALSE(moment_in_zone("29/03/2026 10:00", "Europe/Paris").moment);
  EXPECT_FALSE(moment_in_zone("2026-03-29T10:00", "Mars/Olympus_Mons").moment);
  EXPECT_FALSE(parse_instant("2026-03-29T10:00"));  // no offset: not an instant
  EXPECT_EQ(parse_instant("2026-03-29T10:00:00+05:30"), utc("2026-03-29T04:30:00Z"));
}

// A flight from Paris to New York the night the European clocks change: New
// York changed three weeks earlier, so the flight takes 8 h 15 min although
// the clocks say 5 h 30 min... in absolute time.
TEST(TravelTimesTest, FlightAcrossZonesOnTheDstNight) {
  auto made = make_item({{"kind", "flight"},
                         {"number", "AF 0006"},
                         {"from", "CDG"},
                         {"to", "JFK"},
                         {"depart", "2026-03-29T03:15"},
                         {"arrive", "2026-03-29T05:30"}},
                        "t1");
  ASSERT_TRUE(made.item) << made.error.body.dump();
  const Item& flight = *made.item;
  EXPECT_EQ(flight.start.zone, "Europe/Paris");
  EXPECT_EQ(flight.end.zone, "America/New_York");
  EXPECT_EQ(flight.title, "AF 6 CDG → JFK");
  EXPECT_EQ(flight.end.utc - flight.start.utc, 8h + 15min);
  EXPECT_EQ(flight.language, "en");
}

// Reminders count back in real time: 24 h before 03:15 CEST is 02:15 CET the
// day before (the clocks moved in between), not 03:15.
TEST(TravelTimesTest, FlightRemindersAcrossTheDstChange) {
  auto made = make_item({{"kind", "flight"},
                         {"airline", "AF"},
                         {"number", "662"},
                         {"from", "CDG"},
                         {"to", "DXB"},
                         {"depart", "2026-03-29T03:15"},
                         {"arrive", "2026-03-29T13:05"},
                         {"booking", "K7QZ2P"}},
                        "t1");
  ASSERT_TRUE(made.item) << made.error.body.dump();
  const auto reminders = reminders_for("ann", *made.item, utc("2026-03-01T00:00:00Z"));
  ASSERT_EQ(reminders.size(), 3u);
  EXPECT_EQ(reminders[0].id, "t1.checkin");
  EXPECT_EQ(format_iso(reminders[0].due, reminders[0].zone), "2026-03-28T02:15+01:00");
  EXPECT_EQ(reminders[1].id, "t1.leave");
  EXPECT_EQ(format_iso(reminders[1].due, reminders[1].zone), "2026-03-28T23:15+01:00");
  EXPECT_EQ(reminders[2].id, "t1.boarding");
  EXPECT_EQ(format_iso(reminders[2].due, reminders[2].zone), "2026-03-29T01:35+01:00");
  for (const auto& r : reminders) EXPECT_EQ(r.expires, made.item->start.utc);
  EXPECT_NE(reminders[0].body.find("Booking reference K7QZ2P"), std::string::npos);
  EXPECT_NE(reminders[0].title.find("Dubai"), std::string::npos) << reminders[0].title;
  // Added 2 h before departure: only boarding is still ahead.
  const auto late = reminders_for("ann", *made.item, utc("2026-03-28T23:15:00Z"));
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].kind, "boarding");
}

TEST(TravelTimesTest, UnknownAirportNeedsAnExplicitZone) {
  json request{{"kind", "flight"}, {"number", "BA 1430"},          {"from", "LHR"},
               {"to", "INV"},      {"depart", "2026-05-01T07:00"}, {"arrive", "2026-05-01T08:35"}};
  auto made = make_item(request, "t1");
  ASSERT_FALSE(made.item);
  EXPECT_EQ(made.error.status, 400);
  EXPECT_NE(made.error.body["message"].get<std::string>().find("to_zone"), std::string::npos);
  request["to_zone"] = "Europe/London";
  EXPECT_TRUE(make_item(request, "t1").item);
}

}  // namespace
}  // namespace allscene::services::travel
