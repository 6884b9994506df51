// Azure IoT Hub device connection strings:
// "HostName={host};DeviceId={id};SharedAccessKey={base64 key}", or with
// "x509=true" instead of a key for a device that signs in with a client
// certificate. Keys are case-sensitive, as Azure's; pairs may come in any
// order; "GatewayHostName" (where to connect, when not HostName) and
// "SharedAccessKeyName" are kept; other keys make the string invalid.
// Pure functions, safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace allscene::sdk {

struct ConnectionString {
  std::string host_name;  // names the hub in the username and the SAS resource
  std::string device_id;
  std::string shared_access_key;  // base64; empty with x509
  std::string shared_access_key_name;
  std::string gateway_host_name;  // empty: connect to host_name
  bool x509 = false;
};

// Errc::invalid_connection_string for a malformed string, a missing
// HostName or DeviceId, a duplicate key, or neither a key nor x509=true (or
// both); Errc::invalid_key for a key that is not base64.
std::optional<ConnectionString> parse_connection_string(std::string_view text,
                                                        std::error_code& error);

// The string form; parse_connection_string(format(cs)) gives cs back.
std::string format_connection_string(const ConnectionString& cs);

}  // namespace allscene::sdk
