#include "registry_commands.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/admin_api.hpp"
#include "api/views.hpp"
#include "azure/azure.hpp"
#include "backend.hpp"
#include "registry/registry.hpp"

namespace allscene::app {

namespace {

using nlohmann::json;

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

// `credentials` as credentials_json() gives them.
void print_credentials(const std::string& id, const json& credentials, const std::string& host) {
  std::cout << "credentials of " << id << " (shown only now; keep them safe):\n";
  if (credentials.contains("primary_key")) {
    const auto primary = credentials["primary_key"].get<std::string>();
    std::cout << "  primary key:       " << primary << "\n"
              << "  secondary key:     " << credentials["secondary_key"].get<std::string>() << "\n"
              << "  connection string: HostName=" << host << ";DeviceId=" << id
              << ";SharedAccessKey=" << primary << "\n";
  }
  if (credentials.contains("password")) {
    std::cout << "  username: " << id
              << "\n  password: " << credentials["password"].get<std::string>() << "\n";
  }
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
  add->add_flag("--gateway", gateway_,
                 "An edge hub bridged to this hub signs in as this device (it may publish its "
                 "owner's device cards and relay group calls; docs/ecosystem.md)");
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
    if (device_->got_subcommand("token")) return print_token();
    Backend backend(data_dir_);
    return user_->parsed() ? run_user(backend) : run_device(backend);
  } catch (const std::exception& e) {
    std::cerr << "allscene: " << e.what() << "\n";
    return 1;
  }
}

int RegistryCommands::run_user(Backend& backend) {
  if (user_->got_subcommand("add")) {
    json body{{"id", id_}};
    if (!name_.empty()) body["display_name"] = name_;
    const auto u = backend.call("POST", "/api/v1/users", body);
    if (json_) {
      std::cout << u.dump() << "\n";
    } else {
      std::cout << "user " << u["id"].get<std::string>() << " added\n";
    }
  } else if (user_->got_subcommand("remove")) {
    backend.call("DELETE", "/api/v1/users/" + azure::url_encode(id_));
    if (!json_) std::cout << "user " << id_ << " removed\n";
  } else {
    const auto users = backend.call("GET", "/api/v1/users");
    if (json_) {
      std::cout << users.dump() << "\n";
    } else {
      std::map<std::string, int> devices;
      for (const auto& d : backend.call("GET", "/api/v1/devices")) {
        ++devices[d["owner"].get<std::string>()];
      }
      std::cout << fmt::format("{:<24} {:>7}  {}\n", "ID", "DEVICES", "NAME");
      for (const auto& u : users) {
        const auto id = u["id"].get<std::string>();
        std::cout << fmt::format("{:<24} {:>7}  {}\n", id, devices[id],
                                 u["display_name"].get<std::string>());
      }
    }
  }
  return 0;
}

int RegistryCommands::run_device(Backend& backend) {
  const auto path = "/api/v1/devices/" + azure::url_encode(id_);
  if (device_->got_subcommand("add")) {
    json body{{"id", id_},
              {"owner", owner_},
              {"class", device_class_},
              {"auth", auth_},
              {"tags", parse_tags(tags_)}};
    if (!name_.empty()) body["display_name"] = name_;
    if (!password_.empty()) body["password"] = password_;
    if (!thumbprints_.empty()) body["thumbprints"] = thumbprints_;
    if (ca_signed_) body["ca_signed"] = true;
    if (gateway_) body["gateway"] = true;
    const auto added = backend.call("POST", "/api/v1/devices", body);
    if (json_) {
      std::cout << added.dump() << "\n";
    } else {
      const auto& d = added["device"];
      std::cout << "device " << d["id"].get<std::string>() << " added (owner "
                << d["owner"].get<std::string>() << ", class " << d["class"].get<std::string>()
                << ")\n";
      print_credentials(d["id"].get<std::string>(), added["credentials"], hub_host_);
    }
  } else if (device_->got_subcommand("list")) {
    const auto devices =
        backend.call("GET", owner_.empty() ? std::string("/api/v1/devices")
                                           : "/api/v1/devices?owner=" + azure::url_encode(owner_));
    if (json_) {
      std::cout << devices.dump() << "\n";
    } else {
      std::cout << fmt::format("{:<24} {:<16} {:<12} {:<8} {:<8} {:<10} {}\n", "ID", "OWNER",
                               "CLASS", "AUTH", "ENABLED", "CONNECTED", "NAME");
      for (const auto& d : devices) {
        std::cout << fmt::format(
            "{:<24} {:<16} {:<12} {:<8} {:<8} {:<10} {}\n", d["id"].get<std::string>(),
            d["owner"].get<std::string>(), d["class"].get<std::string>(),
            d["auth"].get<std::string>(), d["enabled"].get<bool>() ? "yes" : "no",
            d["connected"].get<bool>() ? "yes" : "no", d["display_name"].get<std::string>());
      }
    }
  } else if (device_->got_subcommand("show")) {
    const auto d = backend.call("GET", path);
    if (json_) {
      std::cout << d.dump() << "\n";
    } else {
      std::cout << fmt::format(
          "id:          {}\nowner:       {}\nclass:       {}\nname:        "
          "{}\nenabled:     {}\nauth:        {}\ncreated:     {}\nconnected:   {}\nlast seen:   "
          "{}\n",
          d["id"].get<std::string>(), d["owner"].get<std::string>(), d["class"].get<std::string>(),
          d["display_name"].get<std::string>(), d["enabled"].get<bool>() ? "yes" : "no",
          d["auth"].get<std::string>(), when(d["created_ms"].get<std::int64_t>()),
          d["connected"].get<bool>() ? "yes" : "no", when(d["last_seen_ms"].get<std::int64_t>()));
      for (const auto& [k, v] : d["tags"].items()) {
        std::cout << "tag:         " << k << "=" << v.get<std::string>() << "\n";
      }
      for (const auto& t : d["thumbprints"]) {
        std::cout << "thumbprint:  " << t.get<std::string>() << "\n";
      }
    }
  } else if (device_->got_subcommand("disable") || device_->got_subcommand("enable")) {
    const bool enable = device_->got_subcommand("enable");
    backend.call("PATCH", path, json{{"enabled", enable}});
    if (!json_) std::cout << "device " << id_ << (enable ? " enabled\n" : " disabled\n");
  } else if (device_->got_subcommand("remove")) {
    backend.call("DELETE", path);
    if (!json_) std::cout << "device " << id_ << " removed\n";
  } else if (device_->got_subcommand("rotate-key")) {
    const auto credentials = backend.call("POST", path + "/rotate-key");
    if (json_) {
      std::cout << credentials.dump() << "\n";
    } else {
      print_credentials(id_, credentials, hub_host_);
    }
  }
  return 0;
}

// Reads the key from the data directory, hub running or not: the API
// never gives a device's keys out again after issuing them.
int RegistryCommands::print_token() {
  OpenRegistry open(data_dir_);
  const auto snap = open.registry.snapshot();
  const auto* d = snap->device(id_);
  if (!d) {
    throw registry::RegistryError(
        fmt::format("no device '{}' in {}: see `allscene device list`", id_, data_dir_));
  }
  if (d->primary_key.empty()) {
    throw registry::RegistryError(fmt::format("device {} has no keys (it signs in with a {})",
                                              d->id,
                                              api::device_view(*d)["auth"].get<std::string>()));
  }
  const auto expiry = unix_now() + ttl_;
  std::cout << azure::make_sas_token(hub_host_ + "/devices/" + d->id, d->primary_key, expiry)
            << "\n";
  return 0;
}

}  // namespace allscene::app
