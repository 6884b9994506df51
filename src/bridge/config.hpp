// What one bridge to another MQTT broker is told: where the upstream is,
// how to sign in, and which topics cross in which direction. Filled by
// src/hub from [[bridge]] tables and the --upstream flags; documented in
// docs/configuration.md and docs/operations.md (Edge hub and bridges).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mqtt/types.hpp"

namespace allscene::bridge {

enum class Direction : std::uint8_t { in, out, both };

// One [[bridge.rule]]: messages on local_prefix + pattern go out as
// remote_prefix + pattern (direction out), and the reverse (in). Prefixes
// are empty or end with '/', and hold no wildcard.
struct Rule {
  std::string pattern;
  Direction direction = Direction::both;
  std::uint8_t qos = 1;  // most the link carries; see max_link_qos()
  std::string local_prefix;
  std::string remote_prefix;
  bool operator==(const Rule&) const = default;
};

struct BridgeConfig {
  std::string name = "upstream";
  std::string host;
  std::uint16_t port = 1883;
  bool tls = false;
  std::string ca_file;           // TLS: trust these CAs; empty: the system's
  std::string cert_file;         // TLS client certificate (PEM), optional
  std::string key_file;          // its key (PEM)
  bool verify_host_name = true;  // TLS: the certificate must name `host`
  std::optional<std::string> username;
  std::optional<std::string> password;
  // An Azure-style device key instead of a password: each attempt signs
  // a fresh SAS token (one hour) for sas_resource ("{host}/devices/{id}").
  std::string sas_key;
  std::string sas_resource;
  // Empty: username when set, else "allscene-bridge-{name}".
  std::string client_id;
  std::uint16_t keep_alive = 60;  // seconds
  // false with session_expiry > 0: the upstream keeps our subscriptions
  // and queues messages for us while the link is down.
  bool clean_start = false;
  std::uint32_t session_expiry = 7 * 24 * 3600;  // seconds
  mqtt::Version version = mqtt::Version::v5;
  // Unacknowledged QoS 1 messages per direction; it bounds what the bridge
  // holds in memory (the rest waits in the session queues of the brokers).
  std::uint16_t inflight = 32;
  std::uint32_t reconnect_min_ms = 500;
  std::uint32_t reconnect_max_ms = 30'000;
  std::vector<Rule> rules;
};

// "mqtt://host:port" or "mqtts://host:port" (port defaults 1883 / 8883)
// into host, port and tls. Throws std::invalid_argument naming the problem.
void parse_upstream_address(const std::string& url, BridgeConfig& config);

// An Azure IoT Hub device connection string
// ("HostName=H;DeviceId=D;SharedAccessKey=K") into username
// "H/D/?api-version=2021-04-12", client id D and the SAS key; the address
// becomes mqtts://H:8883 unless one is set. Throws std::invalid_argument.
void apply_connection_string(const std::string& text, BridgeConfig& config);

// The rules when none are given: users/# both ways, device-to-cloud
// events (devices/+/messages/events/#) out, QoS 1, no remapping.
std::vector<Rule> default_rules();

// The client id used upstream (see BridgeConfig::client_id).
std::string effective_client_id(const BridgeConfig& config);

// Checks a bridge; throws std::invalid_argument saying what to change.
void validate(const BridgeConfig& config);

}  // namespace allscene::bridge
