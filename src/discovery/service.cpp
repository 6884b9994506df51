#include "discovery/service.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>

namespace allscene::discovery {
namespace {

bool is_loopback(const std::string& address) {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(address, ec);
  return !ec && a.is_loopback();
}

// The first listener of `transport`, taking non-loopback ones first and
// loopback ones only when `loopback_too`.
std::optional<std::uint16_t> pick(const std::vector<Listener>& listeners,
                                  std::string_view transport, bool loopback_too) {
  std::optional<std::uint16_t> fallback;
  for (const auto& l : listeners) {
    if (l.transport != transport || l.port == 0) continue;
    if (!is_loopback(l.address)) return l.port;
    if (loopback_too && !fallback) fallback = l.port;
  }
  return fallback;
}

}  // namespace

std::string instance_name(std::string_view pattern, std::string_view host_name) {
  constexpr std::string_view kPlaceholder = "{hostname}";
  std::string name;
  for (std::size_t i = 0; i < pattern.size();) {
    if (pattern.substr(i, kPlaceholder.size()) == kPlaceholder) {
      name += host_name;
      i += kPlaceholder.size();
    } else {
      name += pattern[i++];
    }
  }
  if (name.size() > kMaxInstanceBytes) {
    // Back up over UTF-8 continuation bytes (10xxxxxx) so the cut falls
    // between two characters.
    std::size_t cut = kMaxInstanceBytes;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
    name.resize(cut);
  }
  const bool blank =
      std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isspace(c) != 0; });
  return blank ? std::string("allscene") : name;
}

std::vector<std::string> txt_records(const HubEndpoints& e) {
  std::vector<std::string> txt{"v=" + std::string(kTxtVersion)};
  const auto add_port = [&txt](std::string_view key, const std::optional<std::uint16_t>& port) {
    if (port) txt.push_back(std::string(key) + "=" + std::to_string(*port));
  };
  add_port("mqtt", e.mqtt);
  add_port("tls", e.tls);
  add_port("http", e.http);
  add_port("https", e.https);
  if (!e.hub_host.empty()) txt.push_back("hub=" + e.hub_host);
  return txt;
}

std::optional<ServiceRecord> service_record(std::string instance, const HubEndpoints& endpoints) {
  const auto port = endpoints.mqtt ? endpoints.mqtt : endpoints.tls;
  if (!port) return std::nullopt;
  return ServiceRecord{std::move(instance), *port, txt_records(endpoints)};
}

std::map<std::string, std::string> parse_txt(const std::vector<std::string>& txt) {
  std::map<std::string, std::string> map;
  for (const auto& s : txt) {
    const auto eq = s.find('=');
    std::string key = s.substr(0, eq);
    if (key.empty()) continue;
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    map.try_emplace(std::move(key), eq == std::string::npos ? std::string() : s.substr(eq + 1));
  }
  return map;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

std::optional<HubEndpoints> hub_endpoints(const std::map<std::string, std::string>& txt) {
  const auto v = txt.find("v");
  if (v == txt.end() || v->second != kTxtVersion) return std::nullopt;
  const auto port = [&txt](const char* key) -> std::optional<std::uint16_t> {
    const auto it = txt.find(key);
    return it == txt.end() ? std::nullopt : parse_port(it->second);
  };
  HubEndpoints e;
  e.mqtt = port("mqtt");
  e.tls = port("tls");
  e.http = port("http");
  e.https = port("https");
  if (const auto hub = txt.find("hub"); hub != txt.end()) e.hub_host = hub->second;
  return e;
}

std::optional<AnnounceMode> parse_announce_mode(std::string_view text) {
  if (text == "auto") return AnnounceMode::automatic;
  if (text == "on") return AnnounceMode::on;
  if (text == "off") return AnnounceMode::off;
  return std::nullopt;
}

std::optional<HubEndpoints> plan_endpoints(AnnounceMode mode,
                                           const std::vector<Listener>& listeners,
                                           std::string hub_host) {
  if (mode == AnnounceMode::off) return std::nullopt;
  const bool loopback_too = mode == AnnounceMode::on;
  HubEndpoints e;
  e.mqtt = pick(listeners, "tcp", loopback_too);
  e.tls = pick(listeners, "tls", loopback_too);
  if (!e.mqtt && !e.tls) return std::nullopt;
  e.http = pick(listeners, "http", loopback_too);
  e.https = pick(listeners, "https", loopback_too);
  e.hub_host = std::move(hub_host);
  return e;
}

std::string local_host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  std::string host = name;
  return host.substr(0, host.find('.'));
}

std::optional<ServiceRecord> hub_record(AnnounceMode mode, std::string_view instance_pattern,
                                        std::string_view host_name,
                                        const std::vector<Listener>& listeners,
                                        std::string hub_host) {
  const auto endpoints = plan_endpoints(mode, listeners, std::move(hub_host));
  if (!endpoints) return std::nullopt;
  return service_record(instance_name(instance_pattern, host_name), *endpoints);
}

}  // namespace allscene::discovery
