// Finding allscene hubs on the local network: DNS-SD over multicast DNS
// (RFC 6762/6763), service type _allscene._tcp. A hub announces itself when
// it listens on a non-loopback address (docs/discovery.md); this browses
// for such announcements.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace allscene::sdk {

struct DiscoveredHub {
  std::string name;                         // DNS-SD instance name, e.g. "allscene on kitchen"
  std::string host;                         // its mDNS host name, e.g. "kitchen.local"
  std::vector<std::string> addresses;       // IPv4 first; link-local IPv6 as "fe80::1%eth0"
  std::uint16_t port = 0;                   // the SRV port: mqtt_port if set, else tls_port
  std::optional<std::uint16_t> mqtt_port;   // MQTT over TCP
  std::optional<std::uint16_t> tls_port;    // MQTT over TLS
  std::optional<std::uint16_t> http_port;   // REST API, HTTP
  std::optional<std::uint16_t> https_port;  // REST API, HTTPS
  // The name SAS tokens and device usernames must carry (the hub's [auth]
  // hub_host); empty when the hub accepts any.
  std::string hub_host;
  std::map<std::string, std::string> txt;  // every TXT key (lower-case) and value
};

struct DiscoverOptions {
  bool ipv4 = true;
  bool ipv6 = true;
};

// Listens for `wait` and returns the hubs that answered, sorted by name.
// Blocks the calling thread for `wait` (the mDNS stack runs on a thread of
// its own, which is gone when this returns); safe to call from several
// threads at once. Announcements of _allscene._tcp with a TXT key set of
// another version (v= other than 1) are left out. DNS-SD never says "that
// was all": hubs answer within about a second, so a `wait` under 1 s may
// miss some.
//
// On failure returns nothing and sets `ec` (category "mdns", messages from
// the mDNS stack), e.g. when no multicast socket could be opened on UDP
// port 5353; finding no hub is not an error.
std::vector<DiscoveredHub> discover_hubs(std::chrono::milliseconds wait,
                                         const DiscoverOptions& options, std::error_code& ec);

}  // namespace allscene::sdk
