#include "bridge/config.hpp"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

#include "bridge/rules.hpp"

namespace allscene::bridge {

void parse_upstream_address(const std::string& url, BridgeConfig& config) {
  std::string_view rest = url;
  if (rest.starts_with("mqtts://")) {
    config.tls = true;
    config.port = 8883;
    rest.remove_prefix(8);
  } else if (rest.starts_with("mqtt://")) {
    config.tls = false;
    config.port = 1883;
    rest.remove_prefix(7);
  } else {
    throw std::invalid_argument(
        fmt::format("upstream '{}' must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT]", url));
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view host = rest;
  const auto bracket = rest.rfind(']');
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = rest.substr(0, colon);
    const auto port_text = rest.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      throw std::invalid_argument(
          fmt::format("upstream '{}': port must be a number from 1 to 65535", url));
    }
    config.port = static_cast<std::uint16_t>(port);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) throw std::invalid_argument(fmt::format("upstream '{}' has no host", url));
  config.host = std::string(host);
}

void apply_connection_string(const std::string& text, BridgeConfig& config) {
  std::string host, device, key;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    const auto part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const auto name = part.substr(0, eq);
    const auto value = std::string(part.substr(eq + 1));
    if (name == "HostName") host = value;
    if (name == "DeviceId") device = value;
    if (name == "SharedAccessKey") key = value;
  }
  if (host.empty() || device.empty() || key.empty()) {
    throw std::invalid_argument(
        "upstream connection string needs HostName=...;DeviceId=...;SharedAccessKey=...");
  }
  config.username = host + "/" + device + "/?api-version=2021-04-12";
  config.client_id = device;
  config.sas_key = key;
  config.sas_resource = host + "/devices/" + device;
  if (config.host.empty()) parse_upstream_address("mqtts://" + host, config);
}

std::vector<Rule> default_rules() {
  return {Rule{"users/#", Direction::both, 1, "", ""}, Rule{"$hubs/#", Direction::both, 1, "", ""},
          Rule{"devices/+/messages/events/#", Direction::out, 1, "", ""}};
}

std::string effective_client_id(const BridgeConfig& config) {
  if (!config.client_id.empty()) return config.client_id;
  if (config.username) return *config.username;
  return "allscene-bridge-" + config.name;
}

void validate(const BridgeConfig& config) {
  const auto fail = [&config](const std::string& what) {
    throw std::invalid_argument(fmt::format("bridge {}: {}", config.name, what));
  };
  if (config.name.empty() || config.name.find_first_of("/+#") != std::string::npos) {
    fail("name must be non-empty without '/', '+' or '#' (it names $SYS/broker/bridge/{name})");
  }
  if (config.host.empty()) fail("address is required: address = \"mqtt://HOST:PORT\"");
  if (config.rules.empty()) fail("has no rules");
  for (const auto& r : config.rules) {
    if (auto p = rule_problem(r); !p.empty()) fail("rule: " + p);
  }
  if (config.version == mqtt::Version::v311) {
    if (auto p = v311_loop_risk(config.rules); !p.empty()) fail(p);
  }
  if (!config.tls && (!config.ca_file.empty() || !config.cert_file.empty())) {
    fail("ca_file/cert_file are set but the address is mqtt://: use mqtts:// for TLS");
  }
  if (config.cert_file.empty() != config.key_file.empty()) {
    fail("a client certificate needs both cert_file and key_file");
  }
  if (config.password && !config.username && config.version == mqtt::Version::v311) {
    fail("MQTT 3.1.1 allows a password only with a username");
  }
  // Packet ids are 16 bits: the window leaves room for the SUBSCRIBE.
  if (config.inflight == 0 || config.inflight > 65000) fail("inflight must be 1 to 65000");
  if (config.reconnect_min_ms == 0 || config.reconnect_max_ms < config.reconnect_min_ms) {
    fail("reconnect_min_ms must be at least 1 and not above reconnect_max_ms");
  }
}

}  // namespace allscene::bridge
