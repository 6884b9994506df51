#include "registry/registry.hpp"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "azure/azure.hpp"

namespace allscene::registry {

namespace {

static_assert(crypto_pwhash_OPSLIMIT_INTERACTIVE == 2U);
static_assert(crypto_pwhash_MEMLIMIT_INTERACTIVE == 67'108'864U);

constexpr std::string_view kUsers = "users";
constexpr std::string_view kDevices = "devices";
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kGeneratedPasswordLength = 24;
constexpr std::size_t kMinPasswordLength = 8;
constexpr std::string_view kPasswordAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

std::atomic<std::uint64_t> next_uid{1};

void init_sodium() {
  static const int result = sodium_init();
  if (result < 0) throw std::runtime_error("libsodium failed to initialise");
}

std::string random_key() {
  std::string bytes(kKeyBytes, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  std::string key = azure::base64_encode(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

std::string random_password() {
  std::string password(kGeneratedPasswordLength, '\0');
  for (char& c : password) {
    c = kPasswordAlphabet[randombytes_uniform(
        static_cast<std::uint32_t>(kPasswordAlphabet.size()))];
  }
  return password;
}

Device& existing_device(Snapshot& snapshot, const std::string& id) {
  const auto it = snapshot.devices.find(id);
  if (it == snapshot.devices.end()) {
    throw RegistryError("no device \"" + id + "\"; list devices to see which exist");
  }
  return it->second;
}

// Azure's rule for symmetric keys: base64 of 16 to 64 bytes.
void check_sas_key(const std::string& key) {
  const auto bytes = azure::base64_decode(key);
  if (!bytes || bytes->size() < 16 || bytes->size() > 64) {
    throw RegistryError(
        "a symmetric key must be base64 of 16 to 64 bytes; leave both keys out to "
        "have them generated");
  }
}

}  // namespace

const Device* Snapshot::device(std::string_view id) const {
  // A reused per-thread key keeps the lookup free of allocation.
  thread_local std::string key;
  key.assign(id);
  const auto it = devices.find(key);
  return it == devices.end() ? nullptr : &it->second;
}

const User* Snapshot::user(std::string_view id) const {
  thread_local std::string key;
  key.assign(id);
  const auto it = users.find(key);
  return it == users.end() ? nullptr : &it->second;
}

const Device* Snapshot::device_by_thumbprint(std::string_view thumbprint) const {
  thread_local std::string key;
  key.assign(thumbprint);
  const auto it = by_thumbprint.find(key);
  return it == by_thumbprint.end() ? nullptr : device(it->second);
}

void Snapshot::rebuild_index() {
  by_thumbprint.clear();
  for (const auto& [id, device] : devices) {
    for (const auto& thumbprint : device.thumbprints) by_thumbprint.emplace(thumbprint, id);
  }
}

AuthKind auth_kind(const Device& device) {
  if (!device.primary_key.empty() || !device.secondary_key.empty()) return AuthKind::sas;
  if (!device.password_hash.empty()) return AuthKind::password;
  return AuthKind::x509;
}

Registry::Registry(RegistryStorage& storage, RegistryOptions options)
    : storage_(storage),
      options_(std::move(options)),
      uid_(next_uid.fetch_add(1, std::memory_order_relaxed)),
      current_(std::make_shared<const Snapshot>()) {
  init_sodium();
}

std::int64_t Registry::now_ms() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<const Snapshot> Registry::snapshot() const {
  std::lock_guard lock(current_mutex_);
  return current_;
}

std::shared_ptr<Snapshot> Registry::copy_current() const {
  return std::make_shared<Snapshot>(*snapshot());
}

void Registry::publish(std::shared_ptr<const Snapshot> next) {
  {
    std::lock_guard lock(current_mutex_);
    current_.swap(next);
  }
  // After the pointer: a reader that sees the new generation gets the new
  // snapshot (or a newer one). The old one is released outside the lock.
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::shared_ptr<Snapshot> Registry::read_storage() {
  auto next = std::make_shared<Snapshot>();
  for (const auto& body : storage_.load(kUsers)) {
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded()) throw RegistryError("a user document is not JSON; fix or remove it");
    User user = user_from_json(json);
    const std::string id = user.id;
    next->users.insert_or_assign(id, std::move(user));
  }
  for (const auto& body : storage_.load(kDevices)) {
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded()) {
      throw RegistryError("a device document is not JSON; fix or remove it");
    }
    Device device = device_from_json(json);
    const std::string id = device.id;
    next->devices.insert_or_assign(id, std::move(device));
  }
  next->rebuild_index();
  return next;
}

void Registry::load() {
  std::lock_guard lock(mutation_mutex_);
  publish(read_storage());
}

std::vector<std::string> Registry::reload() {
  std::lock_guard lock(mutation_mutex_);
  auto next = read_storage();
  const auto previous = snapshot();
  std::vector<std::string> lost;
  for (const auto& [id, before] : previous->devices) {
    auto it = next->devices.find(id);
    if (it == next->devices.end()) {
      if (before.enabled) lost.push_back(id);
      continue;
    }
    if (before.enabled && !it->second.enabled) lost.push_back(id);
    it->second.last_seen_ms = std::max(it->second.last_seen_ms, before.last_seen_ms);
  }
  std::sort(lost.begin(), lost.end());
  publish(std::move(next));
  return lost;
}

void Registry::put_device(const Device& device) {
  storage_.put(kDevices, device.id, to_json(device).dump());
}

std::string Registry::hash_password(const std::string& password) const {
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, password.data(), password.size(), options_.pwhash_opslimit,
                        options_.pwhash_memlimit) != 0) {
    throw std::runtime_error("hashing a password failed (out of memory?)");
  }
  return std::string(hash);
}

User Registry::add_user(const std::string& id, const std::string& display_name) {
  if (!valid_id(id)) {
    throw RegistryError("\"" + id +
                        "\" is not a valid user id; use 1-128 letters, digits or - . : + % _ # * ? "
                        "! ( ) , = @ $ '");
  }
  std::lock_guard lock(mutation_mutex_);
  auto next = copy_current();
  if (next->users.contains(id)) {
    throw RegistryError("user \"" + id + "\" already exists; choose another id");
  }
  User user{.id = id, .display_name = display_name, .created_ms = now_ms()};
  storage_.put(kUsers, id, to_json(user).dump());
  next->users.emplace(id, user);
  publish(std::move(next));
  return user;
}

void Registry::remove_user(const std::string& id) {
  std::lock_guard lock(mutation_mutex_);
  auto next = copy_current();
  if (!next->users.contains(id)) {
    throw RegistryError("no user \"" + id + "\"; list users to see which exist");
  }
  std::set<std::string> owned;
  for (const auto& [device_id, device] : next->devices) {
    if (device.owner == id) owned.insert(device_id);
  }
  if (!owned.empty()) {
    std::string list;
    for (const auto& device_id : owned) {
      if (!list.empty()) list += ", ";
      list += device_id;
    }
    throw RegistryError("user \"" + id +
                        "\" still owns devices; remove its devices first: " + list);
  }
  storage_.remove(kUsers, id);
  next->users.erase(id);
  publish(std::move(next));
}

std::pair<Device, Credentials> Registry::add_device(const NewDevice& request) {
  if (!valid_id(request.id)) {
    throw RegistryError("\"" + request.id +
                        "\" is not a valid device id; use 1-128 letters, digits or - . : + % _ # "
                        "* ? ! ( ) , = @ $ '");
  }
  for (const auto& [key, value] : request.tags) {
    if (key.empty()) throw RegistryError("a tag name is empty; give every tag a name");
  }
  Device device;
  device.id = request.id;
  device.owner = request.owner;
  device.display_name = request.display_name;
  device.device_class = request.device_class;
  device.gateway = request.gateway;
  device.tags = request.tags;
  Credentials credentials;
  const bool has_x509_fields = !request.thumbprints.empty() || request.ca_signed;
  switch (request.auth) {
    case AuthKind::sas:
      if (!request.password.empty() || has_x509_fields) {
        throw RegistryError(
            "a SAS device takes no password, thumbprints or CA signing; choose one kind of "
            "credential");
      }
      credentials.primary_key = device.primary_key = random_key();
      credentials.secondary_key = device.secondary_key = random_key();
      if (!request.primary_key.empty() || !request.secondary_key.empty()) {
        check_sas_key(request.primary_key);
        check_sas_key(request.secondary_key);
        credentials.primary_key = device.primary_key = request.primary_key;
        credentials.secondary_key = device.secondary_key = request.secondary_key;
      }
      break;
    case AuthKind::password:
      if (has_x509_fields) {
        throw RegistryError(
            "a password device takes no thumbprints or CA signing; choose one kind of credential");
      }
      if (!request.password.empty() && request.password.size() < kMinPasswordLength) {
        throw RegistryError(
            "the password is too short; use at least 8 characters or leave it empty to have one "
            "generated");
      }
      credentials.password = request.password.empty() ? random_password() : request.password;
      break;
    case AuthKind::x509:
      if (!request.password.empty()) {
        throw RegistryError("an X.509 device takes no password; choose one kind of credential");
      }
      if (!has_x509_fields) {
        throw RegistryError(
            "an X.509 device needs certificate thumbprints or CA signing; give --thumbprint or "
            "--ca-signed");
      }
      for (const auto& text : request.thumbprints) {
        auto thumbprint = normalise_thumbprint(text);
        if (!thumbprint) {
          throw RegistryError("\"" + text +
                              "\" is not a SHA-256 thumbprint; give 64 hex digits (':' and spaces "
                              "are ignored)");
        }
        if (std::find(device.thumbprints.begin(), device.thumbprints.end(), *thumbprint) ==
            device.thumbprints.end()) {
          device.thumbprints.push_back(std::move(*thumbprint));
        }
      }
      device.ca_signed = request.ca_signed;
      break;
  }
  // Argon2id is slow by design: hash before taking the lock.
  if (request.auth == AuthKind::password)
    device.password_hash = hash_password(credentials.password);

  std::lock_guard lock(mutation_mutex_);
  auto next = copy_current();
  if (!next->users.contains(device.owner)) {
    throw RegistryError("no user \"" + device.owner + "\"; add the user first");
  }
  if (next->devices.contains(device.id)) {
    throw RegistryError("device \"" + device.id + "\" already exists; choose another id");
  }
  for (const auto& thumbprint : device.thumbprints) {
    if (const Device* other = next->device_by_thumbprint(thumbprint)) {
      throw RegistryError("thumbprint " + thumbprint + " already belongs to device \"" + other->id +
                          "\"; each certificate identifies one device");
    }
  }
  device.created_ms = now_ms();
  put_device(device);
  next->devices.emplace(device.id, device);
  next->rebuild_index();
  publish(std::move(next));
  return {std::move(device), std::move(credentials)};
}

void Registry::set_enabled(const std::string& device_id, bool enabled) {
  std::lock_guard lock(mutation_mutex_);
  auto next = copy_current();
  Device& device = existing_device(*next, device_id);
  if (device.enabled == enabled) return;
  device.enabled = enabled;
  put_device(device);
  publish(std::move(next));
}

void Registry::remove_device(const std::string& device_id) {
  std::lock_guard lock(mutation_mutex_);
  auto next = copy_current();
  existing_device(*next, device_id);
  storage_.remove(kDevices, device_id);
  next->devices.erase(device_id);
  next->rebuild_index();
  publish(std::move(next));
}

Credentials Registry::rotate_key(const std::string& device_id) {
  AuthKind kind;
  {
    const auto current = snapshot();
    const Device* device = current->device(device_id);
    if (device == nullptr) {
      throw RegistryError("no device \"" + device_id + "\"; list devices to see which exist");
    }
    kind = auth_kind(*device);
  }
  if (kind == AuthKind::x509) {
    throw RegistryError("device \"" + device_id +
                        "\" signs in with a certificate; issue a new certificate and change its "
                        "thumbprints instead");
  }
  Credentials credentials;
  std::string password_hash;
  if (kind == AuthKind::sas) {
    credentials.primary_key = random_key();
    credentials.secondary_key = random_key();
  } else {
    credentials.password = random_password();
    password_hash = hash_password(credentials.password);
  }

  std::lock_guard lock(mutation_mutex_);
  auto next = copy_current();
  Device& device = existing_device(*next, device_id);
  if (auth_kind(device) != kind) {
    throw RegistryError("device \"" + device_id + "\" changed while rotating; try again");
  }
  device.primary_key = credentials.primary_key;
  device.secondary_key = credentials.secondary_key;
  device.password_hash = password_hash;
  put_device(device);
  publish(std::move(next));
  return credentials;
}

void Registry::set_keys(const std::string& device_id, const std::string& primary_key,
                        const std::string& secondary_key) {
  check_sas_key(primary_key);
  check_sas_key(secondary_key);
  std::lock_guard lock(mutation_mutex_);
  auto next = copy_current();
  Device& device = existing_device(*next, device_id);
  if (auth_kind(device) != AuthKind::sas) {
    throw RegistryError("device \"" + device_id +
                        "\" has no symmetric keys; it signs in with a password or certificate");
  }
  if (device.primary_key == primary_key && device.secondary_key == secondary_key) return;
  device.primary_key = primary_key;
  device.secondary_key = secondary_key;
  put_device(device);
  publish(std::move(next));
}

void Registry::touch(const std::string& device_id, std::int64_t last_seen_ms) {
  touch_many({{device_id, last_seen_ms}});
}

void Registry::touch_many(const std::vector<std::pair<std::string, std::int64_t>>& seen) {
  std::lock_guard lock(mutation_mutex_);
  const auto current = snapshot();
  const bool changes = std::any_of(seen.begin(), seen.end(), [&](const auto& entry) {
    const Device* device = current->device(entry.first);
    return device != nullptr && device->last_seen_ms < entry.second;
  });
  if (!changes) return;
  auto next = std::make_shared<Snapshot>(*current);
  for (const auto& [id, ms] : seen) {
    const auto it = next->devices.find(id);
    if (it != next->devices.end()) it->second.last_seen_ms = std::max(it->second.last_seen_ms, ms);
  }
  publish(std::move(next));
}

}  // namespace allscene::registry
