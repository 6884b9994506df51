#include "store/fault_vfs.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store_test_util.hpp"

namespace allscene::store {
namespace {

namespace fs = std::filesystem;
using Fault = FaultVfs::Fault;
using namespace std::chrono_literals;

using testing::Db;
using testing::TempDir;

// `vfs` null means SQLite's default VFS.
Db open_db(const std::string& path, const char* vfs) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs);
  Db owned(db);
  if (rc != SQLITE_OK) throw std::runtime_error(sqlite3_errstr(rc));
  sqlite3_extended_result_codes(db, 1);
  return owned;
}

int exec(const Db& db, const std::string& sql) {
  return sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, nullptr);
}

// First column of the first row, as text ("" if there is none).
std::string query(const Db& db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return std::string("prepare failed: ") + sqlite3_errmsg(db.get());
  }
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  return out;
}

int insert(const Db& db, int id) {
  return exec(db,
              "BEGIN; INSERT INTO t VALUES (" + std::to_string(id) + ", randomblob(300)); COMMIT;");
}

// Creates table t and commits rows 1..10, each durable (synchronous=FULL).
int set_up_table(const Db& db, const char* journal_mode) {
  int rc = exec(db, std::string("PRAGMA journal_mode=") + journal_mode +
                        "; PRAGMA synchronous=FULL;"
                        "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB);");
  for (int id = 1; id <= 10 && rc == SQLITE_OK; ++id) rc = insert(db, id);
  return rc;
}

class FaultVfsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    vfs_.set_control_file("");
    vfs_.set_fault(Fault::none);
    vfs_.set_power_loss_mode(false);
    vfs_.cut_power();
    vfs_.reset_counters();
  }

  FaultVfs& vfs_ = FaultVfs::install();
  TempDir dir_{"allscene-fault-vfs"};
  std::string db_path_ = dir_.file("test.db");
};

TEST_F(FaultVfsTest, InstallReturnsOneRegisteredNonDefaultVfs) {
  EXPECT_EQ(&FaultVfs::install("other-name"), &vfs_);
  EXPECT_STREQ(vfs_.name(), "allscene-fault");
  EXPECT_NE(sqlite3_vfs_find(vfs_.name()), nullptr);
  EXPECT_NE(sqlite3_vfs_find(nullptr), sqlite3_vfs_find(vfs_.name()));
}

TEST_F(FaultVfsTest, PassThroughWalDatabaseReadsBackWithDefaultVfs) {
  {
    Db db = open_db(db_path_, vfs_.name());
    ASSERT_EQ(query(db, "PRAGMA journal_mode=WAL"), "wal");
    ASSERT_EQ(set_up_table(db, "WAL"), SQLITE_OK);
  }
  EXPECT_GT(vfs_.counters().writes, 0u);
  EXPECT_GT(vfs_.counters().syncs, 0u);
  EXPECT_EQ(vfs_.counters().faults, 0u);
  Db db = open_db(db_path_, nullptr);
  EXPECT_EQ(query(db, "SELECT count(*) FROM t"), "10");
  EXPECT_EQ(query(db, "PRAGMA integrity_check"), "ok");
}

struct FaultCase {
  const char* journal_mode;
  Fault fault;
  int primary_code;
};

class FaultInjectionTest : public FaultVfsTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(FaultInjectionTest, CommitFailsWhileFaultIsSetAndSucceedsAfter) {
  const FaultCase& c = GetParam();
  Db db = open_db(db_path_, vfs_.name());
  ASSERT_EQ(set_up_table(db, c.journal_mode), SQLITE_OK);

  vfs_.set_fault(c.fault);
  EXPECT_EQ(vfs_.fault(), c.fault);
  const int rc = insert(db, 11);
  EXPECT_EQ(rc & 0xff, c.primary_code) << sqlite3_errstr(rc);
  if (sqlite3_get_autocommit(db.get()) == 0) exec(db, "ROLLBACK");
  EXPECT_GT(vfs_.counters().faults, 0u);
  EXPECT_EQ(query(db, "SELECT count(*) FROM t"), "10") << "reads work during a fault";

  vfs_.set_fault(Fault::none);
  EXPECT_EQ(insert(db, 12), SQLITE_OK) << sqlite3_errmsg(db.get());
  EXPECT_EQ(query(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(query(db, "SELECT group_concat(id) FROM (SELECT id FROM t WHERE id > 9 ORDER BY id)"),
            "10,12");
}

INSTANTIATE_TEST_SUITE_P(Modes, FaultInjectionTest,
                         ::testing::Values(FaultCase{"WAL", Fault::disk_full, SQLITE_FULL},
                                           FaultCase{"WAL", Fault::io_error, SQLITE_IOERR},
                                           FaultCase{"DELETE", Fault::disk_full, SQLITE_FULL},
                                           FaultCase{"DELETE", Fault::io_error, SQLITE_IOERR}),
                         [](const auto& info) {
                           return std::string(info.param.journal_mode) +
                                  (info.param.fault == Fault::disk_full ? "DiskFull" : "IoError");
                         });

struct KillCase {
  const char* name;
  const char* journal_mode;
  const char* synchronous;  // for rows 11..20
  bool power_loss;
  int rows_after_kill;
};

class PowerLossTest : public FaultVfsTest, public ::testing::WithParamInterface<KillCase> {};

// A child process commits rows 1..10 durably, rows 11..20 with the case's
// synchronous setting, then dies by SIGKILL; the parent reopens with the
// default VFS.
TEST_P(PowerLossTest, SigkillKeepsExactlyTheSyncedCommits) {
  const KillCase& c = GetParam();
  const pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    vfs_.set_power_loss_mode(c.power_loss);
    Db db = open_db(db_path_, vfs_.name());
    if (set_up_table(db, c.journal_mode) != SQLITE_OK) ::_exit(2);
    if (exec(db, std::string("PRAGMA synchronous=") + c.synchronous) != SQLITE_OK) ::_exit(3);
    for (int id = 11; id <= 20; ++id) {
      if (insert(db, id) != SQLITE_OK) ::_exit(4);
    }
    if (query(db, "SELECT count(*) FROM t") != "20") ::_exit(5);
    ::raise(SIGKILL);
    ::_exit(6);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "child exited with code " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);

  Db db = open_db(db_path_, nullptr);
  EXPECT_EQ(query(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(query(db, "SELECT count(*) FROM t"), std::to_string(c.rows_after_kill));
  EXPECT_EQ(query(db, "SELECT max(id) FROM t"), std::to_string(c.rows_after_kill));
}

INSTANTIATE_TEST_SUITE_P(
    Modes, PowerLossTest,
    ::testing::Values(KillCase{"WalFullKeepsAll", "WAL", "FULL", true, 20},
                      KillCase{"WalNormalLosesUnsynced", "WAL", "NORMAL", true, 10},
                      KillCase{"RollbackFullKeepsAll", "DELETE", "FULL", true, 20},
                      KillCase{"RollbackOffLosesUnsynced", "DELETE", "OFF", true, 10},
                      // Control: without the mode the page cache survives SIGKILL.
                      KillCase{"WalNormalWithoutPowerLossKeepsAll", "WAL", "NORMAL", false, 20}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(FaultVfsTest, CutPowerInProcessDropsUnsyncedCommitsAndHandlesStayUsable) {
  vfs_.set_power_loss_mode(true);
  {
    Db db = open_db(db_path_, vfs_.name());
    ASSERT_EQ(set_up_table(db, "WAL"), SQLITE_OK);
    ASSERT_EQ(exec(db, "PRAGMA synchronous=NORMAL"), SQLITE_OK);
    for (int id = 11; id <= 20; ++id) ASSERT_EQ(insert(db, id), SQLITE_OK);
    Db second = open_db(db_path_, vfs_.name());
    EXPECT_EQ(query(second, "SELECT count(*) FROM t"), "20") << "unsynced writes are shared";

    vfs_.cut_power();
    EXPECT_EQ(query(db, "SELECT count(*) FROM t"), "10");
    EXPECT_EQ(query(second, "SELECT count(*) FROM t"), "10");
    EXPECT_EQ(insert(db, 21), SQLITE_OK) << sqlite3_errmsg(db.get());
    EXPECT_EQ(query(second, "SELECT max(id) FROM t"), "21");
  }  // closing checkpoints, which syncs
  Db db = open_db(db_path_, nullptr);
  EXPECT_EQ(query(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(query(db, "SELECT count(*) FROM t"), "11");
}

// The overlay at byte level: overlapping writes, holes, short reads, truncation.
TEST_F(FaultVfsTest, PowerLossOverlayReadsWritesTruncatesAndSyncs) {
  vfs_.set_power_loss_mode(true);
  sqlite3_vfs* vfs = sqlite3_vfs_find(vfs_.name());
  std::vector<std::max_align_t> storage(vfs->szOsFile / sizeof(std::max_align_t) + 1);
  auto* f = reinterpret_cast<sqlite3_file*>(storage.data());
  const std::string path = dir_.file("raw");
  ASSERT_EQ(vfs->xOpen(vfs, path.c_str(), f,
                       SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE, nullptr),
            SQLITE_OK);
  const sqlite3_io_methods& io = *f->pMethods;
  auto put = [&](const std::string& s, sqlite3_int64 offset) {
    ASSERT_EQ(io.xWrite(f, s.data(), static_cast<int>(s.size()), offset), SQLITE_OK);
  };
  auto logical = [&]() {
    sqlite3_int64 size = 0;
    EXPECT_EQ(io.xFileSize(f, &size), SQLITE_OK);
    std::string out(static_cast<std::size_t>(size), '?');
    if (size > 0) {
      EXPECT_EQ(io.xRead(f, out.data(), static_cast<int>(size), 0), SQLITE_OK);
    }
    return out;
  };
  auto on_disk = [&]() {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  using std::string_literals::operator""s;

  put("AAAAAAAAAA", 0);
  put("BBBB", 3);
  put("CC", 8);
  put("DD", 12);
  EXPECT_EQ(logical(), "AAABBBBACC\0\0DD"s);
  EXPECT_EQ(on_disk(), "");
  char buf[20];
  std::memset(buf, 'x', sizeof buf);
  EXPECT_EQ(io.xRead(f, buf, sizeof buf, 0), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(std::string(buf, sizeof buf), "AAABBBBACC\0\0DD\0\0\0\0\0\0"s);

  put("EEEEEE", 2);  // spans three extents
  ASSERT_EQ(io.xTruncate(f, 9), SQLITE_OK);
  put("F", 11);
  EXPECT_EQ(logical(), "AAEEEEEEC\0\0F"s);
  ASSERT_EQ(io.xSync(f, SQLITE_SYNC_NORMAL), SQLITE_OK);
  EXPECT_EQ(on_disk(), "AAEEEEEEC\0\0F"s);

  ASSERT_EQ(io.xTruncate(f, 4), SQLITE_OK);  // cuts synced bytes
  put("H", 6);
  EXPECT_EQ(logical(), "AAEE\0\0H"s);
  EXPECT_EQ(on_disk(), "AAEEEEEEC\0\0F"s);
  vfs_.cut_power();
  EXPECT_EQ(logical(), "AAEEEEEEC\0\0F"s);

  ASSERT_EQ(io.xTruncate(f, 4), SQLITE_OK);
  put("H", 6);
  ASSERT_EQ(io.xSync(f, SQLITE_SYNC_NORMAL), SQLITE_OK);
  EXPECT_EQ(on_disk(), "AAEE\0\0H"s);
  EXPECT_EQ(io.xClose(f), SQLITE_OK);
}

TEST_F(FaultVfsTest, ControlFileSetsAndClearsTheFault) {
  const std::string control = dir_.file("fault");
  vfs_.set_control_file(control);
  Db db = open_db(db_path_, vfs_.name());
  ASSERT_EQ(set_up_table(db, "WAL"), SQLITE_OK);

  std::ofstream(control) << "full\n";
  std::this_thread::sleep_for(60ms);  // longer than the 50 ms poll interval
  const int rc = insert(db, 11);
  EXPECT_EQ(rc, SQLITE_FULL) << sqlite3_errstr(rc);
  EXPECT_EQ(vfs_.fault(), Fault::disk_full);
  if (sqlite3_get_autocommit(db.get()) == 0) exec(db, "ROLLBACK");

  fs::remove(control);
  std::this_thread::sleep_for(60ms);
  EXPECT_EQ(insert(db, 12), SQLITE_OK) << sqlite3_errmsg(db.get());
  EXPECT_EQ(vfs_.fault(), Fault::none);
  EXPECT_EQ(query(db, "PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace allscene::store
