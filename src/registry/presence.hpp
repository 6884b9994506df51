// Presence: which devices are connected and when each was last seen. The
// broker reports sign-ins and their ends (broker::ClientObserver); flush()
// writes what changed to storage (collection "presence"), where the CLI
// and other processes read it.
//
// Thread safety: every member function may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "broker/interfaces.hpp"
#include "registry/registry.hpp"

namespace allscene::registry {

struct PresenceState {
  bool connected = false;
  std::int64_t last_seen_ms = 0;  // wall ms of the last sign-in or its end; 0: never
};

class Presence final : public broker::ClientObserver {
 public:
  using WallClock = std::function<std::int64_t()>;  // unix ms; tests inject
  explicit Presence(RegistryStorage& storage, WallClock now = {});

  // Told when a device comes online (its first connection) or goes
  // offline (its last one ended), on the event loop that saw it, outside
  // any lock. Set before the loops start.
  // `reason`: why a device went offline (ClientObserver::signed_out).
  using Listener = std::function<void(const std::string& device_id, bool connected,
                                      std::int64_t at_ms, std::string_view reason)>;
  void set_listener(Listener listener) { listener_ = std::move(listener); }

  void signed_in(std::string_view identity, std::string_view client_id) override;
  void signed_out(std::string_view identity, std::string_view client_id,
                  std::string_view reason = {}) override;

  // Writes the devices whose state changed since the last flush, in one
  // commit. Throws what the storage throws (the changes stay pending).
  void flush();
  // At start-up: no device is connected yet, whatever a crash left stored.
  void reset();

  // The live state of one device, as this process sees it.
  PresenceState current(std::string_view device_id) const;

  // What storage says (the CLI's view; up to a flush interval behind).
  static std::map<std::string, PresenceState> read(RegistryStorage& storage);

 private:
  struct Entry {
    int connections = 0;
    std::int64_t last_seen_ms = 0;
    bool dirty = false;
  };
  std::int64_t now_ms() const;

  RegistryStorage& storage_;
  WallClock now_;
  Listener listener_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> devices_;  // guarded by mutex_
};

}  // namespace allscene::registry
