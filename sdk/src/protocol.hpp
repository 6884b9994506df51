// The device side of the Azure IoT Hub MQTT topics and sign-in: what the
// SDK publishes and how it reads what the hub sends. Built on src/azure
// (URL encoding, property bags, SAS tokens); pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "allscene/device_client.hpp"

namespace allscene::sdk::detail {

inline constexpr std::string_view kApiVersion = "2021-04-12";
inline constexpr std::string_view kDesiredPatches = "$iothub/twin/PATCH/properties/desired/#";

// "{host}/{deviceId}/?api-version=2021-04-12"
std::string device_username(std::string_view host, std::string_view device_id);
// A SAS token for "{host}/devices/{deviceId}" expiring at `expiry` (unix s).
std::string device_sas_token(std::string_view host, std::string_view device_id,
                             std::string_view base64_key, std::int64_t expiry);

// "devices/{id}/messages/devicebound/#"
std::string devicebound_filter(std::string_view device_id);

// "$iothub/twin/GET/?$rid={rid}" and
// "$iothub/twin/PATCH/properties/reported/?$rid={rid}".
std::string twin_get_topic(std::string_view rid);
std::string twin_reported_topic(std::string_view rid);

// "$iothub/twin/res/{status}/?$rid={rid}[&$version={v}]".
struct TwinResponseTopic {
  int status = 0;
  std::string rid;
  std::optional<std::int64_t> version;
};
std::optional<TwinResponseTopic> parse_twin_response_topic(std::string_view topic);

// "$iothub/twin/PATCH/properties/desired/?$version={v}": v (nullopt when
// the topic is not a desired patch; a patch without $version gives 0).
std::optional<std::int64_t> parse_desired_patch_topic(std::string_view topic);

// "$iothub/methods/POST/{name}/?$rid={rid}".
struct MethodTopic {
  std::string name;
  std::string rid;
};
std::optional<MethodTopic> parse_method_topic(std::string_view topic);
// "$iothub/methods/res/{status}/?$rid={rid}"
std::string method_response_topic(int status, std::string_view rid);

// "$ecosystem/call/{device}/{method}/?$rid={rid}&$timeout={s}".
std::string ecosystem_call_topic(std::string_view device, std::string_view method,
                                 std::int64_t timeout_s, std::string_view rid);
// A device id or method name usable as one topic level: non-empty, no
// '/', '+', '#', '?', no leading '$'.
bool valid_topic_level(std::string_view level);
// "$ecosystem/res/{status}/?$rid={rid}" (and "$services/res/…"): status and rid.
struct ResponseTopic {
  int status = 0;
  std::string rid;
};
std::optional<ResponseTopic> parse_ecosystem_response_topic(std::string_view topic);
inline constexpr std::string_view kEcosystemResponses = "$ecosystem/res/#";
// "$services/{service}/{operation}/?$rid={rid}" (docs/protocol.md, "Cloud
// services"), answered on "$services/res/{status}/?$rid={rid}".
std::string service_call_topic(std::string_view service, std::string_view operation,
                               std::string_view rid);
std::optional<ResponseTopic> parse_service_response_topic(std::string_view topic);
inline constexpr std::string_view kServiceResponses = "$services/res/#";
// The call target that is the hub itself ("$ecosystem/call/$hub/whoami").
inline constexpr std::string_view kHubTarget = "$hub";

// "devices/{id}/messages/events/{bag}": system properties first ("$.mid",
// "$.ct", "$.ce", keys literal as Azure writes them), then the
// application properties, every value URL-encoded.
std::string event_topic(std::string_view device_id, const Event& event);
// The properties of "devices/{id}/messages/devicebound/{bag}"; nullopt
// for another topic or a malformed bag.
std::optional<Properties> parse_devicebound_topic(std::string_view topic,
                                                  std::string_view device_id);

// The body of a twin GET response: {"desired":{…,"$version":n},
// "reported":{…,"$version":m}}; nullopt if it is not of that shape.
std::optional<Twin> parse_twin_document(std::string_view body);
// A desired patch body without its "$version" (nullopt if not an object).
std::optional<nlohmann::json> parse_desired_patch(std::string_view body);

}  // namespace allscene::sdk::detail
