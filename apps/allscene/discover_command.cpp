#include "discover_command.hpp"

#include <fmt/format.h>

#include <allscene/discovery.hpp>
#include <charconv>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

namespace allscene::app {

std::optional<std::chrono::milliseconds> parse_timeout(const std::string& text) {
  std::string_view number = text;
  double scale = 1000.0;  // a bare number is seconds
  if (number.ends_with("ms")) {
    number.remove_suffix(2);
    scale = 1.0;
  } else if (number.ends_with("s")) {
    number.remove_suffix(1);
  }
  double value = 0;
  const auto* end = number.data() + number.size();
  const auto [ptr, ec] = std::from_chars(number.data(), end, value);
  if (number.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return std::nullopt;
  }
  const double ms = value * scale;
  if (ms < 1.0 || ms > 600000.0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

DiscoverCommand::DiscoverCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "discover", "List the hubs announcing themselves on the local network (mDNS/DNS-SD)");
  command_
      ->add_option_function<std::string>(
          "--timeout",
          [this](const std::string& v) {
            const auto t = parse_timeout(v);
            if (!t) {
              throw CLI::ValidationError("--timeout",
                                         "'" + v + "' must be like 2s, 1.5s or 500ms (1ms-10min)");
            }
            timeout_ = *t;
          },
          "How long to listen for answers, e.g. 2s or 500ms")
      ->default_str("2s");
  command_->add_flag("--json", json_, "Print a JSON array (one object per hub) instead of text");
  command_->add_flag("-4,--ipv4-only", ipv4_only_, "Ask and listen over IPv4 only");
}

namespace {

nlohmann::json port_or_null(const std::optional<std::uint16_t>& port) {
  return port ? nlohmann::json(*port) : nlohmann::json(nullptr);
}

nlohmann::json to_json(const sdk::DiscoveredHub& hub) {
  return {{"name", hub.name},
          {"host", hub.host},
          {"addresses", hub.addresses},
          {"port", hub.port},
          {"mqtt", port_or_null(hub.mqtt_port)},
          {"tls", port_or_null(hub.tls_port)},
          {"http", port_or_null(hub.http_port)},
          {"https", port_or_null(hub.https_port)},
          {"hub", hub.hub_host},
          {"txt", hub.txt}};
}

std::string describe(const sdk::DiscoveredHub& hub) {
  std::string ports;
  const auto add = [&ports](std::string_view what, const std::optional<std::uint16_t>& port) {
    if (port) ports += fmt::format("{}{} {}", ports.empty() ? "" : ", ", what, *port);
  };
  add("mqtt", hub.mqtt_port);
  add("mqtts", hub.tls_port);
  add("http", hub.http_port);
  add("https", hub.https_port);
  std::string addresses;
  for (const auto& a : hub.addresses) addresses += (addresses.empty() ? "" : " ") + a;
  return fmt::format("{}\n  host {} ({})\n  {}{}\n", hub.name, hub.host, addresses, ports,
                     hub.hub_host.empty() ? "" : "\n  hub host " + hub.hub_host);
}

}  // namespace

int DiscoverCommand::run() {
  std::error_code ec;
  const auto hubs = sdk::discover_hubs(timeout_, sdk::DiscoverOptions{true, !ipv4_only_}, ec);
  if (ec) {
    std::cerr << "allscene discover: cannot use multicast DNS: " << ec.message()
              << " (is UDP port 5353 usable and an interface up with multicast?)\n";
    return 1;
  }
  if (json_) {
    auto list = nlohmann::json::array();
    for (const auto& hub : hubs) list.push_back(to_json(hub));
    std::cout << list.dump(2) << "\n";
    return 0;
  }
  if (hubs.empty()) {
    std::cout << "no hub answered within " << timeout_.count()
              << " ms (hubs on loopback only do not announce; see docs/discovery.md)\n";
  }
  for (const auto& hub : hubs) std::cout << describe(hub);
  return 0;
}

}  // namespace allscene::app
