#include "services/travel/travel_store.hpp"

#include <sqlite3.h>

#include <stdexcept>

namespace allscene::services::travel {
namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS items(
  id TEXT PRIMARY KEY, user TEXT NOT NULL, start_utc INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS items_user ON items(user, start_utc);
CREATE TABLE IF NOT EXISTS reminders(
  id TEXT PRIMARY KEY, user TEXT NOT NULL, item_id TEXT NOT NULL, kind TEXT NOT NULL,
  title TEXT NOT NULL, body TEXT NOT NULL, zone TEXT NOT NULL,
  due_utc INTEGER NOT NULL, expires_utc INTEGER NOT NULL, state TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reminders_due ON reminders(state, due_utc);
CREATE TABLE IF NOT EXISTS deliveries(
  reminder_id TEXT NOT NULL, target TEXT NOT NULL, done INTEGER NOT NULL,
  outcome TEXT NOT NULL, PRIMARY KEY(reminder_id, target));
)";

constexpr const char* kReminderColumns =
    "SELECT id, user, item_id, kind, title, body, zone, due_utc, expires_utc, state "
    "FROM reminders ";

// One prepared statement; binds by position from 1.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(const std::string& text) {
    if (stmt_)
      sqlite3_bind_text(stmt_, ++index_, text.data(), static_cast<int>(text.size()),
                        SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(std::int64_t number) {
    if (stmt_) sqlite3_bind_int64(stmt_, ++index_, number);
    return *this;
  }
  // True while there is a row.
  bool row() { return stmt_ && sqlite3_step(stmt_) == SQLITE_ROW; }
  // True if the statement ran to completion.
  bool run() { return stmt_ && sqlite3_step(stmt_) == SQLITE_DONE; }
  std::string text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  std::int64_t number(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int index_ = 0;
};

ReminderState state_from(const std::string& text) {
  if (text == "sending") return ReminderState::sending;
  if (text == "sent") return ReminderState::sent;
  if (text == "expired") return ReminderState::expired;
  if (text == "cancelled") return ReminderState::cancelled;
  return ReminderState::pending;
}

Instant instant(std::int64_t seconds) { return Instant{std::chrono::seconds(seconds)}; }
std::int64_t seconds(Instant t) { return t.time_since_epoch().count(); }

}  // namespace

std::string_view to_string(ReminderState state) {
  switch (state) {
    case ReminderState::pending:
      return "pending";
    case ReminderState::sending:
      return "sending";
    case ReminderState::sent:
      return "sent";
    case ReminderState::expired:
      return "expired";
    case ReminderState::cancelled:
      return "cancelled";
  }
  return "pending";
}

TravelStore::TravelStore(const std::filesystem::path& file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("travel: cannot open " + file.string() + ": " + message);
  }
  sqlite3_busy_timeout(db_, 5000);
  if (!exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") || !exec(kSchema)) {
    std::string message = sqlite3_errmsg(db_);
    sqlite3_close(db_);
    throw std::runtime_error("travel: cannot prepare " + file.string() + ": " + message);
  }
}

TravelStore::~TravelStore() { sqlite3_close(db_); }

bool TravelStore::exec(const char* sql) {
  return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

bool TravelStore::add_item(const std::string& user, const std::string& id, std::int64_t start_utc,
                           const nlohmann::json& fields, const std::vector<Reminder>& reminders) {
  std::lock_guard lock(mutex_);
  if (!exec("BEGIN IMMEDIATE")) return false;
  bool ok = Statement(db_, "INSERT INTO items(id, user, start_utc, body) VALUES(?,?,?,?)")
                .bind(id)
                .bind(user)
                .bind(start_utc)
                .bind(fields.dump())
                .run();
  for (const auto& r : reminders) ok = ok && insert_reminder_locked(r);
  return exec(ok ? "COMMIT" : "ROLLBACK") && ok;
}

bool TravelStore::insert_reminder_locked(const Reminder& r) {
  return Statement(db_, "INSERT INTO reminders VALUES(?,?,?,?,?,?,?,?,?,'pending')")
      .bind(r.id)
      .bind(r.user)
      .bind(r.item_id)
      .bind(r.kind)
      .bind(r.title)
      .bind(r.body)
      .bind(r.zone)
      .bind(seconds(r.due))
      .bind(seconds(r.expires))
      .run();
}

std::vector<StoredItem> TravelStore::items(const std::string& user) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT id, body FROM items WHERE user=? ORDER BY start_utc, id");
  s.bind(user);
  std::vector<StoredItem> out;
  while (s.row()) {
    out.push_back({s.text(0), nlohmann::json::parse(s.text(1), nullptr, false)});
  }
  return out;
}

std::optional<StoredItem> TravelStore::item(const std::string& user, const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT id, body FROM items WHERE user=? AND id=?");
  s.bind(user).bind(id);
  if (!s.row()) return std::nullopt;
  return StoredItem{s.text(0), nlohmann::json::parse(s.text(1), nullptr, false)};
}

bool TravelStore::remove_item(const std::string& user, const std::string& id) {
  std::lock_guard lock(mutex_);
  if (!exec("BEGIN IMMEDIATE")) return false;
  Statement remove(db_, "DELETE FROM items WHERE user=? AND id=?");
  bool ok = remove.bind(user).bind(id).run() && sqlite3_changes(db_) == 1;
  ok = ok && Statement(db_,
                       "UPDATE reminders SET state='cancelled' WHERE user=? AND item_id=? "
                       "AND state IN ('pending','sending')")
                 .bind(user)
                 .bind(id)
                 .run();
  return exec(ok ? "COMMIT" : "ROLLBACK") && ok;
}

bool TravelStore::add_reminder(const Reminder& r) {
  std::lock_guard lock(mutex_);
  return insert_reminder_locked(r);
}

std::vector<Reminder> TravelStore::select_reminders(const char* where, const std::string& text,
                                                    std::int64_t number) {
  Statement s(db_, (std::string(kReminderColumns) + where).c_str());
  if (!text.empty()) s.bind(text);
  if (number != 0) s.bind(number);
  std::vector<Reminder> out;
  while (s.row()) {
    Reminder r;
    r.id = s.text(0);
    r.user = s.text(1);
    r.item_id = s.text(2);
    r.kind = s.text(3);
    r.title = s.text(4);
    r.body = s.text(5);
    r.zone = s.text(6);
    r.due = instant(s.number(7));
    r.expires = instant(s.number(8));
    r.state = state_from(s.text(9));
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Reminder> TravelStore::reminders(const std::string& user) {
  std::lock_guard lock(mutex_);
  return select_reminders("WHERE user=? ORDER BY due_utc, id", user, 0);
}

std::vector<Delivery> TravelStore::deliveries(const std::string& reminder_id) {
  std::lock_guard lock(mutex_);
  Statement s(db_,
              "SELECT target, done, outcome FROM deliveries WHERE reminder_id=? "
              "ORDER BY target");
  s.bind(reminder_id);
  std::vector<Delivery> out;
  while (s.row()) out.push_back({s.text(0), s.number(1) != 0, s.text(2)});
  return out;
}

std::vector<Reminder> TravelStore::actionable(Instant now) {
  std::lock_guard lock(mutex_);
  return select_reminders(
      "WHERE state='sending' OR (state='pending' AND due_utc<=?1) ORDER BY due_utc, id", {},
      seconds(now));
}

std::optional<Instant> TravelStore::next_due() {
  std::lock_guard lock(mutex_);
  Statement s(db_, "SELECT MIN(due_utc) FROM reminders WHERE state='pending'");
  if (!s.row() || s.is_null(0)) return std::nullopt;
  return instant(s.number(0));
}

bool TravelStore::begin_sending(const std::string& reminder_id,
                                const std::vector<std::string>& targets) {
  std::lock_guard lock(mutex_);
  if (!exec("BEGIN IMMEDIATE")) return false;
  bool ok = Statement(db_, "UPDATE reminders SET state='sending' WHERE id=? AND state='pending'")
                .bind(reminder_id)
                .run() &&
            sqlite3_changes(db_) == 1;
  for (const auto& target : targets) {
    ok = ok && Statement(db_, "INSERT INTO deliveries VALUES(?,?,0,'')")
                   .bind(reminder_id)
                   .bind(target)
                   .run();
  }
  return exec(ok ? "COMMIT" : "ROLLBACK") && ok;
}

bool TravelStore::mark_delivered(const std::string& reminder_id, const std::string& target,
                                 const std::string& outcome) {
  std::lock_guard lock(mutex_);
  return Statement(db_, "UPDATE deliveries SET done=1, outcome=? WHERE reminder_id=? AND target=?")
      .bind(outcome)
      .bind(reminder_id)
      .bind(target)
      .run();
}

bool TravelStore::finish(const std::string& reminder_id, ReminderState state) {
  std::lock_guard lock(mutex_);
  return Statement(db_,
                   "UPDATE reminders SET state=? WHERE id=? AND state IN ('pending','sending')")
      .bind(std::string(to_string(state)))
      .bind(reminder_id)
      .run();
}

}  // namespace allscene::services::travel
