#include "allscene/connection_string.hpp"

#include "allscene/error.hpp"
#include "azure/azure.hpp"

namespace allscene::sdk {

std::optional<ConnectionString> parse_connection_string(std::string_view text,
                                                        std::error_code& error) {
  error = Errc::invalid_connection_string;
  ConnectionString cs;
  bool seen_host = false, seen_device = false, seen_key = false, seen_key_name = false,
       seen_gateway = false, seen_x509 = false;
  while (!text.empty()) {
    const std::size_t end = text.find(';');
    const std::string_view pair = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (pair.empty()) {
      if (text.empty()) break;  // one trailing ';' is tolerated
      return std::nullopt;
    }
    // Base64 keys end in '=': split at the first one.
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = pair.substr(eq + 1);
    auto take = [&](bool& seen, std::string& into) {
      if (seen) return false;
      seen = true;
      into = std::string(value);
      return true;
    };
    bool ok = false;
    if (key == "HostName") {
      ok = take(seen_host, cs.host_name);
    } else if (key == "DeviceId") {
      ok = take(seen_device, cs.device_id);
    } else if (key == "SharedAccessKey") {
      ok = take(seen_key, cs.shared_access_key);
    } else if (key == "SharedAccessKeyName") {
      ok = take(seen_key_name, cs.shared_access_key_name);
    } else if (key == "GatewayHostName") {
      ok = take(seen_gateway, cs.gateway_host_name);
    } else if (key == "x509") {
      ok = !seen_x509 && (value == "true" || value == "True");
      seen_x509 = true;
      cs.x509 = true;
    }
    if (!ok) return std::nullopt;
  }
  if (cs.host_name.empty() || cs.device_id.empty()) return std::nullopt;
  if (cs.x509 == !cs.shared_access_key.empty()) return std::nullopt;
  if (!cs.x509) {
    const auto raw = azure::base64_decode(cs.shared_access_key);
    if (!raw || raw->empty()) {
      error = Errc::invalid_key;
      return std::nullopt;
    }
  }
  error.clear();
  return cs;
}

std::string format_connection_string(const ConnectionString& cs) {
  std::string out = "HostName=" + cs.host_name + ";DeviceId=" + cs.device_id;
  if (!cs.shared_access_key_name.empty()) {
    out += ";SharedAccessKeyName=" + cs.shared_access_key_name;
  }
  if (!cs.shared_access_key.empty()) out += ";SharedAccessKey=" + cs.shared_access_key;
  if (cs.x509) out += ";x509=true";
  if (!cs.gateway_host_name.empty()) out += ";GatewayHostName=" + cs.gateway_host_name;
  return out;
}

}  // namespace allscene::sdk
