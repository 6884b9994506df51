// Backup and restore of a hub's data directory (docs/operations.md).
//
// backup_data_dir() works while the hub runs: every SQLite database in the
// directory (the store, the services' databases) is copied through SQLite's
// online backup API in one step, which reads one consistent snapshot while
// the hub goes on writing (WAL); the hub's other files (admin token,
// service policies) are copied as they are. Runtime files (LOCK,
// admin.json, -wal/-shm/-journal) are left out. A manifest,
// allscene-backup.json, lists what was saved.
//
// restore_data_dir() needs the hub stopped (the caller checks the lock): it
// checks every database of the backup (PRAGMA integrity_check) before it
// changes anything, then puts each file in place by rename. Files the
// restore replaces are moved to `DATA_DIR/replaced-<unix time>/` first.
//
// Both throw std::runtime_error with a message that says what to do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace allscene::store {

struct CopiedFile {
  std::string path;  // relative to the data directory
  std::uint64_t bytes = 0;
  bool database = false;
};

// Called after each file (for progress lines).
using CopyProgress = std::function<void(const CopiedFile&, std::size_t done, std::size_t total)>;

inline constexpr const char* kBackupManifest = "allscene-backup.json";

// `dest` must not exist or be empty; it is created with mode 0700.
std::vector<CopiedFile> backup_data_dir(const std::filesystem::path& data_dir,
                                        const std::filesystem::path& dest,
                                        const CopyProgress& progress = {});

// Returns the files restored; `replaced_to` gets the folder the old files
// went to (empty when nothing was replaced).
std::vector<CopiedFile> restore_data_dir(const std::filesystem::path& backup,
                                         const std::filesystem::path& data_dir,
                                         std::filesystem::path& replaced_to,
                                         const CopyProgress& progress = {});

}  // namespace allscene::store
