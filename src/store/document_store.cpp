#include "store/document_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include "store/sqlite_util.hpp"

namespace allscene::store {

namespace {

// How long a write waits for the hub's own writer (or another CLI) to
// finish its transaction before it gives up.
constexpr int kBusyTimeoutMs = 10000;

}  // namespace

DocumentStore::DocumentStore(const StoreOptions& options) : path_(options.path) {
  { SqliteStore create_or_migrate(options); }
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE,
                      options.vfs.empty() ? nullptr : options.vfs.c_str()) != SQLITE_OK) {
    const std::string msg = sqlite3_errmsg(db_);
    sqlite3_close(db_);
    throw StoreError(fmt::format("cannot open {}: {}", path_.string(), msg));
  }
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  try {
    exec(db_, "PRAGMA synchronous = FULL");
  } catch (const SqliteError& e) {
    sqlite3_close(db_);
    throw StoreError(fmt::format("{}: {}", path_.string(), e.what()));
  }
}

DocumentStore::~DocumentStore() { sqlite3_close(db_); }

std::vector<std::string> DocumentStore::load(std::string_view collection) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> bodies;
  try {
    Statement s(db_, "SELECT body FROM documents WHERE collection = ?1 ORDER BY key");
    s.bind(1, collection);
    while (s.row()) bodies.push_back(s.text(0));
  } catch (const SqliteError& e) {
    throw StoreError(
        fmt::format("cannot read {} from {}: {}", collection, path_.string(), e.what()));
  }
  return bodies;
}

void DocumentStore::put(std::string_view collection, std::string_view key,
                        const std::string& body) {
  write("INSERT OR REPLACE INTO documents(collection, key, body) VALUES(?1, ?2, ?3)", collection,
        key, &body);
}

void DocumentStore::remove(std::string_view collection, std::string_view key) {
  write("DELETE FROM documents WHERE collection = ?1 AND key = ?2", collection, key, nullptr);
}

template <typename F>
void DocumentStore::transaction(std::string_view collection, bool announce, F&& body) {
  std::lock_guard lock(mutex_);
  try {
    exec(db_, "BEGIN IMMEDIATE");
    body();
    // The change and the version bump commit together, so a reader that
    // sees the new version sees the change.
    if (announce) {
      exec(db_,
           "INSERT INTO meta VALUES('documents_version', 1) ON CONFLICT(key) DO UPDATE SET "
           "value = value + 1");
    }
    exec(db_, "COMMIT");
  } catch (const SqliteError& e) {
    exec_noexcept(db_, "ROLLBACK");
    throw StoreError(
        fmt::format("cannot write {} to {}: {}{}", collection, path_.string(), e.what(),
                    e.code() == SQLITE_BUSY ? " (the store stayed locked; retry)" : ""));
  }
}

void DocumentStore::write(const char* sql, std::string_view collection, std::string_view key,
                          const std::string* body) {
  transaction(collection, true, [&] {
    Statement s(db_, sql);
    s.bind(1, collection);
    s.bind(2, key);
    if (body) s.bind(3, *body);
    s.run();
  });
}

void DocumentStore::put_many(std::string_view collection,
                             const std::vector<std::pair<std::string, std::string>>& documents,
                             bool announce) {
  transaction(collection, announce, [&] {
    Statement s(db_, "INSERT OR REPLACE INTO documents(collection, key, body) VALUES(?1, ?2, ?3)");
    for (const auto& [key, body] : documents) {
      s.bind(1, collection);
      s.bind(2, key);
      s.bind(3, body);
      s.run();
    }
  });
}

std::int64_t DocumentStore::version() {
  std::lock_guard lock(mutex_);
  try {
    return query_int(db_,
                     "SELECT coalesce((SELECT value FROM meta WHERE key = "
                     "'documents_version'), 0)");
  } catch (const SqliteError& e) {
    throw StoreError(fmt::format("cannot read {}: {}", path_.string(), e.what()));
  }
}

}  // namespace allscene::store
