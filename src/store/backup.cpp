#include "store/backup.hpp"

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace allscene::store {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

Db open_db(const fs::path& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    throw std::runtime_error(fmt::format("cannot open {}: {}", path.string(),
                                         raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), 10000);  // the hub may hold the write lock briefly
  return db;
}

bool is_sqlite(const fs::path& file) {
  static constexpr char kMagic[16] = "SQLite format 3";  // and its NUL
  char head[16] = {};
  std::ifstream in(file, std::ios::binary);
  return in.read(head, sizeof head) && std::equal(head, head + 16, kMagic);
}

// Files that belong to a running hub, not to its data.
bool runtime_file(const fs::path& file) {
  const auto name = file.filename().string();
  for (const std::string_view suffix : {"-wal", "-shm", "-journal"}) {
    if (name.ends_with(suffix)) return true;
  }
  return name == "LOCK" || name == "admin.json" || name == kBackupManifest;
}

// Copies database `from` into `to` (a new file) through the backup API: one
// step, so the copy is one snapshot.
void copy_database(const fs::path& from, const fs::path& to) {
  const Db source = open_db(from, SQLITE_OPEN_READONLY);
  const Db target = open_db(to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3_backup* backup = sqlite3_backup_init(target.get(), "main", source.get(), "main");
  if (!backup) {
    throw std::runtime_error(
        fmt::format("cannot back up {}: {}", from.string(), sqlite3_errmsg(target.get())));
  }
  const int rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    throw std::runtime_error(
        fmt::format("cannot back up {}: {}; try again", from.string(), sqlite3_errstr(rc)));
  }
}

std::string integrity_problem(const fs::path& file) {
  const Db db = open_db(file, SQLITE_OPEN_READONLY);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), "PRAGMA integrity_check", -1, &stmt, nullptr) != SQLITE_OK) {
    return sqlite3_errmsg(db.get());
  }
  std::string result = "no answer";
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  return result == "ok" ? std::string() : result;
}

void copy_file(const fs::path& from, const fs::path& to, bool database) {
  if (database) {
    copy_database(from, to);
  } else {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  }
  fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write);
}

std::vector<fs::path> data_files(const fs::path& root) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || runtime_file(entry.path())) continue;
    const auto relative = fs::relative(entry.path(), root);
    if (relative.begin()->string().starts_with("replaced-")) continue;  // an earlier restore's
    out.push_back(relative);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void make_private_dir(const fs::path& dir) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all);
}

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::vector<CopiedFile> backup_data_dir(const fs::path& data_dir, const fs::path& dest,
                                        const CopyProgress& progress) {
  if (!fs::is_directory(data_dir)) {
    throw std::runtime_error(
        fmt::format("{} is not a data directory; pass the hub's --data-dir", data_dir.string()));
  }
  if (fs::exists(dest) && !fs::is_empty(dest)) {
    throw std::runtime_error(
        fmt::format("{} is not empty; back up into a new folder", dest.string()));
  }
  make_private_dir(dest);
  const auto files = data_files(data_dir);
  std::vector<CopiedFile> copied;
  for (const auto& relative : files) {
    const auto to = dest / relative;
    make_private_dir(to.parent_path());
    const bool database = is_sqlite(data_dir / relative);
    copy_file(data_dir / relative, to, database);
    copied.push_back({relative.string(), fs::file_size(to), database});
    if (progress) progress(copied.back(), copied.size(), files.size());
  }
  json manifest{{"format", 1}, {"created", unix_seconds()}, {"files", json::array()}};
  for (const auto& f : copied) {
    manifest["files"].push_back({{"path", f.path}, {"bytes", f.bytes}, {"database", f.database}});
  }
  std::ofstream(dest / kBackupManifest) << manifest.dump(2) << "\n";
  fs::permissions(dest / kBackupManifest, fs::perms::owner_read | fs::perms::owner_write);
  return copied;
}

std::vector<CopiedFile> restore_data_dir(const fs::path& backup, const fs::path& data_dir,
                                         fs::path& replaced_to, const CopyProgress& progress) {
  std::ifstream in(backup / kBackupManifest);
  const json manifest = json::parse(in, nullptr, false);
  if (!in || manifest.is_discarded() || !manifest.contains("files")) {
    throw std::runtime_error(fmt::format(
        "{} is not an allscene backup (no readable {}); pass the folder `allscene backup` made",
        backup.string(), kBackupManifest));
  }
  std::vector<CopiedFile> files;
  for (const auto& f : manifest["files"]) {
    CopiedFile file{f.at("path").get<std::string>(), f.at("bytes").get<std::uint64_t>(),
                    f.at("database").get<bool>()};
    const fs::path relative(file.path);
    if (relative.is_absolute() || relative.lexically_normal().string().starts_with("..")) {
      throw std::runtime_error(fmt::format("the manifest names {} outside the backup", file.path));
    }
    if (!fs::is_regular_file(backup / relative)) {
      throw std::runtime_error(fmt::format("the backup lacks {}; it is incomplete", file.path));
    }
    if (file.database) {
      if (const auto problem = integrity_problem(backup / relative); !problem.empty()) {
        throw std::runtime_error(fmt::format("{} in the backup is damaged ({}); use another backup",
                                             file.path, problem));
      }
    }
    files.push_back(std::move(file));
  }
  make_private_dir(data_dir);
  replaced_to.clear();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const fs::path relative(files[i].path);
    const auto target = data_dir / relative;
    make_private_dir(target.parent_path());
    const auto incoming = fs::path(target.string() + ".restoring");
    copy_file(backup / relative, incoming, files[i].database);
    if (fs::exists(target)) {
      if (replaced_to.empty()) replaced_to = data_dir / fmt::format("replaced-{}", unix_seconds());
      const auto aside = replaced_to / relative;
      make_private_dir(aside.parent_path());
      fs::rename(target, aside);
      for (const char* suffix : {"-wal", "-shm"}) {
        const fs::path extra(target.string() + suffix);
        if (fs::exists(extra)) fs::rename(extra, fs::path(aside.string() + suffix));
      }
    }
    fs::rename(incoming, target);
    if (progress) progress(files[i], i + 1, files.size());
  }
  return files;
}

}  // namespace allscene::store
