#include "discovery/browser.hpp"

#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/strlst.h>
#include <avahi-core/lookup.h>
#include <net/if.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "discovery/mdns.hpp"

namespace allscene::discovery {
namespace {

struct ResolverDeleter {
  void operator()(AvahiSServiceResolver* r) const { avahi_s_service_resolver_free(r); }
};
struct ServiceBrowserDeleter {
  void operator()(AvahiSServiceBrowser* b) const { avahi_s_service_browser_free(b); }
};

// One sighting: an instance on one interface and IP version.
struct Key {
  AvahiIfIndex interface;
  AvahiProtocol protocol;
  std::string instance, type, domain;
  auto operator<=>(const Key&) const = default;
};

struct Resolved {
  std::string host;
  std::string address;
  std::uint16_t port = 0;
  std::vector<std::string> txt;
};

std::string address_text(const AvahiAddress& a, AvahiIfIndex interface) {
  char text[AVAHI_ADDRESS_STR_MAX];
  avahi_address_snprint(text, sizeof text, &a);
  std::string s = text;
  // fe80::/10 is only usable with its interface (RFC 4007 11).
  if (a.proto == AVAHI_PROTO_INET6 && a.data.ipv6.address[0] == 0xfe &&
      (a.data.ipv6.address[1] & 0xc0) == 0x80) {
    char name[IF_NAMESIZE];
    if (interface >= 0 && if_indextoname(static_cast<unsigned>(interface), name)) {
      s += '%';
      s += name;
    }
  }
  return s;
}

std::vector<std::string> txt_strings(AvahiStringList* list) {
  std::vector<std::string> txt;
  for (auto* l = list; l; l = avahi_string_list_get_next(l)) {
    const auto* text = reinterpret_cast<const char*>(avahi_string_list_get_text(l));
    txt.emplace_back(text, avahi_string_list_get_size(l));
  }
  return txt;
}

}  // namespace

struct Browser::State {
  BrowseOptions options;
  std::string type;
  mutable std::mutex mutex;
  std::map<Key, Resolved> found;  // guarded by mutex
  // Destroyed bottom-up: resolvers and the browser before the server,
  // the server before the poll. ~Browser stops the poll thread first.
  detail::PollPtr poll;
  detail::ServerPtr server;
  std::unique_ptr<AvahiSServiceBrowser, ServiceBrowserDeleter> browser;
  std::map<Key, std::unique_ptr<AvahiSServiceResolver, ResolverDeleter>> resolvers;  // poll thread

  bool wanted(AvahiProtocol p) const {
    return (p == AVAHI_PROTO_INET && options.ipv4) || (p == AVAHI_PROTO_INET6 && options.ipv6);
  }

  static void on_browse(AvahiSServiceBrowser*, AvahiIfIndex interface, AvahiProtocol protocol,
                        AvahiBrowserEvent event, const char* name, const char* type,
                        const char* domain, AvahiLookupResultFlags, void* data) {
    auto* self = static_cast<State*>(data);
    if (event != AVAHI_BROWSER_NEW && event != AVAHI_BROWSER_REMOVE) return;
    if (!self->wanted(protocol)) return;
    Key key{interface, protocol, name, type, domain};
    if (event == AVAHI_BROWSER_REMOVE) {
      self->resolvers.erase(key);
      std::lock_guard lock(self->mutex);
      self->found.erase(key);
      return;
    }
    if (self->resolvers.count(key)) return;
    // The resolver stays until the instance goes: it reports changes (a
    // new port or TXT) as further FOUND events.
    auto* r = avahi_s_service_resolver_new(self->server.get(), interface, protocol, name, type,
                                           domain, protocol, static_cast<AvahiLookupFlags>(0),
                                           &State::on_resolve, self);
    if (r) self->resolvers.emplace(std::move(key), r);
  }

  static void on_resolve(AvahiSServiceResolver*, AvahiIfIndex interface, AvahiProtocol protocol,
                         AvahiResolverEvent event, const char* name, const char* type,
                         const char* domain, const char* host_name, const AvahiAddress* a,
                         uint16_t port, AvahiStringList* txt, AvahiLookupResultFlags, void* data) {
    auto* self = static_cast<State*>(data);
    Key key{interface, protocol, name, type, domain};
    std::lock_guard lock(self->mutex);
    if (event != AVAHI_RESOLVER_FOUND || !a) {
      // Timed out or failed: the instance is not (or no longer) reachable.
      self->found.erase(key);
      return;
    }
    self->found[std::move(key)] =
        Resolved{host_name, address_text(*a, interface), port, txt_strings(txt)};
  }
};

std::unique_ptr<Browser> Browser::start(std::string_view type, const BrowseOptions& options,
                                        std::error_code& ec) {
  detail::quiet_avahi_logs();
  auto state = std::make_unique<State>();
  state->options = options;
  state->type = type;
  state->poll.reset(avahi_threaded_poll_new());
  if (!state->poll) {
    ec = detail::mdns_error(AVAHI_ERR_NO_MEMORY);
    return nullptr;
  }
  AvahiServerConfig config;
  avahi_server_config_init(&config);
  // A browser only asks: it must not claim a host name or answer anything.
  config.disable_publishing = 1;
  config.publish_hinfo = 0;
  config.publish_addresses = 0;
  config.publish_workstation = 0;
  config.publish_domain = 0;
  config.use_ipv4 = options.ipv4;
  config.use_ipv6 = options.ipv6;
  int error = AVAHI_OK;
  state->server.reset(avahi_server_new(avahi_threaded_poll_get(state->poll.get()), &config, nullptr,
                                       nullptr, &error));
  avahi_server_config_free(&config);
  if (!state->server) {
    ec = detail::mdns_error(error);
    return nullptr;
  }
  // Before the poll thread starts: no lock needed yet.
  state->browser.reset(avahi_s_service_browser_new(
      state->server.get(), AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, state->type.c_str(), nullptr,
      static_cast<AvahiLookupFlags>(0), &State::on_browse, state.get()));
  if (!state->browser) {
    ec = detail::mdns_error(avahi_server_errno(state->server.get()));
    return nullptr;
  }
  if (avahi_threaded_poll_start(state->poll.get()) < 0) {
    ec = detail::mdns_error(AVAHI_ERR_FAILURE);
    return nullptr;
  }
  ec.clear();
  return std::unique_ptr<Browser>(new Browser(std::move(state)));
}

Browser::Browser(std::unique_ptr<State> state) : state_(std::move(state)) {}

Browser::~Browser() {
  avahi_threaded_poll_stop(state_->poll.get());
  state_->resolvers.clear();
  state_->browser.reset();
  state_->server.reset();
}

std::vector<FoundService> Browser::services() const {
  std::map<std::pair<std::string, std::string>, FoundService> merged;
  {
    std::lock_guard lock(state_->mutex);
    // Keys are ordered by interface, then protocol (IPv4 before IPv6):
    // host, port and TXT come from the first sighting in that order.
    for (const auto& [key, r] : state_->found) {
      auto [it, fresh] = merged.try_emplace({key.instance, key.domain});
      auto& s = it->second;
      if (fresh) s = FoundService{key.instance, key.domain, r.host, {}, r.port, r.txt};
      if (std::find(s.addresses.begin(), s.addresses.end(), r.address) == s.addresses.end()) {
        s.addresses.push_back(r.address);
      }
    }
  }
  std::vector<FoundService> out;
  for (auto& [key, s] : merged) {
    std::stable_partition(s.addresses.begin(), s.addresses.end(),
                          [](const std::string& a) { return a.find(':') == std::string::npos; });
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<FoundService> browse(std::string_view type, std::chrono::milliseconds wait,
                                 const BrowseOptions& options, std::error_code& ec) {
  auto browser = Browser::start(type, options, ec);
  if (!browser) return {};
  std::this_thread::sleep_for(wait);
  return browser->services();
}

}  // namespace allscene::discovery
