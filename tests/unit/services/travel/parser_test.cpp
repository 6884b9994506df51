// Every sample confirmation in tests/data/travel/ read into items, and the
// items accepted by the same validation as travel/add.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "services/travel/confirmation_parser.hpp"
#include "services/travel/itinerary.hpp"

namespace allscene::services::travel {
namespace {

using nlohmann::json;

std::string sample(const std::string& name) {
  std::ifstream in(std::string(TRAVEL_DATA_DIR) + "/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<json> parse_ok(const std::string& name, std::size_t expected_items) {
  const auto parsed = parse_confirmation(sample(name));
  EXPECT_TRUE(parsed.problems.empty()) << name << ": " << json(parsed.problems).dump();
  EXPECT_EQ(parsed.items.size(), expected_items) << name << ": " << json(parsed.items).dump();
  for (const auto& item : parsed.items) {
    const auto made = make_item(item, "t");
    EXPECT_TRUE(made.item) << name << ": " << made.error.body.dump();
  }
  return parsed.items;
}

TEST(TravelParserTest, AirFranceLabelledLines) {
  const auto items = parse_ok("flight_airfrance.txt", 1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0], (json{{"kind", "flight"},
                            {"airline", "AF"},
                            {"number", "0662"},
                            {"from", "CDG"},
                            {"to", "DXB"},
                            {"depart", "2026-03-29T03:15"},
                            {"arrive", "2026-03-29T13:05"},
                            {"booking", "K7QZ2P"}}));
}

TEST(TravelParserTest, BritishAirwaysReturnTripWithArrows) {
  const auto items = parse_ok("flight_british_airways_return.txt", 2);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["number"], "117");
  EXPECT_EQ(items[0]["from"], "LHR");
  EXPECT_EQ(items[0]["to"], "JFK");
  EXPECT_EQ(items[0]["depart"], "2026-04-14T08:25");
  EXPECT_EQ(items[0]["arrive"], "2026-04-14T11:20");
  EXPECT_EQ(items[1]["number"], "178");
  EXPECT_EQ(items[1]["from"], "JFK");
  EXPECT_EQ(items[1]["depart"], "2026-04-21T19:30");
  EXPECT_EQ(items[1]["arrive"], "2026-04-22T07:35");  // the date before it on its line
  EXPECT_EQ(items[1]["booking"], "XJ4B7R");
}

TEST(TravelParserTest, LufthansaTableWithNextDayArrival) {
  const auto items = parse_ok("flight_lufthansa_table.txt", 2);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["airline"], "LH");
  EXPECT_EQ(items[0]["from"], "FRA");
  EXPECT_EQ(items[0]["depart"], "2026-05-12T10:05");
  EXPECT_EQ(items[1]["depart"], "2026-05-19T17:35");
  EXPECT_EQ(items[1]["arrive"], "2026-05-20T07:25");  // "+1"
  EXPECT_EQ(items[1]["booking"], "6HTR2K");
}

TEST(TravelParserTest, UnitedAmericanDatesAndTwelveHourClock) {
  const auto items = parse_ok("flight_united.txt", 1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["from"], "SFO");
  EXPECT_EQ(items[0]["to"], "FRA");
  EXPECT_EQ(items[0]["depart"], "2026-10-26T16:30");
  EXPECT_EQ(items[0]["arrive"], "2026-10-27T12:35");
  EXPECT_EQ(items[0]["booking"], "N7GH2Q");
}

TEST(TravelParserTest, RyanairIsoDateOnItsOwnLine) {
  const auto items = parse_ok("flight_ryanair.txt", 1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["airline"], "FR");
  EXPECT_EQ(items[0]["to"], "BCN");
  EXPECT_EQ(items[0]["depart"], "2026-07-03T06:25");
  EXPECT_EQ(items[0]["arrive"], "2026-07-03T10:05");
  EXPECT_EQ(items[0]["booking"], "QW3E9T");
}

TEST(TravelParserTest, EurostarStationsAroundAnArrow) {
  const auto items = parse_ok("train_eurostar.txt", 1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0], (json{{"kind", "train"},
                            {"operator", "Eurostar"},
                            {"number", "9014"},
                            {"from", "London St Pancras International"},
                            {"to", "Paris Gare du Nord"},
                            {"depart", "2026-05-15T08:01"},
                            {"arrive", "2026-05-15T11:20"},
                            {"booking", "QHZ4KT"}}));
  const auto made = make_item(items[0], "t");
  ASSERT_TRUE(made.item);
  EXPECT_EQ(made.item->start.zone, "Europe/London");
  EXPECT_EQ(made.item->end.zone, "Europe/Paris");
  EXPECT_EQ(made.item->language, "fr");
}

TEST(TravelParserTest, DeutscheBahnDayFirstDotsAndLabelledStations) {
  const auto items = parse_ok("train_db_ice.txt", 1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["operator"], "ICE");
  EXPECT_EQ(items[0]["number"], "599");
  EXPECT_EQ(items[0]["from"], "Frankfurt (Main) Hbf");
  EXPECT_EQ(items[0]["to"], "Munich Hbf");
  EXPECT_EQ(items[0]["depart"], "2026-06-06T10:13");
  EXPECT_EQ(items[0]["arrive"], "2026-06-06T13:25");
  EXPECT_EQ(items[0]["booking"], "482913557");
}

TEST(TravelParserTest, AmtrakDateAfterTheTime) {
  const auto items = parse_ok("train_amtrak.txt", 1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["operator"], "Amtrak");
  EXPECT_EQ(items[0]["number"], "2153");
  EXPECT_EQ(items[0]["depart"], "2026-08-08T07:00");
  EXPECT_EQ(items[0]["arrive"], "2026-08-08T09:55");
  const auto made = make_item(items[0], "t");
  ASSERT_TRUE(made.item);
  EXPECT_EQ(made.item->end.zone, "America/New_York");  // Washington
}

TEST(TravelParserTest, BookingComHotelWithCheckInTime) {
  const auto items = parse_ok("hotel_booking_com.txt", 1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0], (json{{"kind", "hotel"},
                            {"name", "Hotel Artemide"},
                            {"city", "Rome"},
                            {"check_in", "2026-04-02T14:00"},
                            {"check_out", "2026-04-05T11:00"},
                            {"booking", "3184.572.906"}}));
}

TEST(TravelParserTest, MarriottHotelTwelveHourTimes) {
  const auto items = parse_ok("hotel_marriott.txt", 1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["name"], "Tokyo Marriott Hotel");
  EXPECT_EQ(items[0]["city"], "Tokyo");
  EXPECT_EQ(items[0]["check_in"], "2026-10-12T15:00");
  EXPECT_EQ(items[0]["check_out"], "2026-10-15T12:00");
  EXPECT_EQ(items[0]["booking"], "84927361");
}

TEST(TravelParserTest, TheatreTicket) {
  const auto items = parse_ok("event_theatre.txt", 1);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0], (json{{"kind", "event"},
                            {"title", "Hamilton"},
                            {"place", "Victoria Palace Theatre, London"},
                            {"start", "2026-06-18T19:30"},
                            {"end", "2026-06-18T22:15"},
                            {"booking", "40-12345"}}));
}

TEST(TravelParserTest, NewsletterHasNothing) {
  const auto parsed = parse_confirmation(sample("newsletter_not_a_booking.txt"));
  EXPECT_TRUE(parsed.items.empty()) << json(parsed.items).dump();
  EXPECT_TRUE(parsed.problems.empty());
}

TEST(TravelParserTest, FlightWithoutTimesSaysWhatIsMissing) {
  const auto parsed = parse_confirmation(sample("flight_missing_times.txt"));
  EXPECT_TRUE(parsed.items.empty());
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_NE(parsed.problems[0].find("flight KL 1008"), std::string::npos) << parsed.problems[0];
  EXPECT_NE(parsed.problems[0].find("arrival date and time"), std::string::npos);
}

TEST(TravelParserTest, UnicodeArrowsAndCrLfLineEnds) {
  const auto parsed = parse_confirmation(
      "Booking reference: ZZ12AB\r\nIB 3166  Madrid (MAD) 3 Jul 2026 07:15 \xE2\x86\x92 London "
      "Heathrow (LHR) 3 Jul 2026 08:40\r\n");
  ASSERT_EQ(parsed.items.size(), 1u) << json(parsed.problems).dump();
  EXPECT_EQ(parsed.items[0]["arrive"], "2026-07-03T08:40");
}

// Bad input is normal: one huge line, or many lines of near-misses, end in
// "nothing found" quickly and without exhausting the stack.
TEST(TravelParserTest, HostileTextIsRefusedQuietly) {
  const std::string one_line(64 * 1024, '(');
  EXPECT_TRUE(parse_confirmation(one_line).items.empty());
  std::string many;
  for (int i = 0; i < 2000; ++i)
    many += "AF" + std::to_string(i % 10) + " 12:3 (CD) 31 Feb 2026 99:99\n";
  const auto parsed = parse_confirmation(many);
  EXPECT_TRUE(parsed.items.empty());
  EXPECT_FALSE(parsed.problems.empty());  // flight numbers without airports or times
}

}  // namespace
}  // namespace allscene::services::travel
