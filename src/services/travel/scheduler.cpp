#include "services/travel/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "log/module_log.hpp"

namespace allscene::services::travel {
namespace {

using nlohmann::json;

constexpr const char* kNotificationTarget = "notification";

bool is_reminder_device(const DeviceInfo& device) {
  return device.device_class == "wearable" || device.device_class == "phone";
}

std::string notification_topic(const Reminder& r) {
  return "users/" + r.user + "/notifications/$travel/" + r.id;
}

// The hub's answer to one send_message, handed over from any thread.
struct PendingSend {
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<Reply> reply;
};

}  // namespace

ReminderScheduler::ReminderScheduler(TravelStore& store, HubAccess& hub, const Clock& clock,
                                     SchedulerOptions options)
    : store_(store), hub_(hub), clock_(clock), options_(options), thread_([this] { loop(); }) {}

ReminderScheduler::~ReminderScheduler() {
  stopping_ = true;
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_cv_.notify_all();
  thread_.join();
}

void ReminderScheduler::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

void ReminderScheduler::loop() {
  while (!stopping_) {
    run_once();
    auto sleep = options_.max_sleep;
    if (auto next = store_.next_due()) {
      const auto until =
          std::chrono::duration_cast<std::chrono::milliseconds>(*next - clock_.now());
      sleep = std::clamp(until, std::chrono::milliseconds(100), sleep);
    }
    {
      std::lock_guard pass(pass_mutex_);
      if (retry_pending_) sleep = std::min(sleep, options_.retry_interval);
    }
    std::unique_lock lock(mutex_);
    wake_cv_.wait_for(lock, sleep, [this] { return woken_; });
    woken_ = false;
  }
}

int ReminderScheduler::run_once() {
  std::lock_guard pass(pass_mutex_);
  retry_pending_ = false;
  int finished = 0;
  for (const auto& reminder : store_.actionable(clock_.now())) {
    if (stopping_) break;
    if (deliver(reminder)) ++finished;
  }
  ++passes_;
  return finished;
}

bool ReminderScheduler::deliver(const Reminder& reminder) {
  const bool expired = clock_.now() > reminder.expires;
  if (reminder.state == ReminderState::pending) {
    if (expired) return store_.finish(reminder.id, ReminderState::expired);
    if (!start_sending(reminder)) return false;
  }
  bool any_delivered = false;
  bool all_done = true;
  for (const auto& delivery : store_.deliveries(reminder.id)) {
    if (delivery.done) {
      any_delivered = true;
      continue;
    }
    if (expired) {  // left "sending" past its expiry (the hub was down): give up
      store_.mark_delivered(reminder.id, delivery.target, "given up: expired");
      continue;
    }
    if (delivery.target == kNotificationTarget) {
      publish_notification(reminder);
      store_.mark_delivered(reminder.id, delivery.target, "published");
      any_delivered = true;
      continue;
    }
    const auto outcome = send_to_device(reminder, delivery.target);
    if (outcome == Outcome::stopped) return false;
    if (outcome == Outcome::retry) all_done = false;
    if (outcome == Outcome::delivered) any_delivered = true;
  }
  if (!all_done) {
    retry_pending_ = true;
    return false;
  }
  return store_.finish(reminder.id,
                       any_delivered || !expired ? ReminderState::sent : ReminderState::expired);
}

bool ReminderScheduler::start_sending(const Reminder& reminder) {
  std::vector<std::string> targets;
  for (const auto& device : hub_.devices(reminder.user)) {
    if (is_reminder_device(device)) targets.push_back(device.id);
  }
  targets.push_back(kNotificationTarget);
  if (!store_.begin_sending(reminder.id, targets)) {
    module_log().warn("travel: could not start sending reminder {}", reminder.id);
    return false;
  }
  return true;
}

ReminderScheduler::Outcome ReminderScheduler::send_to_device(const Reminder& reminder,
                                                             const std::string& device_id) {
  const json payload{{"reminder", reminder.id},
                     {"kind", reminder.kind},
                     {"title", reminder.title},
                     {"body", reminder.body},
                     {"due", format_iso(reminder.due, reminder.zone)},
                     {"item", reminder.item_id}};
  auto pending = std::make_shared<PendingSend>();
  hub_.send_message(device_id, payload.dump(), {{"type", "reminder"}, {"reminder", reminder.id}},
                    [pending](Reply reply) {
                      std::lock_guard lock(pending->mutex);
                      pending->reply = std::move(reply);
                      pending->cv.notify_all();
                    });
  const auto deadline = std::chrono::steady_clock::now() + options_.send_timeout;
  std::unique_lock lock(pending->mutex);
  while (!pending->reply) {
    // Unconfirmed: the message may be stored; the target stays open and is
    // sent again later (the duplicate window the header describes).
    if (stopping_) return Outcome::stopped;
    if (std::chrono::steady_clock::now() > deadline) return Outcome::retry;
    pending->cv.wait_for(lock, std::chrono::milliseconds(20));
  }
  const Reply reply = *pending->reply;
  lock.unlock();
  if (reply.ok()) {
    store_.mark_delivered(reminder.id, device_id, reply.body.value("messageId", std::string()));
    return Outcome::delivered;
  }
  if (reply.status < 500) {
    store_.mark_delivered(reminder.id, device_id,
                          "given up: " + std::to_string(reply.status) + " " +
                              reply.body.value("message", std::string()));
    return Outcome::given_up;
  }
  module_log().info("travel: reminder {} to {} failed ({}), will retry", reminder.id, device_id,
                    reply.status);
  return Outcome::retry;
}

void ReminderScheduler::publish_notification(const Reminder& reminder) {
  const json notice{{"app", "Travel"},
                    {"title", reminder.title},
                    {"body", reminder.body},
                    {"time", format_iso(reminder.due, reminder.zone)}};
  hub_.publish(notification_topic(reminder), notice.dump(), true);
}

}  // namespace allscene::services::travel
