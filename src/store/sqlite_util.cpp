#include "store/sqlite_util.hpp"

#include <fmt/format.h>

namespace allscene::store {

void throw_error(sqlite3* db, int rc) {
  throw SqliteError(rc, fmt::format("{} ({})", sqlite3_errmsg(db), sqlite3_errstr(rc)));
}

void exec(sqlite3* db, const std::string& sql) {
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw_error(db, rc);
}

void exec_noexcept(sqlite3* db, const char* sql) noexcept {
  sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
}

std::int64_t query_int(sqlite3* db, const char* sql) {
  Statement s(db, sql);
  const std::int64_t v = s.row() ? s.int64(0) : 0;
  s.reset();
  return v;
}

Statement::Statement(sqlite3* db, const char* sql) : db_(db) {
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) throw_error(db, rc);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::begin() {
  if (active_) reset();
}

void Statement::bind(int i, std::int64_t v) {
  begin();
  sqlite3_bind_int64(stmt_, i, v);
}

void Statement::bind(int i, std::string_view v) {
  begin();
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

void Statement::bind(int i, const std::vector<std::uint8_t>& v) {
  begin();
  sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

void Statement::bind(int i, const std::optional<std::int64_t>& v) {
  if (v) {
    bind(i, *v);
  } else {
    bind_null(i);
  }
}

void Statement::bind_null(int i) {
  begin();
  sqlite3_bind_null(stmt_, i);
}

bool Statement::row() {
  active_ = true;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  reset();
  if (rc != SQLITE_DONE) throw_error(db_, rc);
  return false;
}

void Statement::run() {
  while (row()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  active_ = false;
}

std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::optional<std::int64_t> Statement::optional_int64(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return int64(col);
}

std::string Statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string();
}

std::span<const std::uint8_t> Statement::blob(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
  return {p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))};
}

}  // namespace allscene::store
