// What an allscene hub announces over DNS-SD (RFC 6763) and how a browser
// reads it back: the service type, the TXT keys, the instance name, and the
// decision whether to announce at all. Pure functions; no sockets, no mDNS
// library (announcer.hpp and browser.hpp do the network part).
//
// TXT keys (docs/discovery.md):
//   v=1           version of this key set; browsers ignore records with another
//   mqtt=PORT     plain MQTT over TCP
//   tls=PORT      MQTT over TLS (absent: none)
//   http=PORT     REST API over plain HTTP (absent: none or HTTPS)
//   https=PORT    REST API over HTTPS
//   hub=NAME      the host name SAS tokens and device usernames must name
//                 ([auth] hub_host); absent when the hub accepts any
// The SRV record carries the MQTT port (mqtt= when there is one, else tls=).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace allscene::discovery {

inline constexpr std::string_view kServiceType = "_allscene._tcp";
inline constexpr std::string_view kTxtVersion = "1";
inline constexpr std::string_view kDefaultInstance = "allscene on {hostname}";

// A DNS label (and so an instance name) holds at most 63 bytes (RFC 1035 2.3.4).
inline constexpr std::size_t kMaxInstanceBytes = 63;

// The ports and names a hub tells the network about.
struct HubEndpoints {
  std::optional<std::uint16_t> mqtt;
  std::optional<std::uint16_t> tls;
  std::optional<std::uint16_t> http;
  std::optional<std::uint16_t> https;
  std::string hub_host;  // "" : no hub= key
};

// One DNS-SD service instance: what is registered, and what is browsed.
struct ServiceRecord {
  std::string instance;          // "allscene on kitchen"
  std::uint16_t port = 0;        // the SRV port
  std::vector<std::string> txt;  // "key=value" strings, in order
};

// `pattern` with every "{hostname}" replaced by `host_name`, cut to
// kMaxInstanceBytes without splitting a UTF-8 sequence. An empty result
// (or a pattern that is all spaces) yields "allscene".
std::string instance_name(std::string_view pattern, std::string_view host_name);

// The TXT strings for `endpoints`, in the order of the key list above.
std::vector<std::string> txt_records(const HubEndpoints& endpoints);

// The record a hub registers, or nullopt when it has neither a plain nor a
// TLS MQTT port (WebSocket-only hubs are not announced: no SRV port fits).
std::optional<ServiceRecord> service_record(std::string instance, const HubEndpoints& endpoints);

// TXT strings as a map, by RFC 6763 6.3-6.5: keys compared without case
// (stored lower-case), the first occurrence of a key wins, a string without
// '=' is a key with an empty value, a string starting with '=' is skipped.
std::map<std::string, std::string> parse_txt(const std::vector<std::string>& txt);

// A TXT port value: decimal 1-65535, nothing else; nullopt otherwise.
std::optional<std::uint16_t> parse_port(std::string_view text);

// The inverse of txt_records: what a browser learns about a hub. nullopt
// when v= is missing or not kTxtVersion (a future, incompatible key set).
std::optional<HubEndpoints> hub_endpoints(const std::map<std::string, std::string>& txt);

// [discovery] announce.
enum class AnnounceMode { automatic, on, off };

// "auto" | "on" | "off"; nullopt otherwise.
std::optional<AnnounceMode> parse_announce_mode(std::string_view text);

// A bound listener, as the announcement decision needs it.
struct Listener {
  std::string address;  // the configured bind address, e.g. "0.0.0.0"
  std::uint16_t port = 0;
  std::string transport;  // MQTT: tcp | tls | ws | wss; REST API: http | https
};

// What the hub should announce given its mode and bound listeners, or
// nullopt for nothing. automatic announces only listeners on non-loopback
// addresses (a loopback-only hub is unreachable from any other machine);
// on also takes loopback listeners, preferring non-loopback ones; off
// announces nothing. The REST endpoint is announced only along with an
// MQTT port; ws and wss listeners are not announced.
std::optional<HubEndpoints> plan_endpoints(AnnounceMode mode,
                                           const std::vector<Listener>& listeners,
                                           std::string hub_host);

// The machine's host name up to its first dot (gethostname(2)); "" when
// there is none.
std::string local_host_name();

// The record a hub with `listeners` registers, if any: plan_endpoints,
// then instance_name(instance_pattern, host_name), then service_record.
std::optional<ServiceRecord> hub_record(AnnounceMode mode, std::string_view instance_pattern,
                                        std::string_view host_name,
                                        const std::vector<Listener>& listeners,
                                        std::string hub_host);

}  // namespace allscene::discovery
