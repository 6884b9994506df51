#include "hub/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <filesystem>
#include <iterator>
#include <limits>
#include <stdexcept>

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

constexpr std::string_view kListenerKeys[] = {"name",         "bind",     "transport",
                                              "cert_file",    "key_file", "ca_file",
                                              "client_certs", "ws_path",  "allow_anonymous"};

net::ListenerConfig read_listener(const toml::table& t, const std::string& path) {
  std::string where = path + " [[listener]]";
  for (const auto& [key, value] : t) {
    if (std::find(std::begin(kListenerKeys), std::end(kListenerKeys), key.str()) ==
        std::end(kListenerKeys)) {
      throw std::runtime_error(fmt::format(
          "{}: unknown key '{}'; a listener takes name, bind, transport, cert_file, key_file, "
          "ca_file, client_certs, ws_path and allow_anonymous (docs/configuration.md)",
          where, key.str()));
    }
  }
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
  }
  if (const auto* listeners = root["listener"].as_array()) {
    config.listeners.clear();
    for (const auto& node : *listeners) {
      const auto* t = node.as_table();
      if (!t) throw std::runtime_error(path + ": [[listener]] entries must be tables");
      config.listeners.push_back(read_listener(*t, path));
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
  for (const auto& l : config.listeners) {
    // Until device authentication exists, only loopback listeners (where
    // anonymous access is allowed) can be opened.
    if (!boost::asio::ip::make_address(l.address).is_loopback()) {
      throw std::invalid_argument(
          fmt::format("listener {}:{} is not on loopback; listeners off loopback need device "
                      "authentication, which this version does not have yet: bind to 127.0.0.1",
                      l.address, l.port));
    }
    validate_listener(l);
  }
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
}

}  // namespace allscene::hub
