// Thin RAII helpers over SQLite's C API for this layer: prepared statements
// that reset themselves, and errors as exceptions inside the store (caught
// at its boundary, never thrown out of a commit).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace allscene::store {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_ & 0xff; }  // primary result code

 private:
  int code_;
};

[[noreturn]] void throw_error(sqlite3* db, int rc);
void exec(sqlite3* db, const std::string& sql);
void exec_noexcept(sqlite3* db, const char* sql) noexcept;
std::int64_t query_int(sqlite3* db, const char* sql);

class Statement {
 public:
  Statement(sqlite3* db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binding starts a new execution (the previous one is reset).
  void bind(int i, std::int64_t v);
  void bind(int i, std::string_view v);
  void bind(int i, const std::vector<std::uint8_t>& v);
  void bind(int i, const std::optional<std::int64_t>& v);
  void bind_null(int i);

  // Steps once: true with a row to read, false when done (then reset).
  bool row();
  // Runs to completion and resets.
  void run();
  void reset();

  std::int64_t int64(int col) const;
  std::optional<std::int64_t> optional_int64(int col) const;
  std::string text(int col) const;
  std::span<const std::uint8_t> blob(int col) const;  // valid until the next step

 private:
  void begin();
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool active_ = false;
};

}  // namespace allscene::store
