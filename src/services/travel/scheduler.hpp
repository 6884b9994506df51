// Sends due reminders: a thread inside the travel service, started by the
// constructor and stopped and joined by the destructor.
//
// For each due reminder: fixes its targets (the owner's "wearable" and
// "phone" devices at that moment, plus the group notification) and marks
// it "sending" in one transaction; then for each target not yet delivered
// sends it and marks that target delivered once the hub confirmed it; the
// reminder is "sent" when every target is. Device targets get a
// cloud-to-device message (durable in the hub: offline devices get it when
// they return) with application properties type=reminder and
// reminder={reminder id}; the notification is published retained on
// users/{user}/notifications/$travel/{reminder id}.
//
// Guarantee (docs/services/travel.md): every reminder that has not expired
// reaches every target at least once, across restarts; a target gets a
// second copy only if the service stopped (crash, shutdown, or the hub not
// confirming within the send timeout) after the hub stored the message and
// before the service recorded it. That copy carries the same "reminder"
// property (and the notification the same retained topic), so a receiver
// recognises it. A target the hub refuses with 4xx (device removed) is
// given up; 5xx is retried every `retry_interval`.
//
// Threading: wake() and run_once() may be called from any thread; passes
// never overlap.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "services/service.hpp"
#include "services/travel/travel_store.hpp"

namespace allscene::services::travel {

// Where the scheduler reads the time; tests inject a fake one.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Instant now() const override {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  }
};

struct SchedulerOptions {
  std::chrono::milliseconds send_timeout{10'000};    // real time, per message
  std::chrono::milliseconds retry_interval{30'000};  // after a 5xx from the hub
  std::chrono::milliseconds max_sleep{60'000};       // re-reads the clock at least this often
};

class ReminderScheduler {
 public:
  ReminderScheduler(TravelStore& store, HubAccess& hub, const Clock& clock,
                    SchedulerOptions options = {});
  ~ReminderScheduler();
  ReminderScheduler(const ReminderScheduler&) = delete;
  ReminderScheduler& operator=(const ReminderScheduler&) = delete;

  // Re-reads the store and the clock now (a reminder was added, or a test
  // moved its clock).
  void wake();
  // One pass over the due reminders; returns how many became sent or
  // expired. Also what the thread runs.
  int run_once();
  // Passes completed so far (tests wait on it).
  std::uint64_t passes() const { return passes_.load(); }

 private:
  void loop();
  // Returns true when the reminder reached a final state.
  bool deliver(const Reminder& reminder);
  bool start_sending(const Reminder& reminder);
  enum class Outcome { delivered, given_up, retry, stopped };
  Outcome send_to_device(const Reminder& reminder, const std::string& device_id);
  void publish_notification(const Reminder& reminder);

  TravelStore& store_;
  HubAccess& hub_;
  const Clock& clock_;
  SchedulerOptions options_;

  std::mutex pass_mutex_;  // one pass at a time
  std::mutex mutex_;
  std::condition_variable wake_cv_;
  bool woken_ = false;          // guarded by mutex_
  bool retry_pending_ = false;  // guarded by pass_mutex_
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> passes_{0};
  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace allscene::services::travel
