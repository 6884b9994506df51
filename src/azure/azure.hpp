// Pure naming of the Azure IoT Hub device protocol over MQTT: the sign-in
// username, shared access signature (SAS) tokens and the device topics.
// No I/O and no state; every function is safe to call from any thread.
//
// Error style of this layer: parsers return std::nullopt for input that is
// not of the expected form; nothing here throws except std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace allscene::azure {

// The MQTT username of an Azure device:
// "{host}/{deviceId}/?api-version=2021-04-12&DeviceClientType=...".
// The legacy form without '?' ("{host}/{deviceId}/api-version=...") and an
// empty query ("{host}/{deviceId}/") are accepted too. The module form
// ("{host}/{deviceId}/{moduleId}/?...") is not a device username.
struct DeviceUsername {
  std::string host;
  std::string device_id;
  std::string api_version;  // may be empty if absent
  std::vector<std::pair<std::string, std::string>>
      params;  // every query parameter, decoded, in order
};
std::optional<DeviceUsername> parse_device_username(std::string_view username);

// "SharedAccessSignature sr={url-encoded resource}&sig={url-encoded base64}
// &se={unix seconds}[&skn={policy}]", fields in any order, each at most once;
// unknown fields make the token invalid.
struct SasToken {
  std::string resource;      // decoded, e.g. "myhub.example/devices/dev1"
  std::string signature;     // decoded base64
  std::int64_t expiry = 0;   // unix seconds
  std::string key_name;      // skn, may be empty
  std::string resource_raw;  // sr exactly as the client wrote it (still encoded)
};
std::optional<SasToken> parse_sas_token(std::string_view text);

// Azure's signature: base64(HMAC-SHA256(key = base64-decoded `base64_key`,
// data = url_encode(resource) + "\n" + expiry)). nullopt if the key is empty
// or not valid base64 (original alphabet, padded).
std::optional<std::string> sas_signature(std::string_view resource, std::int64_t expiry,
                                         std::string_view base64_key);
// A complete token; an invalid key yields a token whose signature is empty
// (which no key verifies).
std::string make_sas_token(std::string_view resource, std::string_view base64_key,
                           std::int64_t expiry, std::string_view key_name = "");

// True when `token` is signed by `base64_key`. The signature is compared in
// constant time. Clients differ in how they percent-encode the resource
// before signing (upper- or lower-case hex, or not at all), so the string
// signed may be url_encode(resource) or the sr field exactly as sent; both
// decode to the same resource, which the caller checks for scope.
bool sas_signed_by(const SasToken& token, std::string_view base64_key);

// A token for a device is scoped to "{host}/devices/{deviceId}" (a trailing
// "/" and a "/modules/..." suffix are NOT accepted for a device). The device
// id is compared exactly; the two-argument form accepts any non-empty host,
// the three-argument form compares the host case-insensitively.
bool sas_resource_is_device(const SasToken& token, std::string_view device_id);
bool sas_resource_is_device(const SasToken& token, std::string_view device_id,
                            std::string_view host);

// Equal length and equal bytes, in time that depends only on the length.
bool constant_time_equal(std::string_view a, std::string_view b);

// RFC 3986 unreserved characters kept, everything else %XX upper-case.
std::string url_encode(std::string_view text);
// '+' stays '+'; a malformed '%' escape yields nullopt.
std::optional<std::string> url_decode(std::string_view text);

// Standard base64 (original alphabet, padded), as Azure uses for keys and
// signatures. decode yields nullopt for anything else.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// A property bag: "k=v&k2=v2", keys and values URL-encoded (Azure's
// message properties in topics, and query strings). Parsing decodes and
// keeps the order; nullopt on a malformed escape.
using PropertyBag = std::vector<std::pair<std::string, std::string>>;
std::optional<PropertyBag> parse_property_bag(std::string_view text);
std::string format_property_bag(const PropertyBag& bag);

// Device topic prefixes.
std::string device_events_prefix(std::string_view device_id);  // "devices/{id}/messages/events/"
std::string device_bound_prefix(
    std::string_view device_id);  // "devices/{id}/messages/devicebound/"

}  // namespace allscene::azure
