// The Azure IoT Hub MQTT device topics: device twins, direct methods,
// device-to-cloud events and cloud-to-device messages. Pure naming: parse
// and build topics; what they do lives in src/twin.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "azure/azure.hpp"

namespace allscene::azure {

// What a device subscribes to for twin responses and method calls.
inline constexpr std::string_view kTwinResponses = "$iothub/twin/res/#";
inline constexpr std::string_view kMethodRequests = "$iothub/methods/POST/#";

// A twin request a device publishes, answered on twin_response_topic.
struct TwinRequest {
  enum class Kind { get, patch_reported };
  Kind kind = Kind::get;
  std::string rid;  // request id, echoed in the response
};
// "$iothub/twin/GET/?$rid=R" or "$iothub/twin/PATCH/properties/reported/?$rid=R";
// nullopt for anything else, including a request without $rid.
std::optional<TwinRequest> parse_twin_request(std::string_view topic);
// "$iothub/twin/res/{status}/?$rid=R", with "&$version=V" when given.
std::string twin_response_topic(int status, std::string_view rid,
                                std::optional<std::int64_t> version = std::nullopt);
// "$iothub/twin/PATCH/properties/desired/?$version=V": desired changes pushed.
std::string desired_patch_topic(std::int64_t version);

// Direct methods: the hub calls "$iothub/methods/POST/{name}/?$rid=R" and
// the device answers on "$iothub/methods/res/{status}/?$rid=R".
std::string method_request_topic(std::string_view name, std::string_view rid);
struct MethodResponse {
  int status = 0;
  std::string rid;
};
std::optional<MethodResponse> parse_method_response(std::string_view topic);

// Device-to-cloud: "devices/{id}/messages/events/{property bag}" (or
// "devices/{id}/modules/{module}/messages/events/…").
struct DeviceEvent {
  std::string device_id;
  std::string module_id;  // empty: the device itself
  PropertyBag properties;
};
std::optional<DeviceEvent> parse_device_event(std::string_view topic);
// Cloud-to-device: "devices/{id}/messages/devicebound/{property bag}".
std::string devicebound_topic(std::string_view device_id, const PropertyBag& properties);
struct DeviceBound {
  std::string device_id;
  PropertyBag properties;
};
// The reverse of devicebound_topic; nullopt for anything else (a bag
// holding '/' included: devicebound_topic encodes it).
std::optional<DeviceBound> parse_devicebound(std::string_view topic);

}  // namespace allscene::azure
