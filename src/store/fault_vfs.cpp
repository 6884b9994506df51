#include "store/fault_vfs.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <utility>

#include "log/module_log.hpp"

namespace allscene::store {
namespace {

constexpr sqlite3_int64 kNoCut = std::numeric_limits<sqlite3_int64>::max();
constexpr std::int64_t kPollIntervalNs = 50'000'000;
constexpr int kFaultableFiles =
    SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_SUPER_JOURNAL | SQLITE_OPEN_WAL;
// Both copies of the WAL index header at the start of the -shm file; when they
// are zero, the next reader rebuilds the index from the WAL file.
constexpr int kWalIndexHeaderBytes = 2 * 48;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// The unsynced state of one path. Every handle on the path shares it, so a
// second connection sees the first one's WAL frames, as through a page cache.
struct FaultVfs::Overlay {
  std::mutex mutex;
  // Unsynced writes as non-overlapping extents, by offset.
  std::map<sqlite3_int64, std::string> extents;  // guarded by mutex
  // Bytes of the real file from here on were truncated away (not yet synced).
  sqlite3_int64 cut = kNoCut;   // guarded by mutex
  sqlite3_int64 size = 0;       // size the process sees; guarded by mutex
  sqlite3_int64 disk_size = 0;  // size of the real file; guarded by mutex
  int handles = 0;              // guarded by FaultVfs::mutex_

  bool dirty() const { return !extents.empty() || cut != kNoCut; }
  void drop() {
    extents.clear();
    cut = kNoCut;
    size = disk_size;
  }

  void write(const void* data, int amount, sqlite3_int64 offset) {
    const sqlite3_int64 end = offset + amount;
    auto it = extents.lower_bound(offset);
    if (it != extents.begin()) {
      auto& [start, bytes] = *std::prev(it);
      const auto prev_end = start + static_cast<sqlite3_int64>(bytes.size());
      if (prev_end >= end) {
        std::memcpy(bytes.data() + (offset - start), data, amount);
        return;
      }
      if (prev_end > offset) bytes.resize(offset - start);
    }
    while (it != extents.end() && it->first < end) {
      const auto it_end = it->first + static_cast<sqlite3_int64>(it->second.size());
      if (it_end > end) {
        std::string tail = it->second.substr(end - it->first);
        extents.erase(it);
        extents.emplace(end, std::move(tail));
        break;
      }
      it = extents.erase(it);
    }
    extents.emplace(offset, std::string(static_cast<const char*>(data), amount));
    size = std::max(size, end);
  }

  void truncate(sqlite3_int64 new_size) {
    extents.erase(extents.lower_bound(new_size), extents.end());
    if (!extents.empty()) {
      auto& [start, bytes] = *extents.rbegin();
      if (start + static_cast<sqlite3_int64>(bytes.size()) > new_size) {
        bytes.resize(new_size - start);
      }
    }
    cut = std::min(cut, new_size);
    size = new_size;
  }

  // Real bytes up to the cut, zeros past it, then the extents on top.
  int read(sqlite3_file* real, void* out, int amount, sqlite3_int64 offset) const {
    auto* bytes = static_cast<char*>(out);
    std::memset(bytes, 0, amount);
    const sqlite3_int64 end = offset + amount;
    const sqlite3_int64 real_end = std::min({end, cut, size, disk_size});
    if (real_end > offset) {
      const int rc =
          real->pMethods->xRead(real, bytes, static_cast<int>(real_end - offset), offset);
      if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
    }
    auto it = extents.upper_bound(offset);
    if (it != extents.begin()) --it;
    for (; it != extents.end() && it->first < end; ++it) {
      const sqlite3_int64 from = std::max(offset, it->first);
      const sqlite3_int64 to =
          std::min(end, it->first + static_cast<sqlite3_int64>(it->second.size()));
      if (from < to) {
        std::memcpy(bytes + (from - offset), it->second.data() + (from - it->first), to - from);
      }
    }
    return end > size ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
  }

  // Writes the overlay to the real file. Keeps the state consistent if a real
  // call fails part way, so a later sync can retry.
  int flush(sqlite3_file* real) {
    const sqlite3_io_methods* io = real->pMethods;
    if (cut < disk_size) {
      if (const int rc = io->xTruncate(real, cut); rc != SQLITE_OK) return rc;
      disk_size = cut;
    }
    cut = kNoCut;
    for (const auto& [offset, bytes] : extents) {
      const int rc = io->xWrite(real, bytes.data(), static_cast<int>(bytes.size()), offset);
      if (rc != SQLITE_OK) return rc;
      disk_size = std::max(disk_size, offset + static_cast<sqlite3_int64>(bytes.size()));
    }
    extents.clear();
    if (size > disk_size) {
      if (const int rc = io->xTruncate(real, size); rc != SQLITE_OK) return rc;
      disk_size = size;
    }
    return SQLITE_OK;
  }
};

struct FaultVfs::File {
  FaultVfs* vfs = nullptr;
  sqlite3_file* real = nullptr;
  bool faultable = false;
  std::string path;
  std::shared_ptr<Overlay> overlay;  // set in power-loss mode
  std::atomic<void volatile*> shm_region0{nullptr};
};

struct FaultVfs::Shim {
  // What SQLite allocates (szOsFile bytes): this, then the real file.
  struct Handle {
    sqlite3_file base;
    File* file;
  };
  static File& file(sqlite3_file* f) { return *reinterpret_cast<Handle*>(f)->file; }
  static FaultVfs& self(sqlite3_vfs* vfs) { return *static_cast<FaultVfs*>(vfs->pAppData); }

  // Plain pass-through of a method to the real file or the base VFS.
  template <auto M>
  struct Io;
  template <typename R, typename... A, R (*sqlite3_io_methods::*M)(sqlite3_file*, A...)>
  struct Io<M> {
    static R call(sqlite3_file* f, A... args) {
      sqlite3_file* real = file(f).real;
      return (real->pMethods->*M)(real, args...);
    }
  };
  template <auto M>
  struct Vfs;
  template <typename R, typename... A, R (*sqlite3_vfs::*M)(sqlite3_vfs*, A...)>
  struct Vfs<M> {
    static R call(sqlite3_vfs* vfs, A... args) {
      sqlite3_vfs* base = self(vfs).base_;
      return (base->*M)(base, args...);
    }
  };

  static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* out, int flags,
                  int* out_flags) {
    FaultVfs& fault_vfs = self(vfs);
    auto* handle = reinterpret_cast<Handle*>(out);
    auto* real = reinterpret_cast<sqlite3_file*>(handle + 1);
    handle->base.pMethods = nullptr;
    real->pMethods = nullptr;
    int rc = fault_vfs.base_->xOpen(fault_vfs.base_, name, real, flags, out_flags);
    sqlite3_int64 real_size = 0;
    auto owned = std::make_unique<File>();
    owned->faultable = name != nullptr && (flags & kFaultableFiles) != 0;
    const bool power_loss = owned->faultable && fault_vfs.power_loss_;
    if (rc == SQLITE_OK && power_loss) {
      rc = real->pMethods->xFileSize(real, &real_size);
    }
    if (rc != SQLITE_OK) {
      if (real->pMethods != nullptr) real->pMethods->xClose(real);
      return rc;
    }
    owned->vfs = &fault_vfs;
    owned->real = real;
    if (power_loss) {
      owned->path = name;
      std::lock_guard lock(fault_vfs.mutex_);
      auto& overlay = fault_vfs.overlays_[owned->path];
      if (!overlay) {
        overlay = std::make_shared<Overlay>();
        overlay->size = overlay->disk_size = real_size;
      }
      ++overlay->handles;
      owned->overlay = overlay;
      fault_vfs.files_.insert(owned.get());
    }
    handle->file = owned.release();
    handle->base.pMethods = &kIoMethods;
    return SQLITE_OK;
  }

  static int close(sqlite3_file* f) {
    std::unique_ptr<File> owned(&file(f));
    const int rc = owned->real->pMethods->xClose(owned->real);
    if (owned->overlay) {
      FaultVfs& fault_vfs = *owned->vfs;
      std::lock_guard lock(fault_vfs.mutex_);
      fault_vfs.files_.erase(owned.get());
      const bool dirty = [&] {
        std::lock_guard overlay_lock(owned->overlay->mutex);
        return owned->overlay->dirty();
      }();
      auto it = fault_vfs.overlays_.find(owned->path);
      if (--owned->overlay->handles == 0 && !dirty && it != fault_vfs.overlays_.end() &&
          it->second == owned->overlay) {
        fault_vfs.overlays_.erase(it);
      }
    }
    return rc;
  }

  static int read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
    File& fl = file(f);
    if (!fl.overlay) return Io<&sqlite3_io_methods::xRead>::call(f, out, amount, offset);
    std::lock_guard lock(fl.overlay->mutex);
    return fl.overlay->read(fl.real, out, amount, offset);
  }

  static int write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
    File& fl = file(f);
    if (fl.faultable) {
      ++fl.vfs->writes_;
      if (const int rc = fl.vfs->inject(SQLITE_IOERR_WRITE); rc != SQLITE_OK) return rc;
    }
    if (!fl.overlay) return Io<&sqlite3_io_methods::xWrite>::call(f, data, amount, offset);
    std::lock_guard lock(fl.overlay->mutex);
    fl.overlay->write(data, amount, offset);
    return SQLITE_OK;
  }

  static int truncate(sqlite3_file* f, sqlite3_int64 size) {
    File& fl = file(f);
    if (fl.faultable) {
      if (const int rc = fl.vfs->inject(SQLITE_IOERR_TRUNCATE); rc != SQLITE_OK) return rc;
    }
    if (!fl.overlay) return Io<&sqlite3_io_methods::xTruncate>::call(f, size);
    std::lock_guard lock(fl.overlay->mutex);
    fl.overlay->truncate(size);
    return SQLITE_OK;
  }

  static int sync(sqlite3_file* f, int flags) {
    File& fl = file(f);
    if (fl.faultable) {
      ++fl.vfs->syncs_;
      if (const int rc = fl.vfs->inject(SQLITE_IOERR_FSYNC); rc != SQLITE_OK) return rc;
    }
    if (fl.overlay) {
      std::lock_guard lock(fl.overlay->mutex);
      if (const int rc = fl.overlay->flush(fl.real); rc != SQLITE_OK) return rc;
    }
    return Io<&sqlite3_io_methods::xSync>::call(f, flags);
  }

  static int file_size(sqlite3_file* f, sqlite3_int64* size) {
    File& fl = file(f);
    if (!fl.overlay) return Io<&sqlite3_io_methods::xFileSize>::call(f, size);
    std::lock_guard lock(fl.overlay->mutex);
    *size = fl.overlay->size;
    return SQLITE_OK;
  }

  static int shm_map(sqlite3_file* f, int region, int region_size, int extend,
                     void volatile** out) {
    const int rc = Io<&sqlite3_io_methods::xShmMap>::call(f, region, region_size, extend, out);
    if (rc == SQLITE_OK && region == 0 && *out != nullptr) file(f).shm_region0 = *out;
    return rc;
  }

  static int shm_unmap(sqlite3_file* f, int delete_flag) {
    file(f).shm_region0 = nullptr;
    return Io<&sqlite3_io_methods::xShmUnmap>::call(f, delete_flag);
  }

  // No memory mapping: SQLite then reads through xRead, which sees the overlay.
  static int fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
    *out = nullptr;
    return SQLITE_OK;
  }
  static int unfetch(sqlite3_file*, sqlite3_int64, void*) { return SQLITE_OK; }

  static int remove(sqlite3_vfs* vfs, const char* path, int sync_dir) {
    FaultVfs& fault_vfs = self(vfs);
    const int rc = fault_vfs.base_->xDelete(fault_vfs.base_, path, sync_dir);
    if (rc == SQLITE_OK || rc == SQLITE_IOERR_DELETE_NOENT) {
      std::lock_guard lock(fault_vfs.mutex_);
      fault_vfs.overlays_.erase(path);
    }
    return rc;
  }

  // The unix VFS reports an empty file as missing; a file whose data is all
  // unsynced must still exist for this process.
  static int access(sqlite3_vfs* vfs, const char* path, int flags, int* result) {
    FaultVfs& fault_vfs = self(vfs);
    const int rc = fault_vfs.base_->xAccess(fault_vfs.base_, path, flags, result);
    if (rc != SQLITE_OK || flags != SQLITE_ACCESS_EXISTS || *result != 0) return rc;
    std::lock_guard lock(fault_vfs.mutex_);
    if (auto it = fault_vfs.overlays_.find(path); it != fault_vfs.overlays_.end()) {
      std::lock_guard overlay_lock(it->second->mutex);
      *result = it->second->size > 0 ? 1 : 0;
    }
    return rc;
  }

  static constexpr sqlite3_io_methods kIoMethods = {
      .iVersion = 3,
      .xClose = &close,
      .xRead = &read,
      .xWrite = &write,
      .xTruncate = &truncate,
      .xSync = &sync,
      .xFileSize = &file_size,
      .xLock = &Io<&sqlite3_io_methods::xLock>::call,
      .xUnlock = &Io<&sqlite3_io_methods::xUnlock>::call,
      .xCheckReservedLock = &Io<&sqlite3_io_methods::xCheckReservedLock>::call,
      .xFileControl = &Io<&sqlite3_io_methods::xFileControl>::call,
      .xSectorSize = &Io<&sqlite3_io_methods::xSectorSize>::call,
      .xDeviceCharacteristics = &Io<&sqlite3_io_methods::xDeviceCharacteristics>::call,
      .xShmMap = &shm_map,
      .xShmLock = &Io<&sqlite3_io_methods::xShmLock>::call,
      .xShmBarrier = &Io<&sqlite3_io_methods::xShmBarrier>::call,
      .xShmUnmap = &shm_unmap,
      .xFetch = &fetch,
      .xUnfetch = &unfetch,
  };
};

FaultVfs& FaultVfs::install(const char* name) {
  // Leaked on purpose: SQLite holds a pointer to vfs_ until the process ends.
  static FaultVfs* const instance = new FaultVfs(name);
  return *instance;
}

FaultVfs::FaultVfs(const char* name) : name_(name), base_(sqlite3_vfs_find("unix")) {
  if (base_ == nullptr) throw std::runtime_error("FaultVfs: SQLite has no \"unix\" VFS");
  // The "unix" VFS and its files implement version 3 of both interfaces.
  vfs_.iVersion = 3;
  vfs_.szOsFile = static_cast<int>(sizeof(Shim::Handle)) + base_->szOsFile;
  vfs_.mxPathname = base_->mxPathname;
  vfs_.zName = name_.c_str();
  vfs_.pAppData = this;
  vfs_.xOpen = &Shim::open;
  vfs_.xDelete = &Shim::remove;
  vfs_.xAccess = &Shim::access;
  vfs_.xFullPathname = &Shim::Vfs<&sqlite3_vfs::xFullPathname>::call;
  vfs_.xDlOpen = &Shim::Vfs<&sqlite3_vfs::xDlOpen>::call;
  vfs_.xDlError = &Shim::Vfs<&sqlite3_vfs::xDlError>::call;
  vfs_.xDlSym = &Shim::Vfs<&sqlite3_vfs::xDlSym>::call;
  vfs_.xDlClose = &Shim::Vfs<&sqlite3_vfs::xDlClose>::call;
  vfs_.xRandomness = &Shim::Vfs<&sqlite3_vfs::xRandomness>::call;
  vfs_.xSleep = &Shim::Vfs<&sqlite3_vfs::xSleep>::call;
  vfs_.xCurrentTime = &Shim::Vfs<&sqlite3_vfs::xCurrentTime>::call;
  vfs_.xGetLastError = &Shim::Vfs<&sqlite3_vfs::xGetLastError>::call;
  vfs_.xCurrentTimeInt64 = &Shim::Vfs<&sqlite3_vfs::xCurrentTimeInt64>::call;
  vfs_.xSetSystemCall = &Shim::Vfs<&sqlite3_vfs::xSetSystemCall>::call;
  vfs_.xGetSystemCall = &Shim::Vfs<&sqlite3_vfs::xGetSystemCall>::call;
  vfs_.xNextSystemCall = &Shim::Vfs<&sqlite3_vfs::xNextSystemCall>::call;
  if (const int rc = sqlite3_vfs_register(&vfs_, 0); rc != SQLITE_OK) {
    throw std::runtime_error(
        fmt::format("FaultVfs: registering VFS {} failed: {}", name_, sqlite3_errstr(rc)));
  }
}

const char* FaultVfs::name() const { return name_.c_str(); }

void FaultVfs::set_fault(Fault fault) { fault_ = fault; }

FaultVfs::Fault FaultVfs::fault() const { return fault_; }

void FaultVfs::set_power_loss_mode(bool on) { power_loss_ = on; }

bool FaultVfs::power_loss_mode() const { return power_loss_; }

void FaultVfs::cut_power() {
  std::lock_guard lock(mutex_);
  for (auto it = overlays_.begin(); it != overlays_.end();) {
    {
      std::lock_guard overlay_lock(it->second->mutex);
      it->second->drop();
    }
    it = it->second->handles == 0 ? overlays_.erase(it) : std::next(it);
  }
  for (File* file : files_) {
    {
      std::lock_guard overlay_lock(file->overlay->mutex);
      file->overlay->drop();  // also paths deleted while open
    }
    if (auto* header = static_cast<volatile char*>(file->shm_region0.load())) {
      std::fill_n(header, kWalIndexHeaderBytes, 0);
      file->real->pMethods->xShmBarrier(file->real);
    }
  }
}

void FaultVfs::set_control_file(std::string path) {
  std::lock_guard lock(mutex_);
  polling_ = !path.empty();
  next_poll_ns_ = 0;
  control_file_ = std::move(path);
}

FaultVfs::Counters FaultVfs::counters() const {
  return Counters{.writes = writes_, .syncs = syncs_, .faults = faults_};
}

void FaultVfs::reset_counters() {
  writes_ = 0;
  syncs_ = 0;
  faults_ = 0;
}

int FaultVfs::inject(int io_error_code) {
  poll_control_file();
  switch (fault_.load()) {
    case Fault::none:
      return SQLITE_OK;
    case Fault::disk_full:
      ++faults_;
      return SQLITE_FULL;
    case Fault::io_error:
      ++faults_;
      return io_error_code;
  }
  return SQLITE_OK;
}

void FaultVfs::poll_control_file() {
  if (!polling_) return;
  const std::int64_t now = now_ns();
  std::int64_t due = next_poll_ns_;
  if (now < due || !next_poll_ns_.compare_exchange_strong(due, now + kPollIntervalNs)) return;
  std::string path;
  {
    std::lock_guard lock(mutex_);
    path = control_file_;
  }
  if (path.empty()) return;
  std::string word;
  std::ifstream(path) >> word;
  const Fault fault = word == "full"    ? Fault::disk_full
                      : word == "ioerr" ? Fault::io_error
                                        : Fault::none;
  if (fault_.exchange(fault) != fault) {
    module_log().warn("FaultVfs: control file {} now says \"{}\"", path, word);
  }
}

}  // namespace allscene::store
