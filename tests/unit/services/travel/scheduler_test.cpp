// Reminder delivery: the right devices at the right times, the hub's
// failures, and restarts at every point of a reminder's life — each
// reminder reaches each target once, none is lost.
#include <gtest/gtest.h>

#include "service_fixture.hpp"

namespace allscene::services::travel::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class TravelSchedulerTest : public TravelFixture {
 protected:
  TravelSchedulerTest() {
    hub_.add_device("ann", "ann-watch", "wearable");
    hub_.add_device("ann", "ann-phone", "phone");
    hub_.add_device("ann", "ann-laptop", "laptop");
    hub_.add_device("bob", "bob-phone", "phone");
  }
  int run_pass() { return service_->scheduler().run_once(); }
  json reminder(const std::string& id) {
    const json all = ok("ann", "reminders");
    for (const auto& r : all["reminders"]) {
      if (r["id"] == id) return r;
    }
    return nullptr;
  }
  std::size_t sent_count() { return hub_.sent().size(); }
};

TEST_F(TravelSchedulerTest, FlightRemindersReachWearableAndPhoneAtTheirTimes) {
  const std::string id = add("ann", paris_dubai_flight());
  set_time("2026-03-28T01:14:59Z");  // 1 s before check-in (02:15 CET)
  run_pass();
  EXPECT_EQ(sent_count(), 0u);

  set_time("2026-03-28T01:15:00Z");
  run_pass();
  auto sent = hub_.sent();
  ASSERT_EQ(sent.size(), 2u);
  std::set<std::string> devices{sent[0].device, sent[1].device};
  EXPECT_EQ(devices, (std::set<std::string>{"ann-watch", "ann-phone"}));  // not the laptop
  EXPECT_EQ(sent[0].reminder, id + ".checkin");
  EXPECT_EQ(sent[0].properties, (std::vector<std::pair<std::string, std::string>>{
                                    {"type", "reminder"}, {"reminder", id + ".checkin"}}));
  EXPECT_EQ(sent[0].payload["due"], "2026-03-28T02:15+01:00");
  EXPECT_EQ(sent[0].payload["title"], "Check-in is open: AF 662 to Dubai");
  const auto published = hub_.published();
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].topic, "users/ann/notifications/$travel/" + id + ".checkin");
  EXPECT_TRUE(published[0].retain);
  EXPECT_EQ(published[0].payload["app"], "Travel");
  EXPECT_EQ(published[0].payload["time"], "2026-03-28T02:15+01:00");

  const json checkin = reminder(id + ".checkin");
  EXPECT_EQ(checkin["state"], "sent");
  EXPECT_EQ(checkin["deliveries"].size(), 3u);
  for (const auto& d : checkin["deliveries"]) EXPECT_EQ(d["delivered"], true);
  EXPECT_EQ(reminder(id + ".leave")["state"], "pending");

  set_time("2026-03-28T22:15:00Z");  // leave for the airport: 23:15 CET
  run_pass();
  EXPECT_EQ(sent_count(), 4u);
  set_time("2026-03-29T00:35:00Z");  // boarding: 01:35 CET, 40 min before 03:15 CEST
  run_pass();
  EXPECT_EQ(sent_count(), 6u);
  EXPECT_EQ(hub_.published().back().topic, "users/ann/notifications/$travel/" + id + ".boarding");
  run_pass();
  EXPECT_EQ(sent_count(), 6u);
}

TEST_F(TravelSchedulerTest, TheThreadDeliversOnItsOwn) {
  const std::string id =
      ok("ann", "remind", {{"at", "2026-03-01T09:00:00Z"}, {"text", "Renew passport"}})["id"];
  set_time("2026-03-01T09:00:00Z");
  service_->wake_scheduler();
  ASSERT_TRUE(hub_.wait_until([&] { return hub_.published().size() == 1; }));
  EXPECT_EQ(hub_.copies(), (std::map<std::pair<std::string, std::string>, int>{
                               {{"ann-phone", id}, 1}, {{"ann-watch", id}, 1}}));
  EXPECT_EQ(hub_.published()[0].payload["body"], "Renew passport");
}

TEST_F(TravelSchedulerTest, OtherUsersDevicesGetNothing) {
  ok("bob", "remind", {{"at", "2026-03-01T09:00:00Z"}, {"text", "Bob's"}});
  set_time("2026-03-01T09:00:00Z");
  run_pass();
  ASSERT_EQ(sent_count(), 1u);
  EXPECT_EQ(hub_.sent()[0].device, "bob-phone");
  EXPECT_EQ(hub_.published()[0].topic.rfind("users/bob/", 0), 0u);
}

TEST_F(TravelSchedulerTest, FailedSendIsRetriedNotDuplicated) {
  const std::string id = ok("ann", "remind", {{"at", "2026-03-01T09:00:00Z"}, {"text", "x"}})["id"];
  hub_.set_mode(FakeHub::Mode::fail);
  set_time("2026-03-01T09:00:00Z");
  run_pass();
  EXPECT_EQ(sent_count(), 0u);
  EXPECT_EQ(reminder(id)["state"], "sending");
  hub_.set_mode(FakeHub::Mode::confirm);
  run_pass();
  EXPECT_EQ(reminder(id)["state"], "sent");
  for (const auto& [key, copies] : hub_.copies()) EXPECT_EQ(copies, 1) << key.first;
  EXPECT_EQ(sent_count(), 2u);
}

TEST_F(TravelSchedulerTest, RefusedDeviceIsGivenUpAndTheRestDelivered) {
  const std::string id = ok("ann", "remind", {{"at", "2026-03-01T09:00:00Z"}, {"text", "x"}})["id"];
  hub_.set_mode(FakeHub::Mode::refuse);
  set_time("2026-03-01T09:00:00Z");
  run_pass();
  const json r = reminder(id);
  EXPECT_EQ(r["state"], "sent");  // the notification went out
  ASSERT_EQ(r["deliveries"].size(), 3u);
  EXPECT_EQ(r["deliveries"][0]["target"], "ann-phone");
  EXPECT_EQ(r["deliveries"][0]["outcome"].get<std::string>().rfind("given up: 404", 0), 0u);
  EXPECT_EQ(r["deliveries"][2]["outcome"], "published");
  hub_.set_mode(FakeHub::Mode::confirm);
  run_pass();
  EXPECT_EQ(sent_count(), 0u);  // never retried
}

TEST_F(TravelSchedulerTest, FarPastReminderExpiresUnsent) {
  const std::string id = ok("ann", "remind", {{"at", "2026-03-01T09:00:00Z"}, {"text", "x"}})["id"];
  stop();                            // the hub goes down before it is due
  set_time("2026-03-01T11:00:01Z");  // and is back 2 h 1 s after it
  start();
  run_pass();
  EXPECT_EQ(sent_count(), 0u);
  EXPECT_EQ(reminder(id)["state"], "expired");
}

TEST_F(TravelSchedulerTest, RemovedItemCancelsItsReminders) {
  const std::string id = add("ann", paris_dubai_flight());
  ok("ann", "remove", {{"id", id}});
  set_time("2026-03-29T00:35:00Z");
  run_pass();
  EXPECT_EQ(sent_count(), 0u);
  EXPECT_EQ(reminder(id + ".boarding")["state"], "cancelled");
}

// Stops the service at each point of a reminder's life, the worst one being
// after the hub stored a message and before the service recorded it.
TEST_F(TravelSchedulerTest, RestartsLoseNothingAndSendNothingTwice) {
  const std::string flight = add("ann", paris_dubai_flight());
  const std::string early =
      ok("ann", "remind", {{"at", "2026-03-29T00:00:00Z"}, {"text", "Pack"}})["id"];
  const std::string stale =
      ok("ann", "remind", {{"at", "2026-03-28T19:00:00Z"}, {"text", "Old"}})["id"];

  // 1. Check-in goes out normally.
  set_time("2026-03-28T01:15:00Z");
  run_pass();
  ASSERT_EQ(sent_count(), 2u);

  // 2. Restart while nothing is due.
  start();
  run_pass();
  EXPECT_EQ(sent_count(), 2u);

  // 3. "Leave" falls due; the hub stores the first message but the service
  //    stops before it hears back.
  hub_.set_mode(FakeHub::Mode::take_without_confirming);
  set_time("2026-03-28T22:15:00Z");  // also past `stale` (19:00) + 2 h: it expires
  service_->wake_scheduler();
  ASSERT_TRUE(hub_.wait_until([&] { return sent_count() == 3; }));
  const std::string taken = hub_.sent()[2].reminder;
  stop();
  EXPECT_EQ(sent_count(), 3u);

  // 4. Down through `early` (00:00) and boarding (00:35); back 10 min
  //    before departure.
  hub_.set_mode(FakeHub::Mode::confirm);
  set_time("2026-03-29T01:05:00Z");
  start();  // the start-up pass sends what fell due
  ASSERT_TRUE(hub_.wait_until([&] {
    const json b = reminder(flight + ".boarding");
    const json l = reminder(flight + ".leave");
    return b["state"] == "sent" && l["state"] == "sent";
  }));

  // 5. Once more: a restart after everything is sent sends nothing.
  start();
  run_pass();
  stop();

  // Every reminder that had not expired reached each phone and wearable:
  // exactly one copy per (device, reminder) except the one the hub stored
  // unconfirmed, which has two copies carrying the same reminder id.
  const auto copies = hub_.copies();
  for (const std::string& r :
       {flight + ".checkin", flight + ".leave", flight + ".boarding", early}) {
    for (const char* device : {"ann-watch", "ann-phone"}) {
      const int expected = (r == taken && device == hub_.sent()[2].device) ? 2 : 1;
      EXPECT_EQ(copies.count({device, r}) ? copies.at({device, r}) : 0, expected)
          << device << " " << r;
    }
  }
  EXPECT_EQ(taken, flight + ".leave");
  // `stale` was 3 h 15 min late when the scheduler reached it: never sent.
  EXPECT_EQ(copies.count({"ann-phone", stale}), 0u);
  EXPECT_EQ(copies.size(), 8u);
  EXPECT_EQ(sent_count(), 9u);
  std::map<std::string, int> notices;
  for (const auto& p : hub_.published()) ++notices[p.topic];
  EXPECT_EQ(notices.size(), 4u);
  for (const auto& [topic, n] : notices) EXPECT_EQ(n, 1) << topic;
  start();
  EXPECT_EQ(reminder(early)["state"], "sent");
  EXPECT_EQ(reminder(stale)["state"], "expired");
}

}  // namespace
}  // namespace allscene::services::travel::testing
