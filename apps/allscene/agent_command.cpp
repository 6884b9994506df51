#include "agent_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include "agent_shell.hpp"
#include "allscene/connection_string.hpp"
#include "allscene/device_client.hpp"
#include "allscene/discovery.hpp"
#include "allscene/ecosystem.hpp"
#include "backend.hpp"
#include "hub/config.hpp"

namespace allscene::app {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::chrono::seconds kJoinTimeout{30};
constexpr std::chrono::milliseconds kDiscoveryWait{2500};
constexpr const char* kLocalHubHost = "localhost";  // the hub's default [auth] hub_host

std::string slug(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '\'') continue;  // "Ana's phone" -> "anas-phone"
    if (std::isalnum(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

// "NAME=VALUE" of --command and --allow.
std::pair<std::string, std::string> split_assignment(const std::string& text, const char* flag) {
  const auto eq = text.find('=');
  if (eq == 0 || eq == std::string::npos) {
    throw std::invalid_argument(fmt::format("{} takes NAME=VALUE, not '{}'", flag, text));
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::map<std::string, AgentCommandSpec> command_specs(const AgentOptions& o) {
  std::map<std::string, AgentCommandSpec> specs;
  for (const auto& c : o.commands) {
    auto [name, shell] = split_assignment(c, "--command");
    specs[name].shell = shell;
    specs[name].info.label = name;
  }
  for (const auto& a : o.allow) {
    auto [name, who] = split_assignment(a, "--allow");
    const auto it = specs.find(name);
    if (it == specs.end()) {
      throw std::invalid_argument("--allow " + a + ": no --command named " + name);
    }
    it->second.info.allow.push_back(who);
  }
  return specs;
}

// The connection string of a device registered on this machine's hub (the
// data directory's): registered now when absent, remembered in the state
// directory (0600) so the next run signs in the same way.
std::string join_local_hub(const AgentOptions& o, const std::string& device_id,
                           const fs::path& state_dir, const std::string& hub_host) {
  const fs::path saved = state_dir / "credentials";
  if (std::ifstream in(saved); in) {
    std::string line;
    std::getline(in, line);
    if (!line.empty()) return line;
  }
  std::string key;
  {
    OpenRegistry open(o.data_dir);
    if (const auto* d = open.registry.snapshot()->device(device_id)) {
      if (d->owner != o.join_owner) {
        throw std::runtime_error(fmt::format("device {} belongs to {}, not {}: choose another --id",
                                             device_id, d->owner, o.join_owner));
      }
      if (d->primary_key.empty()) {
        throw std::runtime_error(
            fmt::format("device {} signs in without keys: run it with "
                        "--connection-string",
                        device_id));
      }
      key = d->primary_key;
    }
  }
  if (key.empty()) {
    Backend backend(o.data_dir);
    json body{
        {"id", device_id}, {"owner", o.join_owner}, {"class", o.device_class}, {"auth", "sas"}};
    if (!o.name.empty()) body["display_name"] = o.name;
    key = backend.call("POST", "/api/v1/devices", body)["credentials"]["primary_key"];
  }
  const std::string cs =
      fmt::format("HostName={};DeviceId={};SharedAccessKey={}", hub_host, device_id, key);
  {
    std::ofstream out(saved, std::ios::trunc);
    out << cs << "\n";
  }
  fs::permissions(saved, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  return cs;
}

// --hub auto: the hub announced on the local network (DNS-SD over mDNS;
// docs/discovery.md), as HOST:PORT of its MQTT (or, with --tls, MQTTS)
// listener. Exactly one hub must answer, or the one --hub-name names.
struct HubAddress {
  std::string address;                   // HOST:PORT
  std::string hub_host = kLocalHubHost;  // what SAS tokens name
};

HubAddress discover_hub(const AgentOptions& o) {
  std::error_code ec;
  const auto hubs = sdk::discover_hubs(kDiscoveryWait, {}, ec);
  if (ec) throw std::runtime_error("cannot look for hubs on the network: " + ec.message());
  std::vector<const sdk::DiscoveredHub*> usable;
  std::string names;
  for (const auto& hub : hubs) {
    const auto port = o.tls ? hub.tls_port : hub.mqtt_port;
    if (!port || hub.addresses.empty()) continue;
    if (!o.hub_name.empty() && hub.name != o.hub_name) continue;
    usable.push_back(&hub);
    names += (names.empty() ? "\"" : ", \"") + hub.name + "\"";
  }
  if (usable.empty()) {
    throw std::runtime_error(fmt::format(
        "no hub{} announced itself on the network within {} ms (see `allscene discover`); "
        "give --hub HOST:PORT",
        o.hub_name.empty() ? "" : " named \"" + o.hub_name + "\"", kDiscoveryWait.count()));
  }
  if (usable.size() > 1) {
    throw std::runtime_error("several hubs answered (" + names + "): choose one with --hub-name");
  }
  const auto& hub = *usable.front();
  const auto port = *(o.tls ? hub.tls_port : hub.mqtt_port);
  const std::string& address = hub.addresses.front();
  HubAddress found;
  found.address = address.find(':') == std::string::npos ? fmt::format("{}:{}", address, port)
                                                         : fmt::format("[{}]:{}", address, port);
  if (!hub.hub_host.empty()) found.hub_host = hub.hub_host;
  return found;
}

sdk::ClientOptions client_options(const AgentOptions& o, const std::string& connection_string,
                                  const std::string& hub_address) {
  std::error_code ec;
  const auto cs = sdk::parse_connection_string(connection_string, ec);
  if (!cs) throw std::runtime_error("the connection string is not valid: " + ec.message());
  auto options = sdk::options_from(*cs);
  const auto where = hub::parse_listen(hub_address);
  options.connect_host = where.address;
  options.port = where.port;
  options.tls = o.tls || !o.ca_file.empty();
  options.ca_file = o.ca_file;
  options.keep_alive = std::chrono::seconds(30);
  options.reconnect.max_delay = std::chrono::milliseconds(5000);
  return options;
}

// Who the hub says this device is ($ecosystem/call/$hub/whoami): its owner
// names the group's topics.
json whoami(sdk::DeviceClient& client) {
  auto done = std::make_shared<std::promise<std::pair<std::error_code, sdk::MethodResult>>>();
  auto answer = done->get_future();
  client.async_call("$hub", "whoami", json::object(), kJoinTimeout,
                    [done](std::error_code ec, sdk::MethodResult r) {
                      done->set_value({ec, r});
                    });
  if (answer.wait_for(kJoinTimeout + std::chrono::seconds(5)) != std::future_status::ready) {
    throw std::runtime_error("the hub did not answer: is it running, and is --hub right?");
  }
  auto [ec, result] = answer.get();
  if (ec) throw std::runtime_error("the hub would not say who this device is: " + ec.message());
  return result.payload;
}

// Waits (bounded) for the device's own card to show it online: the group's
// retained cards have then arrived.
void wait_for_group(const sdk::Ecosystem& eco, const std::string& self) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& card : eco.devices()) {
      if (card.device_id == self && card.online) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

AgentCommand::AgentCommand(CLI::App& device) {
  run_ = device.add_subcommand(
      "run",
      "Run a device agent: join the owner's other devices and use every cross-device "
      "feature from a prompt (see docs/ecosystem.md)");
  auto& o = options_;
  run_->add_option("--connection-string", o.connection_string,
                   "The device's connection string (from `allscene device add`)")
      ->envname("ALLSCENE_CONNECTION_STRING");
  run_->add_option("--join", o.join_owner,
                   "Register (or reuse) a device of this user on this machine's hub (--data-dir) "
                   "instead of --connection-string");
  run_->add_option("--data-dir", o.data_dir, "With --join: the hub's data directory")
      ->default_str(o.data_dir);
  run_->add_option("--id", o.device_id, "With --join: the device id (default: from --name)");
  run_->add_option("--class", o.device_class,
                   "With --join: phone, laptop, tablet, smart-screen, wearable, audio, car or iot")
      ->default_str(o.device_class);
  run_->add_option("--name", o.name, "With --join: the display name");
  run_->add_option("--hub", o.hub,
                   "Where the hub listens (HOST:PORT), or auto: the hub announced on the local "
                   "network (docs/discovery.md)")
      ->default_str(o.hub);
  run_->add_option("--hub-name", o.hub_name, "With --hub auto: the announced name to pick");
  run_->add_flag("--tls", o.tls, "Connect with TLS");
  run_->add_option("--ca", o.ca_file, "PEM file of the CA that signed the hub's certificate");
  run_->add_option("--state-dir", o.state_dir,
                   "Received files, unfinished transfers and saved credentials "
                   "(default ./allscene-agent/DEVICE)");
  run_->add_flag("--json", o.json, "Print one JSON object per line (for tools and tests)");
  run_->add_flag("--no-clipboard", o.no_clipboard, "Opt out of the shared clipboard");
  run_->add_flag("--decline-files", o.decline_files, "Decline every file offered");
  run_->add_option("--battery", o.battery, "Battery level to report at start (0-100)");
  run_->add_option("--command", o.commands,
                   "NAME=SHELL: a command the owner's other devices may run here; repeat");
  run_->add_option("--allow", o.allow,
                   "NAME=DEVICE-OR-CLASS: only these may run command NAME; repeat");
  run_->add_option("--exec", o.exec, "Run this agent command, then exit (repeat for several)");
  run_->add_flag("--stay", o.stay, "With --exec: keep running (reading commands) afterwards");
}

int AgentCommand::run() {
  const auto& o = options_;
  if (o.connection_string.empty() && o.join_owner.empty()) {
    std::cerr << "allscene: give --connection-string (see `allscene device add`), or --join USER "
                 "to register a device on this machine's hub\n";
    return 2;
  }
  const auto commands = command_specs(o);
  std::string device_id = o.device_id;
  if (device_id.empty() && !o.join_owner.empty()) {
    device_id = slug(o.name.empty() ? o.join_owner + "-" + o.device_class : o.name);
  }
  std::string connection_string = o.connection_string;
  if (device_id.empty()) {
    std::error_code ec;
    const auto cs = sdk::parse_connection_string(connection_string, ec);
    if (!cs) throw std::runtime_error("the connection string is not valid: " + ec.message());
    device_id = cs->device_id;
  }
  const fs::path state_dir =
      o.state_dir.empty() ? fs::path("allscene-agent") / device_id : fs::path(o.state_dir);
  fs::create_directories(state_dir);
  AgentPrinter printer(o.json);
  const HubAddress hub = o.hub == "auto" ? discover_hub(o) : HubAddress{o.hub};
  if (o.hub == "auto") {
    printer.event({{"event", "discovered"}, {"hub", hub.address}}, "found a hub at " + hub.address);
  }
  if (connection_string.empty()) {
    connection_string = join_local_hub(o, device_id, state_dir, hub.hub_host);
  }
  sdk::DeviceClient client(client_options(o, connection_string, hub.address));
  client.on_connection([&printer](sdk::ConnectionStatus status, std::error_code why) {
    const bool up = status == sdk::ConnectionStatus::connected;
    printer.event(
        {{"event", "connection"}, {"connected", up}, {"reason", why ? why.message() : ""}},
        up ? "connected to the hub" : "not connected: " + why.message() + " (retrying)");
  });
  if (const auto ec = client.start()) throw std::runtime_error("cannot start: " + ec.message());
  const json me = whoami(client);

  sdk::EcosystemOptions eco_options;
  eco_options.user_id = me.value("owner", "");
  eco_options.downloads_dir = state_dir / "downloads";
  eco_options.state_dir = state_dir / "transfers";
  eco_options.share_clipboard = !o.no_clipboard;
  sdk::Ecosystem eco(client, eco_options);
  AgentShell shell(eco, printer, device_id);
  shell.install(commands, o.decline_files);
  if (const auto ec = eco.start())
    throw std::runtime_error("cannot join the group: " + ec.message());
  std::optional<sdk::Battery> battery;
  if (o.battery >= 0) battery = sdk::Battery{o.battery, false};
  shell.execute(battery ? fmt::format("battery {}", o.battery) : "");
  if (!battery) {
    auto done = std::make_shared<std::promise<std::error_code>>();
    eco.report_status(std::nullopt, [done](std::error_code ec) { done->set_value(ec); });
    done->get_future().wait_for(std::chrono::seconds(10));
  }
  wait_for_group(eco, device_id);
  printer.event({{"event", "ready"},
                 {"deviceId", device_id},
                 {"owner", eco_options.user_id},
                 {"downloads", eco_options.downloads_dir.string()}},
                fmt::format("{} joined {}'s devices; type help", device_id, eco_options.user_id));

  bool all_ok = true;
  for (const auto& line : o.exec) all_ok = shell.execute(line) && all_ok;
  if (!o.exec.empty() && !o.stay) return all_ok ? 0 : 1;
  const bool prompt = !o.json && isatty(STDIN_FILENO);
  std::string line;
  while (!shell.quit_requested()) {
    if (prompt) std::cout << device_id << "> " << std::flush;
    if (!std::getline(std::cin, line)) break;
    shell.execute(line);
  }
  return 0;
}

}  // namespace allscene::app
