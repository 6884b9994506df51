// Browses one DNS-SD service type (e.g. _allscene._tcp) on every
// multicast-capable interface through avahi-core (see announcer.hpp) and
// resolves each instance found to its host name, addresses, port and TXT.
// It publishes nothing.
//
// Threading: the mDNS stack runs on a thread of its own; services() may be
// called from any thread and returns a snapshot.
// Errors: std::error_code of the "mdns" category (mdns.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace allscene::discovery {

struct BrowseOptions {
  bool ipv4 = true;
  bool ipv6 = true;
};

// One service instance, merged over the interfaces and IP versions it was
// seen on.
struct FoundService {
  std::string instance;                // "allscene on kitchen"
  std::string domain;                  // "local"
  std::string host;                    // the SRV target, "kitchen.local"
  std::vector<std::string> addresses;  // IPv4 first; link-local IPv6 with "%interface"
  std::uint16_t port = 0;              // the SRV port
  std::vector<std::string> txt;        // the TXT strings as received
};

class Browser {
 public:
  // Opens the mDNS sockets and starts browsing `type` in the background.
  // Returns nullptr and sets `ec` when the stack cannot start.
  static std::unique_ptr<Browser> start(std::string_view type, const BrowseOptions& options,
                                        std::error_code& ec);
  ~Browser();  // stops and joins the mDNS thread
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // The instances resolved so far and still present, sorted by instance name.
  std::vector<FoundService> services() const;

 private:
  struct State;
  explicit Browser(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Browses `type` for `wait` and returns what was resolved by then. DNS-SD
// has no "that was all": answers trickle in (RFC 6762 6: responders delay
// up to 500 ms), so a shorter wait may miss slow or distant hubs.
std::vector<FoundService> browse(std::string_view type, std::chrono::milliseconds wait,
                                 const BrowseOptions& options, std::error_code& ec);

}  // namespace allscene::discovery
