// Announces one DNS-SD service (service.hpp's ServiceRecord, type
// _allscene._tcp) on every multicast-capable interface through avahi-core,
// Avahi's embeddable mDNS stack: no avahi-daemon, no D-Bus. It probes for
// the name, renames on a conflict (RFC 6762 9: "allscene on kitchen #2"),
// answers queries, follows interfaces coming and going, and sends goodbye
// packets when destroyed.
//
// Threading: the mDNS stack runs on a thread of its own (Avahi's threaded
// poll); nothing here touches the caller's event loops. The handler runs on
// that thread and must not block. instance() may be called from any thread.
// Errors: std::error_code of the "mdns" category (mdns.hpp).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "discovery/service.hpp"

namespace allscene::discovery {

class Announcer {
 public:
  enum class Event {
    established,  // the name is ours and announced; detail: the instance name
    renamed,      // a conflict; detail: the new instance (or host) name, being probed
    failed,       // the stack gave up; detail: why. Nothing is announced any more.
  };
  using Handler = std::function<void(Event, const std::string& detail)>;

  // Opens the mDNS sockets and starts announcing `record` in the
  // background. Returns nullptr and sets `ec` when the stack cannot start
  // (e.g. no socket on UDP 5353 could be opened).
  static std::unique_ptr<Announcer> start(ServiceRecord record, Handler handler,
                                          std::error_code& ec);

  // Withdraws the service (goodbye packets) and joins the mDNS thread.
  ~Announcer();
  Announcer(const Announcer&) = delete;
  Announcer& operator=(const Announcer&) = delete;

  // The instance name now announced or being probed (changes on a conflict).
  std::string instance() const;

 private:
  struct State;
  explicit Announcer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace allscene::discovery
