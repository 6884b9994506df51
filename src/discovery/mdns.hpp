// Internal to src/discovery: what the announcer and the browser share on
// top of avahi-core — the error category, the log routing and RAII owners
// of the C objects. Not for use outside this folder.
#pragma once

#include <avahi-common/thread-watch.h>
#include <avahi-core/core.h>

#include <memory>
#include <system_error>

namespace allscene::discovery::detail {

// avahi-core's error numbers (AVAHI_ERR_*, negative) as std::error_code;
// message() is avahi_strerror's.
const std::error_category& mdns_category();
std::error_code mdns_error(int avahi_error);

// avahi-core writes its progress (interfaces joined, probes, a second mDNS
// stack on the host — normal when the hub and `allscene discover` share a
// machine) to stderr from every process that embeds it. Only errors get
// through, prefixed "mdns: ". Process-wide (avahi has one log hook); the
// first Announcer or Browser installs it.
void quiet_avahi_logs();

struct PollDeleter {
  void operator()(AvahiThreadedPoll* p) const { avahi_threaded_poll_free(p); }
};
struct ServerDeleter {
  void operator()(AvahiServer* s) const { avahi_server_free(s); }
};
using PollPtr = std::unique_ptr<AvahiThreadedPoll, PollDeleter>;
using ServerPtr = std::unique_ptr<AvahiServer, ServerDeleter>;

}  // namespace allscene::discovery::detail
