// The travel service's operations on the wire: add/list/remove, parse,
// day plan, next flight, remind, phrases, errors and isolation between
// users.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "service_fixture.hpp"

namespace allscene::services::travel::testing {
namespace {

using nlohmann::json;

std::string sample(const std::string& name) {
  std::ifstream in(std::string(TRAVEL_DATA_DIR) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class TravelServiceTest : public TravelFixture {};

TEST_F(TravelServiceTest, AddListRemove) {
  const json added = ok("ann", "add", {{"item", paris_dubai_flight()}});
  const std::string id = added["id"];
  EXPECT_EQ(added["item"]["title"], "AF 662 CDG → DXB");
  EXPECT_EQ(added["item"]["start"]["iso"], "2026-03-29T03:15+02:00");
  EXPECT_EQ(added["item"]["end"]["iso"], "2026-03-29T13:05+04:00");
  EXPECT_EQ(added["item"]["reminders"], (json{id + ".checkin", id + ".leave", id + ".boarding"}));

  const json listed = ok("ann", "list");
  ASSERT_EQ(listed["items"].size(), 1u);
  EXPECT_EQ(listed["items"][0]["id"], id);
  EXPECT_EQ(listed["items"][0]["airline_name"], "Air France");

  EXPECT_EQ(ok("ann", "remove", {{"id", id}})["removed"], true);
  EXPECT_TRUE(ok("ann", "list")["items"].empty());
  EXPECT_EQ(call("ann", "remove", {{"id", id}}).status, 404);
  const json reminders = ok("ann", "reminders");
  ASSERT_EQ(reminders["reminders"].size(), 3u);
  for (const auto& r : reminders["reminders"]) EXPECT_EQ(r["state"], "cancelled");
}

TEST_F(TravelServiceTest, BadFieldsAre400WithTheFieldNamed) {
  EXPECT_EQ(call("ann", "add", {{"kind", "flight"}}).status, 400);  // not wrapped in "item"
  auto expect_400 = [&](json item, const std::string& field) {
    const Reply reply = call("ann", "add", {{"item", item}});
    EXPECT_EQ(reply.status, 400) << reply.body.dump();
    EXPECT_EQ(reply.body["code"], "bad_field");
    EXPECT_NE(reply.body["message"].get<std::string>().find("'" + field + "'"), std::string::npos)
        << reply.body.dump();
  };
  json flight = paris_dubai_flight();
  expect_400(json{{"kind", "ship"}}, "kind");
  flight["to"] = "XQZ";
  expect_400(flight, "to_zone");
  flight = paris_dubai_flight();
  flight["depart"] = "2026-03-29T02:30";  // in the spring-forward gap
  expect_400(flight, "depart");
  flight = paris_dubai_flight();
  flight["arrive"] = "2026-03-28T10:00";
  expect_400(flight, "arrive");
  flight = paris_dubai_flight();
  flight["number"] = 662;
  expect_400(flight, "number");
  expect_400(json{{"kind", "hotel"},
                  {"name", "Hotel Artemide"},
                  {"city", "Rome"},
                  {"check_in", "2026-04-05"},
                  {"check_out", "2026-04-02"}},
             "check_out");
  EXPECT_EQ(call("ann", "fly").status, 404);
  EXPECT_EQ(call("", "list").status, 400);
  EXPECT_EQ(call("ann", "list", json::array()).status, 400);
}

TEST_F(TravelServiceTest, UsersSeeOnlyTheirOwnItemsAndReminders) {
  const std::string id = add("ann", paris_dubai_flight());
  const std::string reminder =
      ok("ann", "remind", {{"at", "2026-03-02T09:00:00+01:00"}, {"text", "Buy euros"}})["id"];
  EXPECT_TRUE(ok("bob", "list")["items"].empty());
  EXPECT_TRUE(ok("bob", "reminders")["reminders"].empty());
  EXPECT_EQ(ok("bob", "next_flight")["flight"], nullptr);
  EXPECT_EQ(call("bob", "remove", {{"id", id}}).status, 404);
  EXPECT_EQ(call("bob", "phrases", {{"id", id}}).status, 404);
  EXPECT_EQ(ok("ann", "list")["items"].size(), 1u);
  EXPECT_EQ(ok("ann", "reminders")["reminders"].size(), 4u);
  EXPECT_FALSE(reminder.empty());
}

// call() runs on several host workers at once.
TEST_F(TravelServiceTest, ConcurrentCallersKeepEveryItem) {
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([this, w] {
      const std::string user = "user" + std::to_string(w % 2);
      for (int i = 0; i < 10; ++i) {
        json flight = paris_dubai_flight();
        flight["number"] = std::to_string(100 * w + i);
        EXPECT_TRUE(call(user, "add", {{"item", flight}}).ok());
        EXPECT_TRUE(call(user, "list").ok());
        EXPECT_TRUE(call(user, "reminders").ok());
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(ok("user0", "list")["items"].size(), 20u);
  EXPECT_EQ(ok("user1", "reminders")["reminders"].size(), 60u);
}

TEST_F(TravelServiceTest, ParseAddsTheItemsOfAConfirmation) {
  const json dry = ok("ann", "parse",
                      {{"text", sample("flight_british_airways_return.txt")}, {"dry_run", true}});
  EXPECT_EQ(dry["added"], false);
  ASSERT_EQ(dry["items"].size(), 2u);
  EXPECT_TRUE(ok("ann", "list")["items"].empty());

  const json added = ok("ann", "parse", {{"text", sample("flight_british_airways_return.txt")}});
  ASSERT_EQ(added["items"].size(), 2u);
  EXPECT_EQ(added["items"][0]["start"]["iso"], "2026-04-14T08:25+01:00");
  EXPECT_EQ(added["items"][1]["end"]["iso"], "2026-04-22T07:35+01:00");
  EXPECT_EQ(ok("ann", "list")["items"].size(), 2u);
}

TEST_F(TravelServiceTest, UnparseableConfirmationIs422WithWhatIsMissing) {
  Reply reply = call("ann", "parse", {{"text", sample("newsletter_not_a_booking.txt")}});
  EXPECT_EQ(reply.status, 422);
  EXPECT_EQ(reply.body["code"], "unparseable");
  reply = call("ann", "parse", {{"text", sample("flight_missing_times.txt")}});
  EXPECT_EQ(reply.status, 422);
  ASSERT_EQ(reply.body["missing"].size(), 1u);
  EXPECT_NE(reply.body["message"].get<std::string>().find("KL 1008"), std::string::npos);
  EXPECT_TRUE(ok("ann", "list")["items"].empty());
  EXPECT_EQ(call("ann", "parse", json::object()).status, 400);
}

TEST_F(TravelServiceTest, DayPlanInTheTravellersLocalTime) {
  add("ann", {{"kind", "flight"},
              {"number", "AF 6"},
              {"from", "CDG"},
              {"to", "JFK"},
              {"depart", "2026-03-29T10:30"},
              {"arrive", "2026-03-29T12:55"}});
  add("ann", {{"kind", "hotel"},
              {"name", "The Jane"},
              {"city", "New York"},
              {"check_in", "2026-03-29"},
              {"check_out", "2026-03-31"}});
  add("ann", {{"kind", "event"},
              {"title", "Dinner"},
              {"place", "Katz's, New York"},
              {"start", "2026-03-30T19:00"}});

  const json plan = ok("ann", "day", {{"date", "2026-03-29"}});
  EXPECT_EQ(plan["zone"], "America/New_York");  // where the flight lands
  ASSERT_EQ(plan["items"].size(), 2u);
  EXPECT_EQ(plan["items"][0]["kind"], "flight");
  EXPECT_EQ(plan["items"][0]["plan"]["start"], "2026-03-29T04:30-04:00");
  EXPECT_EQ(plan["items"][0]["start"]["text"], "Sun 29 Mar 2026 10:30 CEST");
  EXPECT_EQ(plan["items"][1]["kind"], "hotel");
  EXPECT_EQ(plan["items"][1]["plan"]["start"], "2026-03-29T15:00-04:00");

  const json next_day = ok("ann", "day", {{"date", "2026-03-30"}});
  ASSERT_EQ(next_day["items"].size(), 2u);  // still in the hotel, and dinner
  EXPECT_EQ(next_day["items"][1]["title"], "Dinner, Katz's, New York");

  const json in_paris = ok("ann", "day", {{"date", "2026-03-29"}, {"zone", "Europe/Paris"}});
  EXPECT_EQ(in_paris["items"][0]["plan"]["start"], "2026-03-29T10:30+02:00");
  EXPECT_EQ(call("ann", "day", {{"zone", "Europe/Pariss"}}).status, 400);
  EXPECT_EQ(call("ann", "day", {{"date", "29/03/2026"}}).status, 400);

  set_time("2026-03-30T20:00:00Z");  // default date: today where the traveller is
  EXPECT_EQ(ok("ann", "day")["date"], "2026-03-30");
}

TEST_F(TravelServiceTest, NextFlight) {
  EXPECT_EQ(ok("ann", "next_flight")["flight"], nullptr);
  add("ann", paris_dubai_flight());
  add("ann", {{"kind", "flight"},
              {"number", "EK 73"},
              {"from", "DXB"},
              {"to", "CDG"},
              {"depart", "2026-04-05T08:40"},
              {"arrive", "2026-04-05T13:35"}});
  set_time("2026-03-28T22:15:00Z");
  json next = ok("ann", "next_flight");
  EXPECT_EQ(next["flight"]["number"], "662");
  EXPECT_EQ(next["departs_in"]["seconds"], 3 * 3600);
  EXPECT_EQ(next["departs_in"]["text"], "3 h 0 min");
  EXPECT_EQ(next["departure"], "Sun 29 Mar 2026 03:15 CEST");
  EXPECT_EQ(next["arrival"], "Sun 29 Mar 2026 13:05 +04");
  set_time("2026-03-29T02:00:00Z");
  EXPECT_EQ(ok("ann", "next_flight")["flight"]["number"], "73");
  set_time("2026-04-06T00:00:00Z");
  EXPECT_EQ(ok("ann", "next_flight")["flight"], nullptr);
}

TEST_F(TravelServiceTest, RemindValidates) {
  const json r =
      ok("ann", "remind",
         {{"at", "2026-03-02T09:00:00+01:00"}, {"text", "Buy euros"}, {"zone", "Europe/Paris"}});
  EXPECT_EQ(r["due"], "2026-03-02T09:00+01:00");
  EXPECT_EQ(r["state"], "pending");
  const json listed = ok("ann", "reminders");
  ASSERT_EQ(listed["reminders"].size(), 1u);
  EXPECT_EQ(listed["reminders"][0]["body"], "Buy euros");
  EXPECT_EQ(call("ann", "remind", {{"at", "2026-03-02T09:00"}, {"text", "x"}}).status, 400);
  EXPECT_EQ(call("ann", "remind", {{"at", "2026-03-02T09:00Z"}, {"text", ""}}).status, 400);
  EXPECT_EQ(call("ann", "remind", {{"at", "2026-02-28T09:00Z"}, {"text", "x"}}).body["code"],
            "in_the_past");
  EXPECT_EQ(call("ann", "remind", {{"at", "2026-03-02T09:00Z"}, {"text", 5}}).status, 400);
}

TEST_F(TravelServiceTest, PhrasesTranslatedByTheTranslationService) {
  hub_.on_call(
      [](const Caller&, std::string_view service, std::string_view operation, const json& request) {
        if (service != "translation" || operation != "batch") return Reply::error(404, "x", "x");
        json texts = json::array();
        for (const auto& text : request["texts"])
          texts.push_back("[" + request["to"].get<std::string>() + "] " + text.get<std::string>());
        return Reply::success({{"texts", texts}});
      });
  const json madrid = ok("ann", "phrases", {{"destination", "Madrid"}});
  EXPECT_EQ(madrid["language"], "es");
  ASSERT_GE(madrid["phrases"].size(), 10u);
  EXPECT_EQ(madrid["phrases"][0], (json{{"en", "Hello."}, {"text", "[es] Hello."}}));
  const auto calls = hub_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].request["from"], "en");
  EXPECT_EQ(calls[0].request["to"], "es");

  const std::string id = add("ann", {{"kind", "flight"},
                                     {"number", "AZ 609"},
                                     {"from", "JFK"},
                                     {"to", "FCO"},
                                     {"depart", "2026-04-01T17:10"},
                                     {"arrive", "2026-04-02T07:40"}});
  const json rome = ok("ann", "phrases", {{"id", id}});
  EXPECT_EQ(rome["language"], "it");
  EXPECT_EQ(rome["destination"], "FCO");
  EXPECT_EQ(rome["phrases"][3]["text"], "[it] Do you speak English?");

  const json london = ok("ann", "phrases", {{"destination", "London"}});
  EXPECT_EQ(london["language"], "en");
  EXPECT_EQ(hub_.calls().size(), 2u);  // English needs no translation
  EXPECT_EQ(call("ann", "phrases", {{"destination", "Atlantis"}}).body["code"],
            "unknown_destination");
  EXPECT_EQ(call("ann", "phrases").status, 400);
  EXPECT_EQ(ok("ann", "phrases", {{"language", "de"}})["phrases"][0]["text"], "[de] Hello.");
}

TEST_F(TravelServiceTest, PhrasesWithoutAnInstalledPairSaySoAndInventNothing) {
  hub_.on_call([](const Caller&, std::string_view, std::string_view, const json& request) {
    return Reply::error(409, "unknown_pair",
                        "no pair en-" + request["to"].get<std::string>() + " installed");
  });
  const Reply reply = call("ann", "phrases", {{"destination", "Tokyo"}});
  EXPECT_EQ(reply.status, 409);
  EXPECT_EQ(reply.body["code"], "unknown_pair");
  EXPECT_NE(reply.body["message"].get<std::string>().find("no English to 'ja'"), std::string::npos)
      << reply.body.dump();
  EXPECT_FALSE(reply.body.contains("phrases"));

  hub_.on_call([](const Caller&, std::string_view, std::string_view, const json&) {
    return Reply::success({{"texts", json::array({"only one"})}});
  });
  EXPECT_EQ(call("ann", "phrases", {{"destination", "Tokyo"}}).status, 502);
}

}  // namespace
}  // namespace allscene::services::travel::testing
