// The travel service's durable state: itinerary items and reminders with
// their per-target delivery records, in SQLite (WAL, synchronous=FULL) in
// the service's state directory.
//
// Reminder states: pending -> sending -> sent, or pending -> expired
// (fell due too long ago, see reminder_rules.hpp), or -> cancelled (its
// item was removed). A reminder becomes "sending" together with its list of
// targets in one transaction; each target is marked delivered on its own
// once the hub confirmed it, so after a crash only the unconfirmed targets
// are sent again.
//
// Errors: the constructor throws std::runtime_error when the database
// cannot be opened (start-up configuration); later SQLite failures are
// reported as false / empty results and logged by the caller.
//
// Threading: every member may be called from any thread (one connection
// behind one mutex).
#pragma once

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "services/travel/times.hpp"

struct sqlite3;

namespace allscene::services::travel {

enum class ReminderState { pending, sending, sent, expired, cancelled };
std::string_view to_string(ReminderState state);

struct Reminder {
  std::string id;  // "{item id}.checkin", or "r…" for ad-hoc ones
  std::string user;
  std::string item_id;  // "" for ad-hoc reminders
  std::string kind;     // "checkin", "leave", "boarding", "custom"
  std::string title;
  std::string body;
  std::string zone;  // where `due` is shown to people
  Instant due{};
  Instant expires{};  // not sent at all once this has passed
  ReminderState state = ReminderState::pending;
};

struct Delivery {
  std::string target;  // a device id, or "notification" for the group notice
  bool done = false;
  std::string outcome;  // the hub's message id, or why it was given up
};

struct StoredItem {
  std::string id;
  nlohmann::json fields;
};

class TravelStore {
 public:
  explicit TravelStore(const std::filesystem::path& file);
  ~TravelStore();
  TravelStore(const TravelStore&) = delete;
  TravelStore& operator=(const TravelStore&) = delete;

  // The item and its reminders, in one transaction.
  bool add_item(const std::string& user, const std::string& id, std::int64_t start_utc,
                const nlohmann::json& fields, const std::vector<Reminder>& reminders);
  std::vector<StoredItem> items(const std::string& user);
  std::optional<StoredItem> item(const std::string& user, const std::string& id);
  // Removes the item and cancels its reminders not yet sent; false if the
  // user has no such item.
  bool remove_item(const std::string& user, const std::string& id);

  bool add_reminder(const Reminder& reminder);
  std::vector<Reminder> reminders(const std::string& user);
  std::vector<Delivery> deliveries(const std::string& reminder_id);

  // Reminders to act on now: pending and due at `now`, or left "sending".
  std::vector<Reminder> actionable(Instant now);
  // The earliest due time among pending reminders.
  std::optional<Instant> next_due();

  // pending -> sending with these targets (one transaction).
  bool begin_sending(const std::string& reminder_id, const std::vector<std::string>& targets);
  bool mark_delivered(const std::string& reminder_id, const std::string& target,
                      const std::string& outcome);
  // sending/pending -> `state` (sent or expired).
  bool finish(const std::string& reminder_id, ReminderState state);

 private:
  bool exec(const char* sql);
  // Under mutex_: one pending reminder.
  bool insert_reminder_locked(const Reminder& reminder);
  std::vector<Reminder> select_reminders(const char* sql, const std::string& text,
                                         std::int64_t number);

  std::mutex mutex_;
  sqlite3* db_ = nullptr;  // guarded by mutex_
};

}  // namespace allscene::services::travel
