// The embedded session store: one SQLite database (WAL mode) in the data
// directory, written by one thread that groups every batch waiting at the
// moment into one transaction, so one fsync covers many messages.
//
// Errors: start-up calls (the constructor, load, check) throw StoreError
// with a message that names the file and says what to do; they configure
// the hub's start. At run time a failed commit is reported through the
// batch's Done callback and healthy(), and logged.
//
// Thread-safety: submit() and healthy() from any thread; the rest from the
// thread that owns the store, load() before start().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "broker/session_store.hpp"
#include "broker/stats.hpp"

struct sqlite3;

namespace allscene::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// fsync: every commit is fsynced before it is acknowledged (survives power
// loss). batch: commits reach the OS at once (survive a crash of the
// process) and are fsynced at least every sync_interval (power loss may
// lose that much).
enum class Durability { fsync, batch };

// One step of the schema: `sql` takes a database at version to - 1 to `to`.
struct Migration {
  int to;
  const char* sql;
};
// The schema steps of this build; the last one's `to` is the version.
std::span<const Migration> schema_migrations();

struct StoreOptions {
  std::filesystem::path path;  // the database file
  Durability durability = Durability::fsync;
  std::chrono::milliseconds sync_interval{100};  // batch mode
  std::string vfs;                               // SQLite VFS name; empty: default
  std::span<const Migration> migrations = schema_migrations();
};

struct StoreStats {
  std::uint64_t commits = 0;
  std::uint64_t batches = 0;
  std::uint64_t ops = 0;
  std::uint64_t failed_commits = 0;
  broker::LatencySnapshot commit_latency;  // one group commit: BEGIN to COMMIT, fsync included
};

// What load() found and cleaned up, for the start-up log line.
struct LoadReport {
  std::size_t expired_sessions = 0;
  std::size_t expired_messages = 0;
  std::size_t unreadable = 0;  // rows that did not decode (skipped, removed)
};

class SqliteStore final : public broker::SessionStore {
 public:
  // Opens (creating if absent) and migrates the database: an older schema
  // is backed up to "<file>.v<N>.bak" and migrated; a newer one is refused.
  explicit SqliteStore(StoreOptions options);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Reads every durable session, delivery and retained message, removing
  // what expired while the hub was down. Call before start().
  broker::StoredState load(LoadReport& report);
  // Starts the writer thread.
  void start();
  // Commits everything submitted so far, then stops the writer.
  void stop();

  void submit(std::vector<broker::StoreOp> ops, Done done) override;
  bool healthy() const override { return healthy_.load(std::memory_order_relaxed); }

  StoreStats stats() const;
  const std::filesystem::path& path() const { return options_.path; }

  // Verifies a database file without changing it: SQLite's integrity
  // check, the schema version and every stored message. Returns the
  // problems found (empty: healthy).
  static std::vector<std::string> check(const std::filesystem::path& path);

 private:
  struct Batch {
    std::vector<broker::StoreOp> ops;
    Done done;
  };
  class Writer;

  void migrate();
  LoadReport remove_expired(std::int64_t now_ms);
  void writer_loop();
  bool commit(std::vector<Batch>& batches);
  static std::vector<bool> settled_within(const std::vector<Batch>& batches);
  void probe_and_sync();

  StoreOptions options_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Writer> writer_;  // prepared statements; writer thread only
  std::atomic<bool> healthy_{true};

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Batch> pending_;               // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  StoreStats stats_;                         // guarded by mutex_
  broker::LatencyHistogram commit_latency_;  // written by the writer thread only
  std::thread thread_;
};

}  // namespace allscene::store
