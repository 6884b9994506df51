#include "store/sqlite_store.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <charconv>
#include <unordered_map>

#include "log/module_log.hpp"
#include "mqtt/codec.hpp"
#include "store/sqlite_util.hpp"

namespace allscene::store {

using broker::Message;
using broker::MessagePtr;
namespace op = broker::store_op;

namespace {

constexpr int kApplicationId = 0x616c6c73;  // "alls": this is an allscene store

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE sessions(
  client_id TEXT PRIMARY KEY,
  expiry_interval INTEGER NOT NULL,
  expires_at INTEGER,
  will BLOB,
  will_delay INTEGER NOT NULL DEFAULT 0,
  will_at INTEGER) WITHOUT ROWID;
CREATE TABLE subscriptions(
  client_id TEXT NOT NULL,
  filter TEXT NOT NULL,
  options INTEGER NOT NULL,
  subscription_id INTEGER NOT NULL,
  PRIMARY KEY(client_id, filter)) WITHOUT ROWID;
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  expires_at INTEGER,
  origin TEXT NOT NULL,
  body BLOB NOT NULL);
CREATE TABLE deliveries(
  client_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  message_id INTEGER NOT NULL,
  qos INTEGER NOT NULL,
  retain INTEGER NOT NULL,
  subscription_ids TEXT NOT NULL,
  released INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(client_id, seq)) WITHOUT ROWID;
CREATE INDEX deliveries_by_message ON deliveries(message_id);
CREATE TABLE inbound_qos2(
  client_id TEXT NOT NULL,
  packet_id INTEGER NOT NULL,
  PRIMARY KEY(client_id, packet_id)) WITHOUT ROWID;
CREATE TABLE retained(
  topic TEXT PRIMARY KEY,
  id INTEGER NOT NULL,
  expires_at INTEGER,
  origin TEXT NOT NULL,
  body BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
)sql";

// Version 2: recoverable inbound QoS 2 messages (see broker::Message): the
// packet id keeps the message, and completed deliveries of it stay as
// "done" marks until the publisher releases it.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE deliveries ADD COLUMN done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbound_qos2 ADD COLUMN message_id INTEGER;
CREATE INDEX inbound_qos2_by_message ON inbound_qos2(message_id) WHERE message_id IS NOT NULL;
)sql";

// Version 3: documents (registry users and devices; see DocumentStore).
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE documents(
  collection TEXT NOT NULL,
  key TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY(collection, key)) WITHOUT ROWID;
)sql";

constexpr Migration kMigrations[] = {{1, kSchemaV1}, {2, kSchemaV2}, {3, kSchemaV3}};

std::int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A message body is stored as the MQTT 5 PUBLISH that carries it: the codec
// already reads and writes every property, and decoding it is total.
std::vector<std::uint8_t> encode_body(const Message& m) {
  mqtt::Publish p;
  p.qos = m.qos;
  p.retain = m.retain;
  p.topic = m.topic;
  p.packet_id = m.qos ? 1 : 0;
  p.payload = m.payload;
  p.properties = m.properties;
  std::vector<std::uint8_t> out;
  mqtt::encode(p, mqtt::Version::v5, out);
  return out;
}

std::shared_ptr<Message> decode_body(std::span<const std::uint8_t> body,
                                     std::optional<std::int64_t> expires_at, std::string origin,
                                     std::uint64_t id) {
  auto r = mqtt::decode(body, mqtt::Version::v5);
  auto* p = std::get_if<mqtt::Publish>(&r.packet);
  if (!r.ok() || !p) return nullptr;
  auto m = std::make_shared<Message>();
  m->topic = std::move(p->topic);
  m->payload = std::move(p->payload);
  m->qos = p->qos;
  m->retain = p->retain;
  m->properties = std::move(p->properties);
  if (expires_at) m->expires_at = broker::from_wall_ms(*expires_at);
  m->origin_client_id = std::move(origin);
  m->id = id;
  return m;
}

// Subscription options as the SUBSCRIBE options byte (§3.8.3.1).
int options_byte(const mqtt::SubscribeOptions& o) {
  return o.max_qos | (o.no_local ? 4 : 0) | (o.retain_as_published ? 8 : 0) |
         (o.retain_handling << 4);
}
mqtt::SubscribeOptions options_from(int b) {
  return {static_cast<std::uint8_t>(b & 3), (b & 4) != 0, (b & 8) != 0,
          static_cast<std::uint8_t>((b >> 4) & 3)};
}

std::vector<std::uint32_t> parse_ids(std::string_view text) {
  std::vector<std::uint32_t> ids;
  while (!text.empty()) {
    std::uint32_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc()) ids.push_back(v);
    const auto used = static_cast<std::size_t>(end - text.data());
    text.remove_prefix(std::min(text.size(), used + 1));
  }
  return ids;
}

std::optional<std::int64_t> optional_ms(const std::optional<broker::TimePoint>& t) {
  if (!t) return std::nullopt;
  return broker::to_wall_ms(*t);
}

std::string damaged(const std::filesystem::path& path, const std::string& what) {
  return fmt::format(
      "session store {} is damaged ({}): run `allscene hub --check-data` for details, then "
      "restore a backup or move the file (and its -wal) away to start empty",
      path.string(), what);
}

}  // namespace

std::span<const Migration> schema_migrations() { return kMigrations; }

// ---- the writer's statements ------------------------------------------------

class SqliteStore::Writer {
 public:
  explicit Writer(sqlite3* db)
      : db_(db),
        save_session_(db,
                      "INSERT OR REPLACE INTO sessions(client_id, expiry_interval, expires_at, "
                      "will, will_delay, will_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"),
        delete_session_(db, "DELETE FROM sessions WHERE client_id = ?1"),
        session_messages_(db,
                          "SELECT message_id FROM deliveries WHERE client_id = ?1 UNION "
                          "SELECT message_id FROM inbound_qos2 WHERE client_id = ?1 AND "
                          "message_id IS NOT NULL"),
        session_releases_(db,
                          "SELECT message_id FROM inbound_qos2 WHERE client_id = ?1 AND "
                          "message_id IS NOT NULL"),
        delete_session_deliveries_(db, "DELETE FROM deliveries WHERE client_id = ?1"),
        delete_session_subs_(db, "DELETE FROM subscriptions WHERE client_id = ?1"),
        delete_session_qos2_(db, "DELETE FROM inbound_qos2 WHERE client_id = ?1"),
        save_sub_(db,
                  "INSERT OR REPLACE INTO subscriptions(client_id, filter, options, "
                  "subscription_id) VALUES(?1, ?2, ?3, ?4)"),
        delete_sub_(db, "DELETE FROM subscriptions WHERE client_id = ?1 AND filter = ?2"),
        save_message_(db,
                      "INSERT OR IGNORE INTO messages(id, expires_at, origin, body) "
                      "VALUES(?1, ?2, ?3, ?4)"),
        save_delivery_(db,
                       "INSERT OR REPLACE INTO deliveries(client_id, seq, message_id, qos, "
                       "retain, subscription_ids, released) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 0)"),
        release_(db, "UPDATE deliveries SET released = 1 WHERE client_id = ?1 AND seq = ?2"),
        delete_delivery_(db, "DELETE FROM deliveries WHERE client_id = ?1 AND seq = ?2"),
        mark_done_(db, "UPDATE deliveries SET done = 1 WHERE client_id = ?1 AND seq = ?2"),
        delete_marks_(db, "DELETE FROM deliveries WHERE message_id = ?1 AND done = 1"),
        delete_orphan_(db,
                       "DELETE FROM messages WHERE id = ?1 AND NOT EXISTS "
                       "(SELECT 1 FROM deliveries WHERE message_id = ?1) AND NOT EXISTS "
                       "(SELECT 1 FROM inbound_qos2 WHERE message_id = ?1)"),
        save_qos2_(db,
                   "INSERT OR IGNORE INTO inbound_qos2(client_id, packet_id, message_id) "
                   "VALUES(?1, ?2, ?3)"),
        qos2_message_(db,
                      "SELECT message_id FROM inbound_qos2 WHERE client_id = ?1 AND "
                      "packet_id = ?2 AND message_id IS NOT NULL"),
        delete_qos2_(db, "DELETE FROM inbound_qos2 WHERE client_id = ?1 AND packet_id = ?2"),
        save_retained_(db,
                       "INSERT OR REPLACE INTO retained(topic, id, expires_at, origin, body) "
                       "VALUES(?1, ?2, ?3, ?4, ?5)"),
        delete_retained_(db, "DELETE FROM retained WHERE topic = ?1") {}

  // Applies one op; throws SqliteError on failure (the transaction rolls back).
  void apply(const broker::StoreOp& any) {
    std::visit([this](const auto& o) { apply_one(o); }, any);
  }

  void delete_session(const std::string& client_id) {
    // The session's unreleased messages will never be released: other
    // sessions' marks of them go too.
    session_releases_.bind(1, client_id);
    while (session_releases_.row()) delete_marks(session_releases_.int64(0));
    std::vector<std::int64_t> messages;
    session_messages_.bind(1, client_id);
    while (session_messages_.row()) messages.push_back(session_messages_.int64(0));
    for (Statement* s : {&delete_session_deliveries_, &delete_session_subs_, &delete_session_qos2_,
                         &delete_session_}) {
      s->bind(1, client_id);
      s->run();
    }
    for (const auto id : messages) drop_if_orphan(id);
  }

  // After a rollback the body written last may not be stored after all.
  void rolled_back() { last_message_ = 0; }

 private:
  void apply_one(const op::SaveSession& o) {
    save_session_.bind(1, o.client_id);
    save_session_.bind(2, static_cast<std::int64_t>(o.expiry_interval));
    save_session_.bind(3, o.expires_at);
    if (o.will) {
      save_session_.bind(4, encode_body(*o.will));
    } else {
      save_session_.bind_null(4);
    }
    save_session_.bind(5, static_cast<std::int64_t>(o.will_delay));
    save_session_.bind(6, o.will_at);
    save_session_.run();
  }
  void apply_one(const op::DeleteSession& o) { delete_session(o.client_id); }
  void apply_one(const op::SaveSubscription& o) {
    save_sub_.bind(1, o.client_id);
    save_sub_.bind(2, o.filter);
    save_sub_.bind(3, static_cast<std::int64_t>(options_byte(o.options)));
    save_sub_.bind(4, static_cast<std::int64_t>(o.subscription_id));
    save_sub_.run();
  }
  void apply_one(const op::DeleteSubscription& o) {
    delete_sub_.bind(1, o.client_id);
    delete_sub_.bind(2, o.filter);
    delete_sub_.run();
  }
  void apply_one(const op::SaveDelivery& o) {
    const auto id = save_body(*o.message);
    save_delivery_.bind(1, o.client_id);
    save_delivery_.bind(2, static_cast<std::int64_t>(o.seq));
    save_delivery_.bind(3, id);
    save_delivery_.bind(4, static_cast<std::int64_t>(o.qos));
    save_delivery_.bind(5, static_cast<std::int64_t>(o.retain));
    save_delivery_.bind(6, fmt::format("{}", fmt::join(o.subscription_ids, ",")));
    save_delivery_.run();
  }
  void apply_one(const op::ReleaseDelivery& o) {
    release_.bind(1, o.client_id);
    release_.bind(2, static_cast<std::int64_t>(o.seq));
    release_.run();
  }
  void apply_one(const op::DeleteDelivery& o) {
    Statement& st = o.leave_mark ? mark_done_ : delete_delivery_;
    st.bind(1, o.client_id);
    st.bind(2, static_cast<std::int64_t>(o.seq));
    st.run();
    if (!o.leave_mark) drop_if_orphan(static_cast<std::int64_t>(o.message_id));
  }
  void apply_one(const op::SaveInboundQos2& o) {
    save_qos2_.bind(1, o.client_id);
    save_qos2_.bind(2, static_cast<std::int64_t>(o.packet_id));
    if (o.message) {
      save_qos2_.bind(3, save_body(*o.message));
    } else {
      save_qos2_.bind_null(3);
    }
    save_qos2_.run();
  }
  void apply_one(const op::DeleteInboundQos2& o) {
    std::optional<std::int64_t> message;
    qos2_message_.bind(1, o.client_id);
    qos2_message_.bind(2, static_cast<std::int64_t>(o.packet_id));
    if (qos2_message_.row()) message = qos2_message_.int64(0);
    qos2_message_.reset();
    delete_qos2_.bind(1, o.client_id);
    delete_qos2_.bind(2, static_cast<std::int64_t>(o.packet_id));
    delete_qos2_.run();
    if (message) {
      delete_marks(*message);
      drop_if_orphan(*message);
    }
  }
  void apply_one(const op::SaveRetained& o) {
    const Message& m = *o.message;
    if (m.payload.empty()) {
      delete_retained_.bind(1, m.topic);
      delete_retained_.run();
      return;
    }
    save_retained_.bind(1, m.topic);
    save_retained_.bind(2, static_cast<std::int64_t>(m.id));
    save_retained_.bind(3, optional_ms(m.expires_at));
    save_retained_.bind(4, m.origin_client_id);
    save_retained_.bind(5, encode_body(m));
    save_retained_.run();
  }

  // Stores a message body unless it is stored already; returns its id.
  std::int64_t save_body(const Message& m) {
    const auto id = static_cast<std::int64_t>(m.id);
    if (id != last_message_) {  // a fan-out in one batch writes its body once
      save_message_.bind(1, id);
      save_message_.bind(2, optional_ms(m.expires_at));
      save_message_.bind(3, m.origin_client_id);
      save_message_.bind(4, encode_body(m));
      save_message_.run();
      last_message_ = id;
    }
    return id;
  }

  void delete_marks(std::int64_t message) {
    delete_marks_.bind(1, message);
    delete_marks_.run();
  }

  void drop_if_orphan(std::int64_t message) {
    delete_orphan_.bind(1, message);
    delete_orphan_.run();
    if (message == last_message_) last_message_ = 0;
  }

  sqlite3* db_;
  std::int64_t last_message_ = 0;
  Statement save_session_, delete_session_, session_messages_, session_releases_,
      delete_session_deliveries_, delete_session_subs_, delete_session_qos2_, save_sub_,
      delete_sub_, save_message_, save_delivery_, release_, delete_delivery_, mark_done_,
      delete_marks_, delete_orphan_, save_qos2_, qos2_message_, delete_qos2_, save_retained_,
      delete_retained_;
};

// ---- opening and migrating ----------------------------------------------------

SqliteStore::SqliteStore(StoreOptions options) : options_(std::move(options)) {
  const auto& path = options_.path;
  std::filesystem::create_directories(path.parent_path());
  const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                 options_.vfs.empty() ? nullptr : options_.vfs.c_str());
  if (rc != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreError(fmt::format("cannot open session store {}: {}", path.string(), msg));
  }
  // The CLI may write documents (the registry) to this file while the hub
  // runs: wait for its short transactions rather than fail a commit.
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec(db_, options_.durability == Durability::fsync ? "PRAGMA synchronous = FULL"
                                                       : "PRAGMA synchronous = NORMAL");
    // Checkpoints: SQLite's automatic one every 1000 WAL pages (run by the
    // writer after a commit), and the WAL is cut back to 64 MiB after it.
    exec(db_, "PRAGMA wal_autocheckpoint = 1000");
    exec(db_, "PRAGMA journal_size_limit = 67108864");
    migrate();  // before WAL: a file that is refused is left as it was
    exec(db_, "PRAGMA journal_mode = WAL");
    writer_ = std::make_unique<Writer>(db_);
  } catch (const SqliteError& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    if (e.code() == SQLITE_CORRUPT || e.code() == SQLITE_NOTADB) {
      throw StoreError(damaged(path, e.what()));
    }
    throw StoreError(fmt::format("session store {}: {}", path.string(), e.what()));
  } catch (...) {  // a StoreError from migrate(): the file is refused
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

void SqliteStore::migrate() {
  const auto& path = options_.path;
  const auto steps = options_.migrations;
  const int current = steps.empty() ? 0 : steps.back().to;
  const int app = static_cast<int>(query_int(db_, "PRAGMA application_id"));
  const int version = static_cast<int>(query_int(db_, "PRAGMA user_version"));
  const bool empty = query_int(db_, "SELECT count(*) FROM sqlite_master") == 0;
  if (!empty && app != kApplicationId) {
    throw StoreError(fmt::format(
        "{} is not an allscene session store: point --data-dir at another directory or move "
        "the file away",
        path.string()));
  }
  if (version > current) {
    throw StoreError(fmt::format(
        "session store {} has schema version {}, written by a newer allscene (this one knows up "
        "to {}): run the newer allscene, or move the file away to start empty",
        path.string(), version, current));
  }
  if (version == current) return;
  if (!empty) {
    // A copy of the old file first: a migration can be undone by hand.
    const auto backup = path.string() + fmt::format(".v{}.bak", version);
    std::filesystem::remove(backup);
    Statement vacuum(db_, "VACUUM INTO ?1");
    vacuum.bind(1, backup);
    vacuum.run();
    module_log().info("session store {}: schema version {} backed up to {}, migrating to {}",
                      path.string(), version, backup, current);
  }
  exec(db_, "BEGIN IMMEDIATE");
  try {
    for (const auto& step : steps) {
      if (step.to > version) exec(db_, step.sql);
    }
    exec(db_, fmt::format("PRAGMA application_id = {}", kApplicationId));
    exec(db_, fmt::format("PRAGMA user_version = {}", current));
    exec(db_, "COMMIT");
  } catch (...) {
    exec_noexcept(db_, "ROLLBACK");
    throw;
  }
}

SqliteStore::~SqliteStore() {
  stop();
  writer_.reset();
  if (db_) sqlite3_close(db_);
}

// ---- recovery -------------------------------------------------------------------

broker::StoredState SqliteStore::load(LoadReport& report) {
  broker::StoredState state;
  const std::int64_t now = wall_now_ms();
  try {
    exec(db_, "BEGIN IMMEDIATE");
    report = remove_expired(now);
    std::unordered_map<std::string, std::size_t> index;
    Statement sessions(db_, "SELECT * FROM sessions ORDER BY client_id");
    while (sessions.row()) {
      broker::StoredSession s;
      auto& rec = s.session;
      rec.client_id = sessions.text(0);
      rec.expiry_interval = static_cast<std::uint32_t>(sessions.int64(1));
      rec.expires_at = sessions.optional_int64(2);
      if (auto will = sessions.blob(3); !will.empty()) {
        rec.will = decode_body(will, std::nullopt, rec.client_id, 0);
        if (!rec.will) ++report.unreadable;
      }
      rec.will_delay = static_cast<std::uint32_t>(sessions.int64(4));
      rec.will_at = sessions.optional_int64(5);
      index.emplace(rec.client_id, state.sessions.size());
      state.sessions.push_back(std::move(s));
    }
    auto session_of = [&](const std::string& id) -> broker::StoredSession* {
      auto it = index.find(id);
      return it == index.end() ? nullptr : &state.sessions[it->second];
    };
    Statement subs(db_, "SELECT * FROM subscriptions");
    while (subs.row()) {
      if (auto* s = session_of(subs.text(0))) {
        s->subscriptions.push_back({s->session.client_id, subs.text(1),
                                    options_from(static_cast<int>(subs.int64(2))),
                                    static_cast<std::uint32_t>(subs.int64(3))});
      }
    }
    // Each body is decoded once; an unreleased one's deliveries keep marks.
    std::unordered_map<std::int64_t, std::shared_ptr<Message>> bodies;
    auto body_of = [&](Statement& row, int column) -> MessagePtr {
      const std::int64_t id = row.int64(column);
      auto& body = bodies[id];
      if (!body) {
        body = decode_body(row.blob(column + 3), row.optional_int64(column + 1),
                           row.text(column + 2), static_cast<std::uint64_t>(id));
      }
      if (!body) ++report.unreadable;
      return body;
    };
    Statement unreleased(db_,
                         "SELECT DISTINCT m.id, m.expires_at, m.origin, m.body FROM inbound_qos2 q "
                         "JOIN messages m ON m.id = q.message_id");
    while (unreleased.row()) {
      if (auto m = body_of(unreleased, 0)) {
        bodies[m->id]->recoverable = true;
        state.unfinished_routes.push_back(std::move(m));
      }
    }
    Statement deliveries(db_,
                         "SELECT d.client_id, d.seq, d.qos, d.retain, d.subscription_ids, "
                         "d.released, m.id, m.expires_at, m.origin, m.body, d.done FROM "
                         "deliveries d JOIN messages m ON m.id = d.message_id "
                         "ORDER BY d.client_id, d.seq");
    while (deliveries.row()) {
      auto* s = session_of(deliveries.text(0));
      if (!s) continue;
      if (deliveries.int64(10) != 0) {
        s->done.push_back(static_cast<std::uint64_t>(deliveries.int64(6)));
        continue;
      }
      auto body = body_of(deliveries, 6);
      if (!body) continue;
      s->deliveries.push_back({static_cast<std::uint64_t>(deliveries.int64(1)), body,
                               static_cast<std::uint8_t>(deliveries.int64(2)),
                               deliveries.int64(3) != 0, parse_ids(deliveries.text(4)),
                               deliveries.int64(5) != 0});
    }
    Statement qos2(db_, "SELECT * FROM inbound_qos2");
    while (qos2.row()) {
      if (auto* s = session_of(qos2.text(0))) {
        s->inbound_qos2.push_back(static_cast<std::uint16_t>(qos2.int64(1)));
      }
    }
    Statement retained(db_, "SELECT * FROM retained");
    while (retained.row()) {
      auto m = decode_body(retained.blob(4), retained.optional_int64(2), retained.text(3),
                           static_cast<std::uint64_t>(retained.int64(1)));
      if (m) {
        state.retained.push_back(std::move(m));
      } else {
        ++report.unreadable;
      }
    }
    state.next_message_id =
        static_cast<std::uint64_t>(query_int(db_,
                                             "SELECT max(coalesce((SELECT max(id) FROM messages), "
                                             "0), coalesce((SELECT max(id) FROM retained), 0))")) +
        1;
    exec(db_, "COMMIT");
  } catch (const SqliteError& e) {
    exec_noexcept(db_, "ROLLBACK");
    if (e.code() == SQLITE_CORRUPT || e.code() == SQLITE_NOTADB) {
      throw StoreError(damaged(options_.path, e.what()));
    }
    throw StoreError(
        fmt::format("cannot read session store {}: {}", options_.path.string(), e.what()));
  }
  return state;
}

// Expired sessions and messages go, and so does anything no session or
// delivery refers to (left by a crash between two dependent writes).
LoadReport SqliteStore::remove_expired(std::int64_t now) {
  LoadReport r;
  std::vector<std::string> expired;
  Statement sessions(db_,
                     "SELECT client_id FROM sessions WHERE expires_at IS NOT NULL AND "
                     "expires_at <= ?1");
  sessions.bind(1, now);
  while (sessions.row()) expired.push_back(sessions.text(0));
  sessions.reset();
  for (const auto& id : expired) writer_->delete_session(id);
  r.expired_sessions = expired.size();
  Statement deliveries(
      db_,
      "DELETE FROM deliveries WHERE done = 0 AND message_id IN (SELECT id FROM messages "
      "WHERE expires_at IS NOT NULL AND expires_at <= ?1)");
  deliveries.bind(1, now);
  deliveries.run();
  r.expired_messages = static_cast<std::size_t>(sqlite3_changes(db_));
  Statement retained(db_, "DELETE FROM retained WHERE expires_at IS NOT NULL AND expires_at <= ?1");
  retained.bind(1, now);
  retained.run();
  exec(db_,
       "DELETE FROM deliveries WHERE client_id NOT IN (SELECT client_id FROM sessions);"
       "DELETE FROM subscriptions WHERE client_id NOT IN (SELECT client_id FROM sessions);"
       "DELETE FROM inbound_qos2 WHERE client_id NOT IN (SELECT client_id FROM sessions);"
       "DELETE FROM deliveries WHERE done = 1 AND message_id NOT IN "
       "(SELECT message_id FROM inbound_qos2 WHERE message_id IS NOT NULL);"
       "DELETE FROM messages WHERE NOT EXISTS "
       "(SELECT 1 FROM deliveries WHERE message_id = messages.id) AND NOT EXISTS "
       "(SELECT 1 FROM inbound_qos2 WHERE message_id = messages.id);");
  return r;
}

// ---- the writer thread ------------------------------------------------------------

void SqliteStore::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { writer_loop(); });
}

void SqliteStore::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void SqliteStore::submit(std::vector<broker::StoreOp> ops, Done done) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back({std::move(ops), std::move(done)});
  }
  wake_.notify_one();
}

StoreStats SqliteStore::stats() const {
  std::lock_guard lock(mutex_);
  StoreStats out = stats_;
  out.commit_latency.add(commit_latency_);
  return out;
}

void SqliteStore::writer_loop() {
  std::vector<Batch> batches;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      const auto wait = healthy() ? options_.sync_interval : std::chrono::milliseconds(1000);
      const bool woken = wake_.wait_for(lock, wait, [&] { return !pending_.empty() || stopping_; });
      if (!woken) {
        lock.unlock();
        probe_and_sync();
        continue;
      }
      if (pending_.empty()) return;  // stopping, and everything is committed
      batches.swap(pending_);
    }
    // Every batch that arrived while the last commit was syncing goes in
    // this one transaction: that is the group commit.
    const auto started = std::chrono::steady_clock::now();
    const bool ok = commit(batches);
    commit_latency_.observe(std::chrono::steady_clock::now() - started);
    std::size_t ops = 0;
    for (auto& b : batches) {
      ops += b.ops.size();
      b.done(ok);
    }
    {
      std::lock_guard lock(mutex_);
      ++stats_.commits;
      stats_.batches += batches.size();
      stats_.ops += ops;
      if (!ok) ++stats_.failed_commits;
    }
    batches.clear();
  }
}

// A delivery saved and completed within one group commit (the subscriber
// acknowledged it before the commit) is never written: its save, and a
// release between them, are skipped. Returns a flag per op, in order.
std::vector<bool> SqliteStore::settled_within(const std::vector<Batch>& batches) {
  struct Key {
    std::string_view client_id;
    std::uint64_t seq;
    bool operator==(const Key&) const = default;
  };
  struct Hash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::string_view>{}(k.client_id) ^ (k.seq * 0x9e3779b97f4a7c15ull);
    }
  };
  std::vector<bool> skip;
  std::unordered_map<Key, std::vector<std::size_t>, Hash> open;  // save, then releases
  for (const auto& b : batches) {
    for (const auto& o : b.ops) {
      const std::size_t i = skip.size();
      skip.push_back(false);
      if (const auto* save = std::get_if<op::SaveDelivery>(&o)) {
        open[Key{save->client_id, save->seq}] = {i};
      } else if (const auto* rel = std::get_if<op::ReleaseDelivery>(&o)) {
        if (auto it = open.find(Key{rel->client_id, rel->seq}); it != open.end()) {
          it->second.push_back(i);
        }
      } else if (const auto* del = std::get_if<op::DeleteDelivery>(&o)) {
        if (del->leave_mark) continue;  // the save must reach the disk as a mark
        auto it = open.find(Key{del->client_id, del->seq});
        if (it == open.end()) continue;
        // The delete itself still runs: a row from an earlier commit (a
        // session re-saved after a failed delete) must not survive.
        for (const auto j : it->second) skip[j] = true;
        open.erase(it);
      }
    }
  }
  return skip;
}

bool SqliteStore::commit(std::vector<Batch>& batches) {
  try {
    exec(db_, "BEGIN IMMEDIATE");
    // Nothing to write: a probe that the disk takes writes again.
    if (batches.empty()) exec(db_, "INSERT OR REPLACE INTO meta VALUES('probe', julianday('now'))");
    const auto skip = settled_within(batches);
    std::size_t n = 0;
    for (const auto& b : batches) {
      for (const auto& o : b.ops) {
        if (!skip[n++]) writer_->apply(o);
      }
    }
    exec(db_, "COMMIT");
  } catch (const SqliteError& e) {
    exec_noexcept(db_, "ROLLBACK");
    writer_->rolled_back();
    if (healthy_.exchange(false)) {
      module_log().error(
          "session store {}: cannot write ({}){}; QoS 1/2 publishes are refused with 0x97 "
          "(Quota exceeded) until it can write again",
          options_.path.string(), e.what(),
          e.code() == SQLITE_FULL ? ": the disk is full, free space on it" : ": check the disk");
    }
    return false;
  }
  if (!healthy_.exchange(true)) {
    module_log().info("session store {} is writable again", options_.path.string());
  }
  return true;
}

// When idle: in batch mode make recent commits durable (a passive
// checkpoint fsyncs the WAL); after a failure, try a small write to learn
// when the disk works again.
void SqliteStore::probe_and_sync() {
  if (!healthy()) {
    std::vector<Batch> none;
    commit(none);
    return;
  }
  if (options_.durability == Durability::batch) {
    exec_noexcept(db_, "PRAGMA wal_checkpoint(PASSIVE)");
  }
}

// ---- verification -------------------------------------------------------------------

std::vector<std::string> SqliteStore::check(const std::filesystem::path& path) {
  std::vector<std::string> problems;
  if (!std::filesystem::exists(path)) {
    problems.push_back(fmt::format("{} does not exist", path.string()));
    return problems;
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    problems.push_back(fmt::format("cannot open {}: {}", path.string(), sqlite3_errmsg(db)));
    sqlite3_close(db);
    return problems;
  }
  try {
    Statement integrity(db, "PRAGMA integrity_check");
    while (integrity.row()) {
      if (integrity.text(0) != "ok") problems.push_back("integrity: " + integrity.text(0));
    }
    const auto version = query_int(db, "PRAGMA user_version");
    const int current = schema_migrations().back().to;
    if (query_int(db, "PRAGMA application_id") != kApplicationId) {
      problems.push_back("not an allscene session store (application_id)");
    } else if (version != current) {
      problems.push_back(fmt::format(
          "schema version {} (this allscene uses {}: {})", version, current,
          version < current ? "it is migrated at start-up" : "written by a newer allscene"));
    } else {
      Statement bodies(db, "SELECT id, body FROM messages UNION ALL SELECT id, body FROM retained");
      while (bodies.row()) {
        if (!decode_body(bodies.blob(1), std::nullopt, "", 0)) {
          problems.push_back(fmt::format("message {} does not decode", bodies.int64(0)));
        }
      }
    }
  } catch (const SqliteError& e) {
    problems.push_back(e.what());
  }
  sqlite3_close(db);
  return problems;
}

}  // namespace allscene::store
