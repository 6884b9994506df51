#include "services/docs/doc_store.hpp"

#include <stdexcept>

namespace allscene::services::docs {

// A prepared statement, finalised on scope exit.
class DocStore::Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  Statement& text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& blob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& integer(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return stmt_ ? sqlite3_step(stmt_) : SQLITE_ERROR; }
  std::string column_text(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
  }
  std::string column_blob(int i) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
  }
  int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS documents(
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL,
  length INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
  snapshot BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS documents_owner ON documents(owner);
CREATE TABLE IF NOT EXISTS updates(
  n INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS updates_doc ON updates(doc, n);
)sql";

constexpr const char* kColumns = "id, owner, title, length, created, updated";

DocumentInfo read_info(const auto& row) {
  return DocumentInfo{row.column_text(0), row.column_text(1),
                      row.column_text(2), static_cast<uint64_t>(row.column_int(3)),
                      row.column_int(4),  row.column_int(5)};
}

}  // namespace

DocStore::DocStore(const std::filesystem::path& file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("docs: cannot open " + file.string() + ": " + message);
  }
  sqlite3_busy_timeout(db_, 5000);
  // WAL with synchronous=FULL syncs the log at every commit: a committed
  // update survives power loss.
  if (!exec("PRAGMA journal_mode=WAL") || !exec("PRAGMA synchronous=FULL") || !exec(kSchema)) {
    const std::string message = error_;
    sqlite3_close(db_);
    throw std::runtime_error("docs: cannot prepare " + file.string() + ": " + message);
  }
}

DocStore::~DocStore() { sqlite3_close(db_); }

bool DocStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  error_ = message ? message : "sqlite error";
  sqlite3_free(message);
  return false;
}

bool DocStore::fail(const char* what) {
  error_ = std::string(what) + ": " + sqlite3_errmsg(db_);
  return false;
}

bool DocStore::create(const DocumentInfo& info, const std::string& snapshot) {
  Statement s(db_,
              "INSERT INTO documents(id, owner, title, length, created, updated, snapshot) "
              "VALUES(?, ?, ?, ?, ?, ?, ?)");
  s.text(1, info.id).text(2, info.owner).text(3, info.title);
  s.integer(4, static_cast<int64_t>(info.length))
      .integer(5, info.created_ms)
      .integer(6, info.updated_ms);
  s.blob(7, snapshot);
  return s.step() == SQLITE_DONE || fail("create document");
}

std::optional<DocumentInfo> DocStore::find(const std::string& id) {
  Statement s(db_, (std::string("SELECT ") + kColumns + " FROM documents WHERE id = ?").c_str());
  s.text(1, id);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return read_info(s);
  if (rc != SQLITE_DONE) fail("find document");
  return std::nullopt;
}

std::optional<std::vector<DocumentInfo>> DocStore::list(const std::string& owner) {
  Statement s(db_, (std::string("SELECT ") + kColumns +
                    " FROM documents WHERE owner = ? ORDER BY updated DESC, id")
                       .c_str());
  s.text(1, owner);
  std::vector<DocumentInfo> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_info(s));
  if (rc != SQLITE_DONE) {
    fail("list documents");
    return std::nullopt;
  }
  return out;
}

std::optional<uint64_t> DocStore::count(const std::string& owner) {
  Statement s(db_, "SELECT COUNT(*) FROM documents WHERE owner = ?");
  s.text(1, owner);
  if (s.step() != SQLITE_ROW) {
    fail("count documents");
    return std::nullopt;
  }
  return static_cast<uint64_t>(s.column_int(0));
}

std::optional<StoredDocument> DocStore::load(const std::string& id) {
  StoredDocument doc;
  {
    Statement s(db_, "SELECT snapshot FROM documents WHERE id = ?");
    s.text(1, id);
    if (s.step() != SQLITE_ROW) {
      fail("load document");
      return std::nullopt;
    }
    doc.snapshot = s.column_blob(0);
  }
  Statement s(db_, "SELECT data FROM updates WHERE doc = ? ORDER BY n");
  s.text(1, id);
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) doc.updates.push_back(s.column_blob(0));
  if (rc != SQLITE_DONE) {
    fail("load updates");
    return std::nullopt;
  }
  return doc;
}

bool DocStore::append(const std::string& id, const std::string& update, uint64_t length,
                      int64_t updated_ms) {
  if (!exec("BEGIN IMMEDIATE")) return false;
  Statement insert(db_, "INSERT INTO updates(doc, data) VALUES(?, ?)");
  insert.text(1, id).blob(2, update);
  Statement touch(db_, "UPDATE documents SET length = ?, updated = ? WHERE id = ?");
  touch.integer(1, static_cast<int64_t>(length)).integer(2, updated_ms).text(3, id);
  if (insert.step() != SQLITE_DONE || touch.step() != SQLITE_DONE) {
    fail("append update");
    exec("ROLLBACK");
    return false;
  }
  return exec("COMMIT");
}

bool DocStore::compact(const std::string& id, const std::string& snapshot) {
  if (!exec("BEGIN IMMEDIATE")) return false;
  Statement replace(db_, "UPDATE documents SET snapshot = ? WHERE id = ?");
  replace.blob(1, snapshot).text(2, id);
  Statement drop(db_, "DELETE FROM updates WHERE doc = ?");
  drop.text(1, id);
  if (replace.step() != SQLITE_DONE || drop.step() != SQLITE_DONE) {
    fail("compact document");
    exec("ROLLBACK");
    return false;
  }
  return exec("COMMIT");
}

bool DocStore::remove(const std::string& id) {
  if (!exec("BEGIN IMMEDIATE")) return false;
  Statement drop(db_, "DELETE FROM updates WHERE doc = ?");
  drop.text(1, id);
  Statement doc(db_, "DELETE FROM documents WHERE id = ?");
  doc.text(1, id);
  if (drop.step() != SQLITE_DONE || doc.step() != SQLITE_DONE) {
    fail("delete document");
    exec("ROLLBACK");
    return false;
  }
  return exec("COMMIT");
}

}  // namespace allscene::services::docs
