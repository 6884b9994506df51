#include "hub/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <filesystem>
#include <iterator>
#include <limits>
#include <stdexcept>

#include "bridge/rules.hpp"
#include "net/tls.hpp"

namespace allscene::hub {
namespace {

template <typename T>
void read_uint(const toml::table& table, std::string_view key, T& out, const std::string& where) {
  const auto* node = table.get(key);
  if (!node) return;
  const auto value = node->value<std::int64_t>();
  if (!value || *value < 0 || static_cast<std::uint64_t>(*value) > std::numeric_limits<T>::max()) {
    throw std::runtime_error(fmt::format("{}: '{}' must be an integer from 0 to {}", where, key,
                                         std::numeric_limits<T>::max()));
  }
  out = static_cast<T>(*value);
}

void read_string(const toml::table& table, std::string_view key, std::string& out,
                 const std::string& where) {
  const auto* node = table.get(key);
  if (!node) return;
  const auto value = node->value<std::string>();
  if (!value) throw std::runtime_error(fmt::format("{}: '{}' must be a string", where, key));
  out = *value;
}

void read_bool(const toml::table& table, std::string_view key, bool& out,
               const std::string& where) {
  const auto* node = table.get(key);
  if (!node) return;
  const auto value = node->value<bool>();
  if (!value) throw std::runtime_error(fmt::format("{}: '{}' must be true or false", where, key));
  out = *value;
}

bool is_loopback(const std::string& address) {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(address, ec);
  return !ec && a.is_loopback();
}

constexpr std::string_view kListenerKeys[] = {
    "name",    "bind",         "transport", "cert_file",       "key_file",
    "ca_file", "client_certs", "ws_path",   "allow_anonymous", "quota"};

// Keys of `table` must be among `known` (a typo must not pass silently).
template <std::size_t N>
void check_keys(const toml::table& table, const std::string_view (&known)[N],
                const std::string& where) {
  for (const auto& [key, value] : table) {
    if (std::find(std::begin(known), std::end(known), key.str()) == std::end(known)) {
      std::string list;
      for (const auto k : known) list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
      throw std::runtime_error(
          fmt::format("{}: unknown key '{}'; it takes {} "
                      "(docs/configuration.md)",
                      where, key.str(), list));
    }
  }
}

constexpr std::string_view kQuotaKeys[] = {"listener_connections_per_second",
                                           "device_connections_per_second", "messages_per_second",
                                           "bytes_per_second", "max_payload"};

// Fills `quota` from a [quota] table; absent keys keep their value.
void read_quota(const toml::table& t, broker::Quota& quota, const std::string& where) {
  check_keys(t, kQuotaKeys, where);
  read_uint(t, "listener_connections_per_second", quota.listener_connections_per_second, where);
  read_uint(t, "device_connections_per_second", quota.device_connections_per_second, where);
  read_uint(t, "messages_per_second", quota.messages_per_second, where);
  read_uint(t, "bytes_per_second", quota.bytes_per_second, where);
  read_uint(t, "max_payload", quota.max_payload, where);
}

constexpr std::string_view kAuthKeys[] = {"hub_host",
                                          "throttle_after",
                                          "throttle_window_s",
                                          "throttle_first_ms",
                                          "throttle_max_ms",
                                          "denied_publish_v311",
                                          "rule"};
constexpr std::string_view kRuleKeys[] = {"pattern", "publish", "subscribe"};

void read_auth(const toml::table& t, registry::AuthConfig& auth, const std::string& where) {
  check_keys(t, kAuthKeys, where);
  read_string(t, "hub_host", auth.hub_host, where);
  read_uint(t, "throttle_after", auth.throttle_after, where);
  auto seconds = static_cast<std::uint32_t>(auth.throttle_window.count());
  read_uint(t, "throttle_window_s", seconds, where);
  auth.throttle_window = std::chrono::seconds(seconds);
  auto first = static_cast<std::uint32_t>(auth.throttle_first.count());
  auto max = static_cast<std::uint32_t>(auth.throttle_max.count());
  read_uint(t, "throttle_first_ms", first, where);
  read_uint(t, "throttle_max_ms", max, where);
  auth.throttle_first = std::chrono::milliseconds(first);
  auth.throttle_max = std::chrono::milliseconds(max);
  if (const auto* node = t.get("rule")) {
    const auto* rules = node->as_array();
    if (!rules) throw std::runtime_error(where + ": rules are [[auth.rule]] tables");
    for (const auto& r : *rules) {
      const auto* rt = r.as_table();
      if (!rt) throw std::runtime_error(where + ": rules are [[auth.rule]] tables");
      const std::string rule_where = where + " [[auth.rule]]";
      check_keys(*rt, kRuleKeys, rule_where);
      registry::AccessRule rule;
      read_string(*rt, "pattern", rule.pattern, rule_where);
      if (rule.pattern.empty()) {
        throw std::runtime_error(rule_where + ": every rule needs pattern = \"TOPIC FILTER\"");
      }
      read_bool(*rt, "publish", rule.publish, rule_where);
      read_bool(*rt, "subscribe", rule.subscribe, rule_where);
      auth.rules.push_back(std::move(rule));
    }
  }
}

net::ListenerConfig read_listener(const toml::table& t, const std::string& path,
                                  const broker::Quota& hub_quota) {
  std::string where = path + " [[listener]]";
  check_keys(t, kListenerKeys, where);
  std::string bind;
  read_string(t, "bind", bind, where);
  if (bind.empty())
    throw std::runtime_error(path + ": every [[listener]] needs bind = \"HOST:PORT\"");
  auto l = parse_listen(bind);
  read_string(t, "transport", l.transport, where);
  l.name = l.transport == "tcp" ? "mqtt" : "mqtt-" + l.transport;
  read_string(t, "name", l.name, where);
  where = fmt::format("{} [[listener]] {}", path, l.name);
  read_string(t, "cert_file", l.cert_file, where);
  read_string(t, "key_file", l.key_file, where);
  read_string(t, "ca_file", l.ca_file, where);
  read_string(t, "client_certs", l.client_certs, where);
  read_string(t, "ws_path", l.ws_path, where);
  read_bool(t, "allow_anonymous", l.allow_anonymous, where);
  if (const auto* node = t.get("quota")) {
    const auto* q = node->as_table();
    if (!q) throw std::runtime_error(where + ": quota must be a table ([listener.quota])");
    l.quota = hub_quota;
    read_quota(*q, *l.quota, where + " quota");
  }
  return l;
}

// Checks one listener's TLS and WebSocket keys; loads its certificate and
// key so a bad file stops start-up.
void validate_listener(const net::ListenerConfig& l) {
  const auto fail = [&l](const std::string& what) {
    throw std::invalid_argument(
        fmt::format("listener {} ({}:{}): {}", l.name, l.address, l.port, what));
  };
  if (l.transport != "tcp" && l.transport != "tls" && l.transport != "ws" && l.transport != "wss") {
    fail(fmt::format("transport '{}' must be tcp, tls, ws or wss", l.transport));
  }
  if (l.client_certs != "none" && l.client_certs != "optional" && l.client_certs != "required") {
    fail(fmt::format("client_certs '{}' must be none, optional or required", l.client_certs));
  }
  if (!l.uses_tls()) {
    for (const auto* key : {&l.cert_file, &l.key_file, &l.ca_file}) {
      if (!key->empty()) {
        fail(fmt::format("{} is set but transport is {}: use transport = \"{}\" for TLS",
                         key == &l.cert_file  ? "cert_file"
                         : key == &l.key_file ? "key_file"
                                              : "ca_file",
                         l.transport, l.transport == "ws" ? "wss" : "tls"));
      }
    }
    if (l.client_certs != "none") {
      fail(fmt::format("client_certs needs TLS, but transport is {}", l.transport));
    }
  } else {
    const auto check_file = [&fail](std::string_view key, const std::string& file) {
      if (file.empty()) {
        fail(
            fmt::format("{} is required for TLS: a PEM file; make a development one with the "
                        "openssl commands in docs/security.md (Listeners and TLS)",
                        key));
      }
      std::error_code ec;
      if (!std::filesystem::is_regular_file(file, ec)) {
        fail(
            fmt::format("{} {} does not exist: make one with the openssl commands in "
                        "docs/security.md (Listeners and TLS), or fix the path",
                        key, file));
      }
    };
    check_file("cert_file", l.cert_file);
    check_file("key_file", l.key_file);
    if (!l.ca_file.empty()) check_file("ca_file", l.ca_file);
    if (!l.ca_file.empty() && l.client_certs == "none") {
      fail(
          "ca_file is set but client_certs is none: set client_certs = \"optional\" or "
          "\"required\", or remove ca_file");
    }
    try {
      net::make_tls_context(l);
    } catch (const std::runtime_error& e) {
      throw std::invalid_argument(e.what());
    }
  }
  if (l.uses_websocket() && (l.ws_path.empty() || l.ws_path.front() != '/' ||
                             l.ws_path.find_first_of("? \t") != std::string::npos)) {
    fail(fmt::format("ws_path '{}' must be a path starting with '/', e.g. \"/mqtt\"", l.ws_path));
  }
  if (l.allow_anonymous && !is_loopback(l.address)) {
    fail("allow_anonymous = true is only possible on loopback addresses");
  }
}

constexpr std::string_view kBridgeKeys[] = {"name",
                                            "address",
                                            "ca_file",
                                            "cert_file",
                                            "key_file",
                                            "verify_host_name",
                                            "username",
                                            "password",
                                            "connection_string",
                                            "client_id",
                                            "keep_alive",
                                            "clean_start",
                                            "session_expiry",
                                            "mqtt_version",
                                            "inflight",
                                            "reconnect_min_ms",
                                            "reconnect_max_ms",
                                            "rule"};
constexpr std::string_view kBridgeRuleKeys[] = {"pattern", "direction", "qos", "local_prefix",
                                                "remote_prefix"};

bridge::Rule read_bridge_rule(const toml::table& t, const std::string& where) {
  check_keys(t, kBridgeRuleKeys, where);
  bridge::Rule rule;
  read_string(t, "pattern", rule.pattern, where);
  std::string direction = "both";
  read_string(t, "direction", direction, where);
  const auto d = bridge::parse_direction(direction);
  if (!d) throw std::runtime_error(where + ": direction must be \"in\", \"out\" or \"both\"");
  rule.direction = *d;
  read_uint(t, "qos", rule.qos, where);
  read_string(t, "local_prefix", rule.local_prefix, where);
  read_string(t, "remote_prefix", rule.remote_prefix, where);
  return rule;
}

bridge::BridgeConfig read_bridge(const toml::table& t, const std::string& path) {
  bridge::BridgeConfig b;
  std::string where = path + " [[bridge]]";
  check_keys(t, kBridgeKeys, where);
  read_string(t, "name", b.name, where);
  where += " " + b.name;
  std::string address, text;
  read_string(t, "address", address, where);
  try {
    if (!address.empty()) bridge::parse_upstream_address(address, b);
    read_string(t, "connection_string", text, where);
    if (!text.empty()) bridge::apply_connection_string(text, b);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(where + ": " + e.what());
  }
  read_string(t, "ca_file", b.ca_file, where);
  read_string(t, "cert_file", b.cert_file, where);
  read_string(t, "key_file", b.key_file, where);
  read_bool(t, "verify_host_name", b.verify_host_name, where);
  if (t.contains("username")) read_string(t, "username", b.username.emplace(), where);
  if (t.contains("password")) read_string(t, "password", b.password.emplace(), where);
  read_string(t, "client_id", b.client_id, where);
  read_uint(t, "keep_alive", b.keep_alive, where);
  read_bool(t, "clean_start", b.clean_start, where);
  read_uint(t, "session_expiry", b.session_expiry, where);
  std::string version = "5";
  read_string(t, "mqtt_version", version, where);
  if (version != "5" && version != "3.1.1") {
    throw std::runtime_error(where + ": mqtt_version must be \"5\" or \"3.1.1\"");
  }
  b.version = version == "5" ? mqtt::Version::v5 : mqtt::Version::v311;
  read_uint(t, "inflight", b.inflight, where);
  read_uint(t, "reconnect_min_ms", b.reconnect_min_ms, where);
  read_uint(t, "reconnect_max_ms", b.reconnect_max_ms, where);
  if (const auto* node = t.get("rule")) {
    const auto* rules = node->as_array();
    if (!rules) throw std::runtime_error(where + ": rules are [[bridge.rule]] tables");
    for (const auto& r : *rules) {
      const auto* rt = r.as_table();
      if (!rt) throw std::runtime_error(where + ": rules are [[bridge.rule]] tables");
      b.rules.push_back(read_bridge_rule(*rt, where + " [[bridge.rule]]"));
    }
  }
  if (b.rules.empty()) b.rules = bridge::default_rules();
  return b;
}

// The bridge the --upstream flags ask for, with the default rules.
bridge::BridgeConfig upstream_bridge(const UpstreamFlags& f) {
  bridge::BridgeConfig b;
  if (!f.address.empty()) bridge::parse_upstream_address(f.address, b);
  if (!f.connection_string.empty()) bridge::apply_connection_string(f.connection_string, b);
  if (!f.username.empty()) b.username = f.username;
  if (!f.password.empty()) b.password = f.password;
  if (!f.client_id.empty()) b.client_id = f.client_id;
  b.ca_file = f.ca_file;
  b.rules = bridge::default_rules();
  return b;
}

void validate_bridges(HubConfig& config) {
  if (!config.upstream.address.empty() || !config.upstream.connection_string.empty()) {
    config.bridges.push_back(upstream_bridge(config.upstream));
    config.upstream = {};
  }
  for (std::size_t i = 0; i < config.bridges.size(); ++i) {
    bridge::validate(config.bridges[i]);
    for (std::size_t j = 0; j < i; ++j) {
      if (config.bridges[j].name == config.bridges[i].name) {
        throw std::invalid_argument(fmt::format(
            "two bridges are named '{}': give each [[bridge]] its own name (--upstream is "
            "\"upstream\")",
            config.bridges[i].name));
      }
    }
  }
}

}  // namespace

bool parse_queue_policy(const std::string& text) {
  if (text == "drop-new") return false;
  if (text == "drop-oldest") return true;
  throw std::invalid_argument(
      fmt::format("queue_full_policy '{}' must be 'drop-new' or 'drop-oldest'", text));
}

net::ListenerConfig parse_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    throw std::invalid_argument(
        fmt::format("listen address '{}' must be HOST:PORT, e.g. 127.0.0.1:1883", text));
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    port = 70000;
  }
  if (port > 65535) {
    throw std::invalid_argument(fmt::format("listen address '{}': port must be 0-65535", text));
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (ec) {
    throw std::invalid_argument(
        fmt::format("listen address '{}': '{}' is not an IP address", text, host));
  }
  net::ListenerConfig l;
  l.name = "mqtt";
  l.address = host;
  l.port = static_cast<std::uint16_t>(port);
  l.allow_anonymous = is_loopback(host);
  return l;
}

HubConfig reloaded_config(const HubConfig& running) {
  HubConfig file = running;
  file.auth.rules.clear();  // the file's rules replace the running ones
  load_config_file(running.config_file, file);
  HubConfig next = running;
  next.auth = file.auth;
  next.limits = file.limits;
  auto& l = next.limits;
  const auto& kept = running.limits;
  l.max_packet_size = kept.max_packet_size;
  l.max_inflight = kept.max_inflight;
  l.topic_alias_maximum = kept.topic_alias_maximum;
  l.max_keep_alive = kept.max_keep_alive;
  l.max_session_expiry = kept.max_session_expiry;
  l.sys_interval = kept.sys_interval;
  if (l.memory_low_water >= l.memory_high_water) {
    throw std::runtime_error(running.config_file +
                             ": memory_low_water must be below memory_high_water");
  }
  return next;
}

void load_config_file(const std::string& path, HubConfig& config) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw std::runtime_error(
        fmt::format("{}:{}:{}: {}", path, where.line, where.column, e.description()));
  }
  read_string(root, "data_dir", config.data_dir, path);
  read_uint(root, "threads", config.threads, path);
  read_uint(root, "sys_interval", config.limits.sys_interval, path);
  if (const auto* store = root["store"].as_table()) {
    read_string(*store, "durability", config.durability, path + " [store]");
    read_uint(*store, "sync_interval_ms", config.sync_interval_ms, path + " [store]");
  }
  if (const auto* log = root["log"].as_table()) {
    read_string(*log, "level", config.log_level, path + " [log]");
    read_string(*log, "format", config.log_format, path + " [log]");
    if (const auto* modules = (*log)["modules"].as_table()) {
      for (const auto& [module, level] : *modules) {
        const auto value = level.value<std::string>();
        if (!value) throw std::runtime_error(path + " [log.modules]: levels are strings");
        config.log_modules[std::string(module.str())] = *value;
      }
    }
  }
  // Before the listeners: a listener's own quota starts from the hub's.
  if (const auto* quota = root["quota"].as_table()) {
    read_quota(*quota, config.limits.quota, path + " [quota]");
  }
  if (const auto* auth = root["auth"].as_table()) {
    read_auth(*auth, config.auth, path + " [auth]");
    std::string denied = config.limits.close_on_denied_publish_v311 ? "disconnect" : "acknowledge";
    read_string(*auth, "denied_publish_v311", denied, path + " [auth]");
    if (denied != "acknowledge" && denied != "disconnect") {
      throw std::runtime_error(path +
                               " [auth]: denied_publish_v311 must be \"acknowledge\" or "
                               "\"disconnect\"");
    }
    config.limits.close_on_denied_publish_v311 = denied == "disconnect";
  }
  if (const auto* http = root["http"].as_table()) {
    static constexpr std::string_view kHttpKeys[] = {"bind", "cert_file", "key_file",
                                                     "device_owner", "console_dir"};
    check_keys(*http, kHttpKeys, path + " [http]");
    read_string(*http, "bind", config.http_bind, path + " [http]");
    read_string(*http, "cert_file", config.http_cert_file, path + " [http]");
    read_string(*http, "key_file", config.http_key_file, path + " [http]");
    read_string(*http, "device_owner", config.http_device_owner, path + " [http]");
    read_string(*http, "console_dir", config.http_console_dir, path + " [http]");
  }
  if (const auto* discovery = root["discovery"].as_table()) {
    static constexpr std::string_view kDiscoveryKeys[] = {"announce", "instance"};
    check_keys(*discovery, kDiscoveryKeys, path + " [discovery]");
    read_string(*discovery, "announce", config.discovery_announce, path + " [discovery]");
    read_string(*discovery, "instance", config.discovery_instance, path + " [discovery]");
  }
  if (const auto* services = root["services"].as_table()) {
    static constexpr std::string_view kServicesKeys[] = {"workers", "requests_per_second", "burst",
                                                         "in_flight_per_user", "max_queued"};
    const std::string where = path + " [services]";
    check_keys(*services, kServicesKeys, where);
    read_uint(*services, "workers", config.services.workers, where);
    read_uint(*services, "requests_per_second", config.services.rate_per_user, where);
    read_uint(*services, "burst", config.services.burst_per_user, where);
    read_uint(*services, "in_flight_per_user", config.services.in_flight_per_user, where);
    read_uint(*services, "max_queued", config.services.max_queued, where);
  }
  if (const auto* listeners = root["listener"].as_array()) {
    config.listeners.clear();
    for (const auto& node : *listeners) {
      const auto* t = node.as_table();
      if (!t) throw std::runtime_error(path + ": [[listener]] entries must be tables");
      config.listeners.push_back(read_listener(*t, path, config.limits.quota));
    }
  }
  if (const auto* bridges = root["bridge"].as_array()) {
    config.bridges.clear();
    for (const auto& node : *bridges) {
      const auto* t = node.as_table();
      if (!t) throw std::runtime_error(path + ": [[bridge]] entries must be tables");
      config.bridges.push_back(read_bridge(*t, path));
    }
  }
  if (const auto* limits = root["limits"].as_table()) {
    const std::string where = path + " [limits]";
    auto& l = config.limits;
    read_uint(*limits, "max_packet_size", l.max_packet_size, where);
    read_uint(*limits, "max_topic_length", l.max_topic_length, where);
    read_uint(*limits, "max_topic_levels", l.max_topic_levels, where);
    read_uint(*limits, "max_subscriptions_per_client", l.max_subscriptions_per_client, where);
    read_uint(*limits, "max_queued_messages", l.max_queued_messages, where);
    read_uint(*limits, "max_inflight", l.max_inflight, where);
    read_uint(*limits, "topic_alias_maximum", l.topic_alias_maximum, where);
    read_uint(*limits, "max_keep_alive", l.max_keep_alive, where);
    read_uint(*limits, "max_session_expiry", l.max_session_expiry, where);
    read_uint(*limits, "max_client_id_length", l.max_client_id_length, where);
    read_uint(*limits, "max_queued_bytes", l.max_queued_bytes, where);
    read_uint(*limits, "max_outbound_bytes", l.max_outbound_bytes, where);
    read_uint(*limits, "memory_high_water", l.memory_high_water, where);
    read_uint(*limits, "memory_low_water", l.memory_low_water, where);
    std::string policy = l.drop_oldest ? "drop-oldest" : "drop-new";
    read_string(*limits, "queue_full_policy", policy, where);
    l.drop_oldest = parse_queue_policy(policy);
  }
}

void validate(HubConfig& config) {
  if (config.listeners.empty()) config.listeners.push_back(parse_listen("127.0.0.1:1883"));
  // Off loopback every client signs in (validate_listener refuses
  // allow_anonymous there).
  for (const auto& l : config.listeners) validate_listener(l);
  validate_bridges(config);
  auto& lim = config.limits;
  if (lim.max_packet_size < 64) {
    throw std::invalid_argument("max_packet_size must be at least 64 bytes");
  }
  if (lim.max_packet_size > 268435455 + 5) lim.max_packet_size = 268435455 + 5;
  if (lim.memory_low_water >= lim.memory_high_water) {
    throw std::invalid_argument("memory_low_water must be below memory_high_water");
  }
  if (lim.max_inflight == 0) throw std::invalid_argument("max_inflight must be at least 1");
  if (lim.max_topic_length == 0 || lim.max_topic_levels == 0) {
    throw std::invalid_argument("max_topic_length and max_topic_levels must be at least 1");
  }
  if (config.durability != "fsync" && config.durability != "batch" && config.durability != "none") {
    throw std::invalid_argument(
        fmt::format("durability '{}' must be 'fsync', 'batch' or 'none' (see docs/durability.md)",
                    config.durability));
  }
  if (config.sync_interval_ms == 0)
    throw std::invalid_argument("sync_interval_ms must be at least 1");
  if (config.log_format != "text" && config.log_format != "json") {
    throw std::invalid_argument("log format must be 'text' or 'json'");
  }
  if (config.http_bind == "off") config.http_bind.clear();
  if (config.http_cert_file.empty() != config.http_key_file.empty()) {
    throw std::invalid_argument(
        "[http] HTTPS needs both cert_file and key_file; give both, or neither for plain HTTP");
  }
  if (!registry::valid_id(config.http_device_owner)) {
    throw std::invalid_argument(
        fmt::format("[http] device_owner '{}' is not a valid user id", config.http_device_owner));
  }
  if (!config.http_bind.empty()) {
    const auto http = parse_listen(config.http_bind);
    if (!is_loopback(http.address) && config.http_cert_file.empty()) {
      throw std::invalid_argument(fmt::format(
          "[http] bind '{}': without HTTPS the REST endpoint listens only on a loopback address "
          "(127.0.0.1:PORT or [::1]:PORT); set [http] cert_file and key_file to serve it "
          "elsewhere, reach it through an SSH tunnel, or turn it off with bind = \"\" (--http "
          "off)",
          config.http_bind));
    }
  }
  if (config.discovery_announce != "auto" && config.discovery_announce != "on" &&
      config.discovery_announce != "off") {
    throw std::invalid_argument(
        fmt::format("[discovery] announce '{}' must be 'auto', 'on' or 'off' (docs/discovery.md)",
                    config.discovery_announce));
  }
  const auto& s = config.services;
  if (s.workers == 0 || s.rate_per_user == 0 || s.burst_per_user == 0 ||
      s.in_flight_per_user == 0 || s.max_queued == 0) {
    throw std::invalid_argument(
        "[services] workers, requests_per_second, burst, in_flight_per_user and max_queued must "
        "each be at least 1 (docs/configuration.md)");
  }
}

}  // namespace allscene::hub
