#include "allscene/discovery.hpp"

#include "discovery/browser.hpp"
#include "discovery/service.hpp"

namespace allscene::sdk {

std::vector<DiscoveredHub> discover_hubs(std::chrono::milliseconds wait,
                                         const DiscoverOptions& options, std::error_code& ec) {
  const auto found = discovery::browse(discovery::kServiceType, wait,
                                       discovery::BrowseOptions{options.ipv4, options.ipv6}, ec);
  std::vector<DiscoveredHub> hubs;
  for (const auto& s : found) {
    auto txt = discovery::parse_txt(s.txt);
    const auto endpoints = discovery::hub_endpoints(txt);
    if (!endpoints) continue;
    DiscoveredHub hub;
    hub.name = s.instance;
    hub.host = s.host;
    hub.addresses = s.addresses;
    hub.port = s.port;
    hub.mqtt_port = endpoints->mqtt;
    hub.tls_port = endpoints->tls;
    hub.http_port = endpoints->http;
    hub.https_port = endpoints->https;
    hub.hub_host = endpoints->hub_host;
    hub.txt = std::move(txt);
    hubs.push_back(std::move(hub));
  }
  return hubs;
}

}  // namespace allscene::sdk
