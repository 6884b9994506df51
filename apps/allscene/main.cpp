// allscene: one binary, one subcommand per tool.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "agent_command.hpp"
#include "bench_command.hpp"
#include "cloud_commands.hpp"
#include "discover_command.hpp"
#include "hub/hub.hpp"
#include "ops_commands.hpp"
#include "registry_commands.hpp"
#include "service_commands.hpp"

namespace {

constexpr const char* kVersion = "0.1.0";

void add_hub_command(CLI::App& app, allscene::hub::HubConfig& config, std::string& config_file,
                     std::vector<std::string>& listen, std::vector<std::string>& log_modules,
                     bool& check_data) {
  auto* hub = app.add_subcommand("hub", "Run the hub: the MQTT broker every device connects to");
  hub->add_option("-c,--config", config_file, "TOML configuration file (see docs/configuration.md)")
      ->check(CLI::ExistingFile);
  hub->add_option("--listen", listen,
                  "MQTT listener HOST:PORT; repeat for several (default 127.0.0.1:1883)");
  hub->add_option("--data-dir", config.data_dir, "Directory for the hub's data")
      ->default_str(config.data_dir);
  hub->add_option("--durability", config.durability,
                  "fsync (acknowledged survives power loss), batch (survives a crash; power loss "
                  "may lose the last sync interval) or none (memory only); docs/durability.md")
      ->check(CLI::IsMember({"fsync", "batch", "none"}))
      ->default_str(config.durability);
  hub->add_option(
         "--http", config.http_bind,
         "REST API endpoint HOST:PORT (docs/api.md); loopback only unless [http] cert_file and "
         "key_file set up HTTPS; off disables it")
      ->default_str(config.http_bind);
  hub->add_option("--console-dir", config.http_console_dir,
                  "the built web console served at /console/ (scripts/console builds it)")
      ->default_str(config.http_console_dir);
  hub->add_flag("--check-data", check_data,
                "Verify the session store in the data directory and exit (0: healthy)");
  hub->add_option("--threads", config.threads, "Event loops; 0 means one per core")
      ->default_str("0");
  hub->add_option("--log-level", config.log_level, "trace, debug, info, warn, error or off")
      ->default_str(config.log_level);
  hub->add_option("--log-format", config.log_format, "text or json")
      ->default_str(config.log_format);
  hub->add_option(
      "--log-module", log_modules,
      "MODULE=LEVEL: one module's level (broker, net, store, api, hub, services.travel, "
      "…); repeat for several");
  auto& l = config.limits;
  hub->add_option("--max-packet-size", l.max_packet_size, "Largest MQTT packet in bytes, both ways")
      ->default_str(std::to_string(l.max_packet_size));
  hub->add_option("--max-topic-length", l.max_topic_length, "Longest topic or filter in bytes")
      ->default_str(std::to_string(l.max_topic_length));
  hub->add_option("--max-topic-levels", l.max_topic_levels, "Most levels in a topic or filter")
      ->default_str(std::to_string(l.max_topic_levels));
  hub->add_option("--max-subscriptions-per-client", l.max_subscriptions_per_client,
                  "Subscriptions one session may hold")
      ->default_str(std::to_string(l.max_subscriptions_per_client));
  hub->add_option("--max-queued-messages", l.max_queued_messages,
                  "QoS 1/2 messages queued per session while offline or backlogged")
      ->default_str(std::to_string(l.max_queued_messages));
  hub->add_option("--max-inflight", l.max_inflight,
                  "Unacknowledged QoS 1/2 messages per direction (Receive Maximum)")
      ->default_str(std::to_string(l.max_inflight));
  hub->add_option("--topic-alias-maximum", l.topic_alias_maximum,
                  "Topic aliases a client may define (0 disables)")
      ->default_str(std::to_string(l.topic_alias_maximum));
  hub->add_option("--max-keep-alive", l.max_keep_alive, "Longest keep-alive in seconds")
      ->default_str(std::to_string(l.max_keep_alive));
  hub->add_option("--max-session-expiry", l.max_session_expiry,
                  "Longest session expiry in seconds (4294967295: never)")
      ->default_str(std::to_string(l.max_session_expiry));
  hub->add_option("--max-queued-bytes", l.max_queued_bytes,
                  "Bytes of QoS 1/2 messages queued per session")
      ->default_str(std::to_string(l.max_queued_bytes));
  hub->add_option_function<std::string>(
         "--queue-full-policy",
         [&l](const std::string& v) { l.drop_oldest = allscene::hub::parse_queue_policy(v); },
         "drop-new or drop-oldest, when a session queue is full")
      ->check(CLI::IsMember({"drop-new", "drop-oldest"}))
      ->default_str("drop-new");
  hub->add_option("--max-outbound-bytes", l.max_outbound_bytes,
                  "Write buffer per connection; QoS 0 beyond it is dropped")
      ->default_str(std::to_string(l.max_outbound_bytes));
  hub->add_option("--memory-high-water", l.memory_high_water,
                  "Buffered bytes above which the hub stops reading sockets")
      ->default_str(std::to_string(l.memory_high_water));
  hub->add_option("--memory-low-water", l.memory_low_water,
                  "Buffered bytes below which reading resumes")
      ->default_str(std::to_string(l.memory_low_water));
  hub->add_option("--sys-interval", l.sys_interval, "Seconds between $SYS updates; 0 disables")
      ->default_str(std::to_string(l.sys_interval));
  auto& up = config.upstream;
  hub->add_option("--upstream", up.address,
                  "Bridge to a cloud hub or broker, mqtt[s]://HOST[:PORT]: users/# both ways, "
                  "devices/+/messages/events/# out (docs/operations.md, Edge hub and bridges)");
  hub->add_option("--upstream-username", up.username, "User name for --upstream");
  hub->add_option("--upstream-password", up.password, "Password for --upstream");
  hub->add_option("--upstream-connection-string", up.connection_string,
                  "Device connection string (HostName=..;DeviceId=..;SharedAccessKey=..) for "
                  "--upstream: signs SAS tokens");
  hub->add_option("--upstream-ca", up.ca_file, "PEM CA bundle for mqtts:// (default: system CAs)")
      ->check(CLI::ExistingFile);
  hub->add_option("--upstream-client-id", up.client_id,
                  "Client id upstream (default: the user name, else allscene-bridge-upstream)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"allscene — an open device–cloud hub"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);

  // Flags must win over the config file, so the file is read first into
  // the defaults and the flags are parsed on top.
  allscene::hub::HubConfig config;
  std::string config_file;
  std::vector<std::string> listen;
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-c" || arg == "--config") config_file = argv[i + 1];
  }
  try {
    if (!config_file.empty()) allscene::hub::load_config_file(config_file, config);
  } catch (const std::exception& e) {
    std::cerr << "allscene: " << e.what() << "\n";
    return 2;
  }
  bool check_data = false;
  std::vector<std::string> log_modules;
  add_hub_command(app, config, config_file, listen, log_modules, check_data);
  allscene::app::BenchCommand bench(app);
  allscene::app::DiscoverCommand discover(app);
  allscene::app::RegistryCommands registry(app);
  allscene::app::AgentCommand agent(registry.device_command());
  allscene::app::ServiceCommands service(app, config.auth.hub_host);
  allscene::app::CloudCommands cloud(app);
  allscene::app::OpsCommands ops(app);
  CLI11_PARSE(app, argc, argv);

  try {
    if (app.got_subcommand("hub")) {
      for (const auto& l : listen) {
        if (&l == &listen.front()) config.listeners.clear();
        config.listeners.push_back(allscene::hub::parse_listen(l));
      }
      for (const auto& m : log_modules) {
        const auto eq = m.find('=');
        if (eq == std::string::npos) {
          std::cerr << "allscene: --log-module wants MODULE=LEVEL, e.g. broker=debug\n";
          return 2;
        }
        config.log_modules[m.substr(0, eq)] = m.substr(eq + 1);
      }
      allscene::hub::setup_logging(config.log_level, config.log_format, config.log_modules);
      config.config_file = config_file;
      if (check_data) return allscene::hub::check_data(config);
      return allscene::hub::run(std::move(config));
    }
    // The other commands print for people: the libraries' info logs
    // (stores opened, twins loaded) would only be noise there.
    spdlog::set_level(spdlog::level::warn);
    if (bench.chosen()) return bench.run();
    if (discover.chosen()) return discover.run();
    if (agent.chosen()) return agent.run();
    if (registry.chosen()) return registry.run();
    if (service.chosen()) return service.run();
    if (cloud.chosen()) return cloud.run();
    if (ops.chosen()) return ops.run();
  } catch (const std::exception& e) {
    std::cerr << "allscene: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
