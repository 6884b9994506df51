#include "registry_commands.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "azure/azure.hpp"
#include "hub/registry_storage.hpp"
#include "registry/presence.hpp"
#include "registry/registry.hpp"
#include "store/document_store.hpp"

namespace allscene::app {

namespace {

using nlohmann::json;

// What a person may see of a device: never its secrets; with its presence
// as the hub last wrote it.
json public_view(const registry::Device& d, const registry::PresenceState& presence = {}) {
  json j = registry::to_json(d);
  for (const char* secret : {"primary_key", "secondary_key", "password_hash"}) j.erase(secret);
  j["auth"] = d.primary_key.empty() ? (d.password_hash.empty() ? "x509" : "password") : "sas";
  j["connected"] = presence.connected;
  j["last_seen_ms"] = presence.last_seen_ms;
  return j;
}

std::string when(std::int64_t ms) {
  if (ms == 0) return "never";
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", std::chrono::floor<std::chrono::seconds>(t));
}

std::map<std::string, std::string> parse_tags(const std::vector<std::string>& tags) {
  std::map<std::string, std::string> out;
  for (const auto& t : tags) {
    const auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw registry::RegistryError(fmt::format("tag '{}' must be KEY=VALUE", t));
    }
    out[t.substr(0, eq)] = t.substr(eq + 1);
  }
  return out;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The registry of a data directory, opened for one command.
struct OpenRegistry {
  static store::StoreOptions options(const std::string& data_dir) {
    store::StoreOptions o;
    o.path = std::filesystem::path(data_dir) / "allscene.db";
    return o;
  }
  explicit OpenRegistry(const std::string& data_dir)
      : documents(options(data_dir)), storage(documents), registry(storage) {
    registry.load();
  }
  store::DocumentStore documents;
  hub::DocumentRegistryStorage storage;
  registry::Registry registry;
};

void print_credentials(const registry::Device& d, const registry::Credentials& c,
                       const std::string& host) {
  std::cout << "credentials of " << d.id << " (shown only now; keep them safe):\n";
  if (!c.primary_key.empty()) {
    std::cout << "  primary key:       " << c.primary_key << "\n"
              << "  secondary key:     " << c.secondary_key << "\n"
              << "  connection string: HostName=" << host << ";DeviceId=" << d.id
              << ";SharedAccessKey=" << c.primary_key << "\n";
  }
  if (!c.password.empty()) {
    std::cout << "  username: " << d.id << "\n  password: " << c.password << "\n";
  }
}

json credentials_json(const registry::Credentials& c) {
  json j = json::object();
  if (!c.primary_key.empty()) {
    j["primary_key"] = c.primary_key;
    j["secondary_key"] = c.secondary_key;
  }
  if (!c.password.empty()) j["password"] = c.password;
  return j;
}

}  // namespace

RegistryCommands::RegistryCommands(CLI::App& app) {
  user_ = app.add_subcommand("user", "Manage users, the owners of devices");
  device_ = app.add_subcommand("device", "Manage devices and their credentials");
  user_->require_subcommand(1);
  device_->require_subcommand(1);
  add_user_commands();
  add_device_commands();
}

namespace {

CLI::App* leaf(CLI::App* parent, const char* name, const char* help, std::string& data_dir,
               bool& json) {
  auto* c = parent->add_subcommand(name, help);
  c->add_option("--data-dir", data_dir, "The hub's data directory (the hub may be running)")
      ->default_str(data_dir);
  c->add_flag("--json", json, "Print JSON");
  return c;
}

}  // namespace

void RegistryCommands::add_user_commands() {
  auto* add = leaf(user_, "add", "Add a user", data_dir_, json_);
  add->add_option("id", id_, "User id (letters, digits and - . : + % _ # * ? ! ( ) , = @ $ ')")
      ->required();
  add->add_option("--name", name_, "Display name");
  leaf(user_, "list", "List users", data_dir_, json_);
  leaf(user_, "remove", "Remove a user who owns no devices", data_dir_, json_)
      ->add_option("id", id_, "User id")
      ->required();
}

void RegistryCommands::add_device_commands() {
  auto* add = leaf(device_, "add", "Add a device; prints its credentials once", data_dir_, json_);
  add->add_option("id", id_, "Device id (the MQTT client id it connects with)")->required();
  add->add_option("--owner", owner_, "The user who owns it")->required();
  add->add_option("--class", device_class_,
                  "phone, laptop, tablet, smart-screen, wearable, audio, car or iot")
      ->default_str(device_class_);
  add->add_option("--name", name_, "Display name");
  add->add_option("--tag", tags_, "KEY=VALUE; repeat for several");
  add->add_option("--auth", auth_,
                  "sas (symmetric keys, SAS tokens), password (Argon2id-hashed) or x509 "
                  "(client certificate)")
      ->check(CLI::IsMember({"sas", "password", "x509"}))
      ->default_str(auth_);
  add->add_option("--password", password_, "With --auth password; default: a generated one");
  add->add_option("--thumbprint", thumbprints_,
                  "With --auth x509: SHA-256 fingerprint of the device certificate; repeat for "
                  "several");
  add->add_flag("--ca-signed", ca_signed_,
                "With --auth x509: accept any certificate from the listener's CA whose CN is "
                "the device id");
  add->add_option("--hub-host", hub_host_, "Host name for the printed connection string")
      ->default_str(hub_host_);
  auto* list = leaf(device_, "list", "List devices", data_dir_, json_);
  list->add_option("--owner", owner_, "Only this user's devices");
  for (const char* name : {"show", "disable", "enable", "remove", "rotate-key", "token"}) {
    auto* c = leaf(device_, name, "", data_dir_, json_);
    c->add_option("id", id_, "Device id")->required();
  }
  device_->get_subcommand("show")->description("Show a device (never its secrets)");
  device_->get_subcommand("disable")->description(
      "Refuse the device's connections and disconnect it (within a second)");
  device_->get_subcommand("enable")->description("Let a disabled device connect again");
  device_->get_subcommand("remove")->description("Remove a device and disconnect it");
  device_->get_subcommand("rotate-key")
      ->description("Issue new keys (sas) or a new password; prints them once");
  auto* token = device_->get_subcommand("token");
  token->description("Print a SAS token for a device with keys (for testing and tools)");
  token->add_option("--ttl", ttl_, "Seconds the token is valid")->default_str("3600");
  token->add_option("--hub-host", hub_host_, "Host name the token is scoped to")
      ->default_str(hub_host_);
}

int RegistryCommands::run() {
  try {
    return user_->parsed() ? run_user() : run_device();
  } catch (const registry::RegistryError& e) {
    std::cerr << "allscene: " << e.what() << "\n";
    return 1;
  }
}

int RegistryCommands::run_user() {
  OpenRegistry open(data_dir_);
  auto& reg = open.registry;
  if (user_->got_subcommand("add")) {
    const auto u = reg.add_user(id_, name_);
    if (json_) {
      std::cout << registry::to_json(u).dump() << "\n";
    } else {
      std::cout << "user " << u.id << " added\n";
    }
  } else if (user_->got_subcommand("remove")) {
    reg.remove_user(id_);
    if (!json_) std::cout << "user " << id_ << " removed\n";
  } else {
    const auto snap = reg.snapshot();
    std::map<std::string, const registry::User*> users;
    for (const auto& [id, u] : snap->users) users[id] = &u;
    if (json_) {
      json out = json::array();
      for (const auto& [id, u] : users) out.push_back(registry::to_json(*u));
      std::cout << out.dump() << "\n";
    } else {
      std::map<std::string, int> devices;
      for (const auto& [id, d] : snap->devices) ++devices[d.owner];
      std::cout << fmt::format("{:<24} {:>7}  {}\n", "ID", "DEVICES", "NAME");
      for (const auto& [id, u] : users) {
        std::cout << fmt::format("{:<24} {:>7}  {}\n", id, devices[id], u->display_name);
      }
    }
  }
  return 0;
}

int RegistryCommands::run_device() {
  OpenRegistry open(data_dir_);
  auto& reg = open.registry;
  const auto snap = reg.snapshot();
  auto existing = [&]() -> const registry::Device& {
    const auto* d = snap->device(id_);
    if (!d) {
      throw registry::RegistryError(
          fmt::format("no device '{}' in {}: see `allscene device list`", id_, data_dir_));
    }
    return *d;
  };
  if (device_->got_subcommand("add")) {
    registry::NewDevice n;
    n.id = id_;
    n.owner = owner_;
    n.display_name = name_;
    const auto cls = registry::parse_device_class(device_class_);
    if (!cls) {
      throw registry::RegistryError(
          fmt::format("unknown class '{}': use phone, laptop, tablet, smart-screen, wearable, "
                      "audio, car or iot",
                      device_class_));
    }
    n.device_class = *cls;
    n.tags = parse_tags(tags_);
    n.auth = auth_ == "password" ? registry::AuthKind::password
             : auth_ == "x509"   ? registry::AuthKind::x509
                                 : registry::AuthKind::sas;
    n.password = password_;
    n.thumbprints = thumbprints_;
    n.ca_signed = ca_signed_;
    const auto [d, creds] = reg.add_device(n);
    if (json_) {
      std::cout << json{{"device", public_view(d)}, {"credentials", credentials_json(creds)}}.dump()
                << "\n";
    } else {
      std::cout << "device " << d.id << " added (owner " << d.owner << ", class "
                << registry::to_string(d.device_class) << ")\n";
      print_credentials(d, creds, hub_host_);
    }
  } else if (device_->got_subcommand("list")) {
    std::map<std::string, const registry::Device*> devices;
    for (const auto& [id, d] : snap->devices) {
      if (owner_.empty() || d.owner == owner_) devices[id] = &d;
    }
    auto presence = registry::Presence::read(open.storage);
    if (json_) {
      json out = json::array();
      for (const auto& [id, d] : devices) out.push_back(public_view(*d, presence[id]));
      std::cout << out.dump() << "\n";
    } else {
      std::cout << fmt::format("{:<24} {:<16} {:<12} {:<8} {:<8} {:<10} {}\n", "ID", "OWNER",
                               "CLASS", "AUTH", "ENABLED", "CONNECTED", "NAME");
      for (const auto& [id, d] : devices) {
        std::cout << fmt::format(
            "{:<24} {:<16} {:<12} {:<8} {:<8} {:<10} {}\n", id, d->owner,
            registry::to_string(d->device_class), public_view(*d)["auth"].get<std::string>(),
            d->enabled ? "yes" : "no", presence[id].connected ? "yes" : "no", d->display_name);
      }
    }
  } else if (device_->got_subcommand("show")) {
    const auto& d = existing();
    const auto presence = registry::Presence::read(open.storage);
    const auto seen = presence.find(d.id);
    const auto state = seen == presence.end() ? registry::PresenceState{} : seen->second;
    const json j = public_view(d, state);
    if (json_) {
      std::cout << j.dump() << "\n";
    } else {
      std::cout << fmt::format(
          "id:          {}\nowner:       {}\nclass:       {}\nname:        "
          "{}\nenabled:     {}\nauth:        {}\ncreated:     {}\nconnected:   {}\nlast seen:   "
          "{}\n",
          d.id, d.owner, registry::to_string(d.device_class), d.display_name,
          d.enabled ? "yes" : "no", j["auth"].get<std::string>(), when(d.created_ms),
          state.connected ? "yes" : "no", when(state.last_seen_ms));
      for (const auto& [k, v] : d.tags) std::cout << "tag:         " << k << "=" << v << "\n";
      for (const auto& t : d.thumbprints) std::cout << "thumbprint:  " << t << "\n";
    }
  } else if (device_->got_subcommand("disable") || device_->got_subcommand("enable")) {
    const bool enable = device_->got_subcommand("enable");
    existing();
    reg.set_enabled(id_, enable);
    if (!json_) std::cout << "device " << id_ << (enable ? " enabled\n" : " disabled\n");
  } else if (device_->got_subcommand("remove")) {
    existing();
    reg.remove_device(id_);
    if (!json_) std::cout << "device " << id_ << " removed\n";
  } else if (device_->got_subcommand("rotate-key")) {
    const auto& d = existing();
    const auto creds = reg.rotate_key(id_);
    if (json_) {
      std::cout << credentials_json(creds).dump() << "\n";
    } else {
      print_credentials(d, creds, hub_host_);
    }
  } else if (device_->got_subcommand("token")) {
    const auto& d = existing();
    if (d.primary_key.empty()) {
      throw registry::RegistryError(fmt::format("device {} has no keys (it signs in with a {})",
                                                d.id, public_view(d)["auth"].get<std::string>()));
    }
    const auto expiry = unix_now() + ttl_;
    std::cout << azure::make_sas_token(hub_host_ + "/devices/" + d.id, d.primary_key, expiry)
              << "\n";
  }
  return 0;
}

}  // namespace allscene::app
