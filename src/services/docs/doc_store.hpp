// Durable storage of the docs service: one SQLite file (WAL, synchronous
// FULL) in the service's state folder. A document is a snapshot (the
// encoding of all its operations at some point) plus the updates appended
// since, each in its own committed transaction: once append() returns true
// the update survives a crash.
//
// Errors: open failures throw std::runtime_error (start-up); every other
// call returns false / nullopt and leaves a message in error().
//
// Threading: none; the owner serialises calls.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace allscene::services::docs {

struct DocumentInfo {
  std::string id;
  std::string owner;
  std::string title;
  uint64_t length = 0;     // code points of the current text
  int64_t created_ms = 0;  // Unix time
  int64_t updated_ms = 0;
};

struct StoredDocument {
  std::string snapshot;
  std::vector<std::string> updates;  // oldest first
};

class DocStore {
 public:
  explicit DocStore(const std::filesystem::path& file);
  ~DocStore();
  DocStore(const DocStore&) = delete;
  DocStore& operator=(const DocStore&) = delete;

  bool create(const DocumentInfo& info, const std::string& snapshot);
  std::optional<DocumentInfo> find(const std::string& id);
  std::optional<std::vector<DocumentInfo>> list(const std::string& owner);
  std::optional<uint64_t> count(const std::string& owner);
  std::optional<StoredDocument> load(const std::string& id);
  // Appends one update and the document's new length and time, committed.
  bool append(const std::string& id, const std::string& update, uint64_t length,
              int64_t updated_ms);
  // Replaces the snapshot and drops the updates it includes, committed.
  bool compact(const std::string& id, const std::string& snapshot);
  bool remove(const std::string& id);

  const std::string& error() const { return error_; }

 private:
  class Statement;
  bool exec(const char* sql);
  bool fail(const char* what);

  sqlite3* db_ = nullptr;
  std::string error_;
};

}  // namespace allscene::services::docs
