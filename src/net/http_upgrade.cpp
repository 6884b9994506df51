#include "net/http_upgrade.hpp"

namespace allscene::net {

std::string_view request_path(std::string_view target) {
  return target.substr(0, target.find('?'));
}

bool lists_subprotocol(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == name) return true;
  }
  return false;
}

}  // namespace allscene::net
