// Documents: small JSON records in named collections (the registry's users
// and devices; later twins), kept in the same SQLite file as the sessions.
// Writes are rare and synchronous: each one commits (and syncs) before it
// returns. Another process (the CLI) may write the same file while the hub
// runs; SQLite's locking keeps them apart, and version() tells the hub that
// something changed.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/sqlite_store.hpp"

struct sqlite3;

namespace allscene::store {

class DocumentStore {
 public:
  // Opens the store file (options.path, through options.vfs: the same VFS
  // as the session store in this process), creating or migrating it as the
  // session store does; throws StoreError naming the file and what to do.
  explicit DocumentStore(const StoreOptions& options);
  ~DocumentStore();
  DocumentStore(const DocumentStore&) = delete;
  DocumentStore& operator=(const DocumentStore&) = delete;

  // The bodies of every document in `collection`, by key.
  std::vector<std::string> load(std::string_view collection);
  // Inserts or replaces; durable on return. Throws StoreError.
  void put(std::string_view collection, std::string_view key, const std::string& body);
  // Inserts or replaces several in one commit. `announce` false: the
  // change does not move version() (status such as presence, which
  // readers of the registry need not reload for). Throws StoreError.
  void put_many(std::string_view collection,
                const std::vector<std::pair<std::string, std::string>>& documents,
                bool announce = true);
  // Removes (no-op if absent); durable on return. Throws StoreError.
  void remove(std::string_view collection, std::string_view key);
  // Changes with every put or remove, by any process.
  std::int64_t version();

  const std::filesystem::path& path() const { return path_; }

 private:
  void write(const char* sql, std::string_view collection, std::string_view key,
             const std::string* body);
  // Runs `body` in one transaction (BEGIN IMMEDIATE .. COMMIT), bumping the
  // version if `announce`; StoreError naming `collection` on failure.
  template <typename F>
  void transaction(std::string_view collection, bool announce, F&& body);

  std::filesystem::path path_;
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace allscene::store
