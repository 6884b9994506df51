// Hub configuration: defaults, then the TOML file, then command-line flags.
// Every option is documented in docs/configuration.md.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "bridge/config.hpp"
#include "broker/limits.hpp"
#include "net/server.hpp"
#include "registry/access.hpp"
#include "services/host.hpp"

namespace allscene::hub {

// The --upstream* flags: one bridge with the default rules (validate()
// turns it into a [[bridge]] named "upstream").
struct UpstreamFlags {
  std::string address;  // mqtt[s]://HOST[:PORT]; empty: none
  std::string username, password, connection_string, ca_file, client_id;
};

struct HubConfig {
  std::vector<net::ListenerConfig> listeners;  // empty: the default 127.0.0.1:1883
  std::string data_dir = "./allscene-data";
  unsigned threads = 0;  // event loops; 0: one per core
  std::string log_level = "info";
  std::string log_format = "text";  // text | json
  // [log.modules]: a level per module ("broker", "api", "services.travel", …).
  std::map<std::string, std::string> log_modules;
  // Session store (docs/durability.md): fsync | batch | none.
  std::string durability = "fsync";
  unsigned sync_interval_ms = 100;  // batch: longest time before an fsync
  broker::Limits limits;            // limits.quota: every listener's unless it has its own
  registry::AuthConfig auth;        // [auth]: access rules, sign-in throttling, hub host
  // [http] bind: the REST endpoint's HOST:PORT; "" or "off": none.
  // validate() turns "off" into "". Loopback only unless HTTPS is set up.
  std::string http_bind = "127.0.0.1:8080";
  // [http] cert_file, key_file: HTTPS (PEM; both or neither).
  std::string http_cert_file, http_key_file;
  // [http] device_owner: the user owning devices created through Azure's
  // PUT /devices/{id} (created when missing).
  std::string http_device_owner = "service";
  // [http] console_dir: the built web console served under /console/
  // (scripts/console builds web/dist; docs/console.md).
  std::string http_console_dir = ALLSCENE_CONSOLE_DIR;
  // [[bridge]] tables (docs/configuration.md, docs/operations.md "Edge hub
  // and bridges"); validate() appends the one from `upstream`.
  std::vector<bridge::BridgeConfig> bridges;
  UpstreamFlags upstream;
  // [discovery] (docs/discovery.md): announce the hub on the local network
  // over mDNS/DNS-SD. announce: auto (when an MQTT listener is not on
  // loopback), on (also loopback-only: tests), off. instance: the DNS-SD
  // instance name; "{hostname}" becomes the machine's host name.
  std::string discovery_announce = "auto";
  std::string discovery_instance = "allscene on {hostname}";
  // [services] (docs/services.md): worker threads and per-user quotas of
  // the cloud services.
  services::HostOptions services;
  // The file the config was read from (-c); "" when none. SIGHUP re-reads it.
  std::string config_file;
};

// What SIGHUP applies: `running` with [auth] (rules, throttling, hub host)
// and the limits and quotas re-read from running.config_file. Limits
// announced to clients in CONNACK (packet size, receive maximum, topic
// aliases, keep-alive, session expiry) and $SYS's interval keep their
// running values; everything else (listeners, storage, HTTP, bridges,
// services) changes only with a restart. Throws std::runtime_error like
// load_config_file, changing nothing.
HubConfig reloaded_config(const HubConfig& running);

// Reads a TOML file into `config` (keys absent from the file keep their
// value). Throws std::runtime_error naming the file, key and problem.
void load_config_file(const std::string& path, HubConfig& config);

// "drop-new" -> false, "drop-oldest" -> true; throws std::invalid_argument.
bool parse_queue_policy(const std::string& text);

// Parses "HOST:PORT" ("[::1]:1883" for IPv6). Throws std::invalid_argument.
net::ListenerConfig parse_listen(const std::string& text);

// Checks values that cannot work together; throws std::invalid_argument
// with a message that says what to change.
void validate(HubConfig& config);

}  // namespace allscene::hub
