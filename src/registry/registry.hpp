// The device registry: users, their devices and the devices' credentials,
// kept durably through a RegistryStorage and served to readers as immutable
// snapshots.
//
// Thread safety: every member function may be called from any thread.
// Mutations are serialised by one mutex and each publishes a new snapshot;
// snapshot() only copies a pointer, so readers never wait for a mutation's
// storage write. Errors: see model.hpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "registry/model.hpp"

namespace allscene::registry {

// Where the registry keeps its documents; the hub adapts the store to it.
// put/remove are durable when they return and throw std::runtime_error on
// failure.
class RegistryStorage {
 public:
  virtual ~RegistryStorage() = default;
  virtual std::vector<std::string> load(std::string_view collection) = 0;  // JSON bodies
  virtual void put(std::string_view collection, std::string_view key, const std::string& body) = 0;
  virtual void remove(std::string_view collection, std::string_view key) = 0;
  // Status documents (presence), written together in one commit; unlike
  // put, not a change of the registry that readers must reload for.
  virtual void record(std::string_view collection,
                      const std::vector<std::pair<std::string, std::string>>& documents) {
    for (const auto& [key, body] : documents) put(collection, key, body);
  }
};

// Immutable once published; shared by every reader.
struct Snapshot {
  std::unordered_map<std::string, User> users;
  std::unordered_map<std::string, Device> devices;
  // Thumbprint -> device id, over every device's thumbprints (rebuild_index()).
  std::unordered_map<std::string, std::string> by_thumbprint;

  const Device* device(std::string_view id) const;  // nullptr if absent; no allocation
  const User* user(std::string_view id) const;      // nullptr if absent
  const Device* device_by_thumbprint(std::string_view thumbprint) const;
  void rebuild_index();
};

enum class AuthKind { sas, password, x509 };
// What kind of credential a device has: sas if it has keys, password if it
// has a password hash, x509 otherwise.
AuthKind auth_kind(const Device& device);

struct NewDevice {
  std::string id, owner, display_name;
  DeviceClass device_class = DeviceClass::iot;
  std::map<std::string, std::string> tags;
  AuthKind auth = AuthKind::sas;
  std::string password;  // AuthKind::password; empty: generate one (24 random chars)
  std::vector<std::string> thumbprints;  // AuthKind::x509 (normalised: strip ':' and spaces,
                                         // upper-case; validated 64 hex)
  bool ca_signed = false;                // AuthKind::x509 without thumbprints
  bool gateway = false;  // Device::gateway
  // AuthKind::sas: the keys to use (base64, 16-64 bytes); empty: generated.
  std::string primary_key, secondary_key;
};

// Secrets as issued; shown once, never stored in plain (keys excepted: SAS
// verification needs them). password only for AuthKind::password.
struct Credentials {
  std::string primary_key, secondary_key, password;
};

struct RegistryOptions {
  // Argon2id cost of stored password hashes (libsodium crypto_pwhash_str):
  // OWASP's recommended minimum, t=2 and 19 MiB. A check runs on an event
  // loop while a device signs in (about 15 ms here; libsodium's
  // INTERACTIVE, 64 MiB, took 57 ms). Tests lower them to the MIN limits.
  unsigned long long pwhash_opslimit = 2;
  std::size_t pwhash_memlimit = 19 * 1024 * 1024;
  std::function<std::int64_t()> now_ms;      // wall clock, unix ms; empty: system clock
};

class Registry {
 public:
  explicit Registry(RegistryStorage& storage, RegistryOptions options = {});
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Reads storage and replaces the snapshot. Throws RegistryError naming the
  // document when one is damaged (the snapshot is then unchanged).
  void load();
  // Re-reads storage (another process changed it); returns ids of devices
  // that were enabled before and now are disabled or gone (the hub
  // disconnects them). last_seen_ms kept in memory survives a reload.
  std::vector<std::string> reload();

  std::shared_ptr<const Snapshot> snapshot() const;
  // Increases whenever a new snapshot is published; with uid() it lets a
  // reader cache a snapshot per thread and refetch it only when this changes.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  std::uint64_t uid() const { return uid_; }

  User add_user(const std::string& id,
                const std::string& display_name);  // RegistryError if invalid/exists
  // RegistryError if unknown or it still owns devices.
  void remove_user(const std::string& id);
  // The owner must exist and the id be unused; returns the device as stored
  // and its secrets.
  std::pair<Device, Credentials> add_device(const NewDevice& device);
  void set_enabled(const std::string& device_id, bool enabled);
  void remove_device(const std::string& device_id);
  // sas: new primary and secondary key; password: new password; x509:
  // RegistryError.
  Credentials rotate_key(const std::string& device_id);
  // sas: sets both keys (base64, 16-64 bytes each); RegistryError if the
  // device is unknown, has no keys or a key is invalid.
  void set_keys(const std::string& device_id, const std::string& primary_key,
                const std::string& secondary_key);

  // Records when devices were last seen, in memory only (the snapshot), no
  // storage write. Each call publishes one new snapshot, which copies the
  // device table: batch with touch_many where many devices connect at once.
  void touch(const std::string& device_id, std::int64_t last_seen_ms);
  void touch_many(const std::vector<std::pair<std::string, std::int64_t>>& seen);

 private:
  std::shared_ptr<Snapshot> copy_current() const;
  void publish(std::shared_ptr<const Snapshot> next);
  std::shared_ptr<Snapshot> read_storage();
  void put_device(const Device& device);
  std::string hash_password(const std::string& password) const;
  std::int64_t now_ms() const;

  RegistryStorage& storage_;
  RegistryOptions options_;
  const std::uint64_t uid_;
  std::mutex mutation_mutex_;  // serialises mutations (held across storage writes)
  // Held only to copy or swap the pointer. (libstdc++ 12's
  // std::atomic<std::shared_ptr> works, but ThreadSanitizer cannot see its
  // internal lock bit and reports races.)
  mutable std::mutex current_mutex_;
  std::shared_ptr<const Snapshot> current_;  // guarded by current_mutex_
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace allscene::registry
