// Test-only SQLite VFS that wraps the "unix" VFS and injects faults: a full
// disk, I/O errors, and power loss (writes not yet synced are lost).
//
// Faults and power loss apply to main databases, rollback and super journals
// and WAL files opened through this VFS; temporary files pass straight through.
// Open a database with it by name: sqlite3_open_v2(path, &db, flags, vfs.name()).
//
// Thread-safety: every member function is safe to call from any thread, and
// SQLite may use the VFS from many connections at once.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace allscene::store {

class FaultVfs {
 public:
  enum class Fault { none, disk_full, io_error };

  struct Counters {
    std::uint64_t writes = 0;  // xWrite calls on the files faults apply to
    std::uint64_t syncs = 0;   // xSync calls on those files
    std::uint64_t faults = 0;  // calls failed on purpose
  };

  // Registers the VFS under `name` (never as the default VFS) on the first
  // call and returns the single instance; later calls return it and ignore
  // `name`. One instance per process, because SQLite's VFS list is
  // process-wide; it is never destroyed. Throws std::runtime_error if SQLite
  // has no "unix" VFS or registration fails.
  static FaultVfs& install(const char* name = "allscene-fault");

  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  const char* name() const;

  // From now on every xWrite, xTruncate and xSync fails: disk_full with
  // SQLITE_FULL; io_error with SQLITE_IOERR_WRITE, SQLITE_IOERR_TRUNCATE or
  // SQLITE_IOERR_FSYNC. Reads still work. none restores normal operation.
  void set_fault(Fault fault);
  Fault fault() const;

  // Power-loss mode, for files opened afterwards (set it before opening
  // databases). Written data is held in memory until xSync on that file
  // writes it out and syncs; until then the process sees it (through every
  // handle on the same path, as through a page cache) but the disk does not,
  // so when the process dies (SIGKILL) or exits, unsynced writes are lost,
  // as a power cut loses a disk cache. Unsynced data survives xClose, like a
  // file closed without fsync, and is dropped by xDelete of the path. Not for
  // databases that another process writes at the same time.
  void set_power_loss_mode(bool on);
  bool power_loss_mode() const;

  // Drops every write not yet synced, as if the machine had lost power and
  // rebooted: open handles stay usable and see the synced state, and WAL
  // indexes (-shm) are invalidated so SQLite rebuilds them from the WAL.
  // Call only while no transaction is open on the affected databases.
  void cut_power();

  // For tests that drive a separate process: while `path` is not empty, the
  // fault is read from that file ("full" -> disk_full, "ioerr" -> io_error,
  // anything else, empty or missing -> none), polled at most every 50 ms from
  // the write and sync paths, and overrides set_fault(). An empty `path`
  // stops polling and leaves the last fault read in place.
  void set_control_file(std::string path);

  Counters counters() const;
  void reset_counters();

 private:
  struct Overlay;
  struct File;
  struct Shim;  // the C callbacks SQLite calls
  friend struct Shim;

  explicit FaultVfs(const char* name);
  // SQLITE_OK, or the code the current fault makes a call fail with.
  int inject(int io_error_code);
  void poll_control_file();

  const std::string name_;
  sqlite3_vfs* const base_;
  sqlite3_vfs vfs_{};
  std::atomic<Fault> fault_{Fault::none};
  std::atomic<bool> power_loss_{false};
  std::atomic<std::uint64_t> writes_{0};
  std::atomic<std::uint64_t> syncs_{0};
  std::atomic<std::uint64_t> faults_{0};
  std::atomic<bool> polling_{false};
  std::atomic<std::int64_t> next_poll_ns_{0};

  mutable std::mutex mutex_;  // taken before any Overlay::mutex
  std::string control_file_;  // guarded by mutex_
  // Unsynced data by path, including paths with no open handle.
  std::map<std::string, std::shared_ptr<Overlay>> overlays_;  // guarded by mutex_
  std::set<File*> files_;  // open handles that have an overlay; guarded by mutex_
};

}  // namespace allscene::store
