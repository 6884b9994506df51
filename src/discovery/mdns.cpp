#include "discovery/mdns.hpp"

#include <avahi-common/error.h>
#include <avahi-core/log.h>

#include <cstdio>
#include <mutex>
#include <string>

namespace allscene::discovery::detail {
namespace {

class MdnsCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "mdns"; }
  std::string message(int code) const override { return avahi_strerror(code); }
};

void log_errors_only(AvahiLogLevel level, const char* text) {
  if (level == AVAHI_LOG_ERROR) std::fprintf(stderr, "mdns: %s\n", text);
}

}  // namespace

const std::error_category& mdns_category() {
  static const MdnsCategory category;
  return category;
}

std::error_code mdns_error(int avahi_error) { return {avahi_error, mdns_category()}; }

void quiet_avahi_logs() {
  static std::once_flag once;
  std::call_once(once, [] { avahi_set_log_function(log_errors_only); });
}

}  // namespace allscene::discovery::detail
