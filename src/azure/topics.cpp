#include "azure/topics.hpp"

#include <charconv>

namespace allscene::azure {

namespace {

constexpr std::string_view kTwinGet = "$iothub/twin/GET/";
constexpr std::string_view kTwinPatchReported = "$iothub/twin/PATCH/properties/reported/";
constexpr std::string_view kMethodResponse = "$iothub/methods/res/";

// The value of `key` in "?k=v&…" (the part of a topic after its last '/').
std::optional<std::string> query_value(std::string_view query, std::string_view key) {
  if (!query.starts_with('?')) return std::nullopt;
  const auto bag = parse_property_bag(query.substr(1));
  if (!bag) return std::nullopt;
  for (const auto& [k, v] : *bag) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::optional<std::string> rid_of(std::string_view query) {
  auto rid = query_value(query, "$rid");
  if (!rid || rid->empty()) return std::nullopt;
  return rid;
}

std::optional<int> status_of(std::string_view text) {
  int status = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), status);
  if (ec != std::errc() || end != text.data() + text.size() || status < 100 || status > 599) {
    return std::nullopt;
  }
  return status;
}

}  // namespace

std::optional<TwinRequest> parse_twin_request(std::string_view topic) {
  TwinRequest r;
  std::string_view query;
  if (topic.starts_with(kTwinGet)) {
    r.kind = TwinRequest::Kind::get;
    query = topic.substr(kTwinGet.size());
  } else if (topic.starts_with(kTwinPatchReported)) {
    r.kind = TwinRequest::Kind::patch_reported;
    query = topic.substr(kTwinPatchReported.size());
  } else {
    return std::nullopt;
  }
  auto rid = rid_of(query);
  if (!rid) return std::nullopt;
  r.rid = std::move(*rid);
  return r;
}

// Twin and method topics carry "$rid=" and "$version=" literally (the
// device SDKs look for those strings); only the values are encoded.
std::string twin_response_topic(int status, std::string_view rid,
                                std::optional<std::int64_t> version) {
  std::string topic = "$iothub/twin/res/" + std::to_string(status) + "/?$rid=" + url_encode(rid);
  if (version) topic += "&$version=" + std::to_string(*version);
  return topic;
}

std::string desired_patch_topic(std::int64_t version) {
  return "$iothub/twin/PATCH/properties/desired/?$version=" + std::to_string(version);
}

std::string method_request_topic(std::string_view name, std::string_view rid) {
  return "$iothub/methods/POST/" + url_encode(name) + "/?$rid=" + url_encode(rid);
}

std::optional<MethodResponse> parse_method_response(std::string_view topic) {
  if (!topic.starts_with(kMethodResponse)) return std::nullopt;
  topic.remove_prefix(kMethodResponse.size());
  const std::size_t slash = topic.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto status = status_of(topic.substr(0, slash));
  auto rid = rid_of(topic.substr(slash + 1));
  if (!status || !rid) return std::nullopt;
  return MethodResponse{*status, std::move(*rid)};
}

namespace {

// Takes "devices/{id}/" off the front of `topic`; the id, or nullopt.
std::optional<std::string> take_device(std::string_view& topic) {
  constexpr std::string_view kDevices = "devices/";
  if (!topic.starts_with(kDevices)) return std::nullopt;
  topic.remove_prefix(kDevices.size());
  const std::size_t slash = topic.find('/');
  if (slash == 0 || slash == std::string_view::npos) return std::nullopt;
  std::string id(topic.substr(0, slash));
  topic.remove_prefix(slash + 1);
  return id;
}

}  // namespace

std::optional<DeviceEvent> parse_device_event(std::string_view topic) {
  constexpr std::string_view kEvents = "messages/events/";
  DeviceEvent e;
  auto device = take_device(topic);
  if (!device) return std::nullopt;
  e.device_id = std::move(*device);
  constexpr std::string_view kModules = "modules/";
  if (topic.starts_with(kModules)) {
    topic.remove_prefix(kModules.size());
    const std::size_t end = topic.find('/');
    if (end == 0 || end == std::string_view::npos) return std::nullopt;
    e.module_id = std::string(topic.substr(0, end));
    topic.remove_prefix(end + 1);
  }
  if (!topic.starts_with(kEvents)) return std::nullopt;
  topic.remove_prefix(kEvents.size());
  auto bag = parse_property_bag(topic);
  if (!bag) return std::nullopt;
  e.properties = std::move(*bag);
  return e;
}

std::string devicebound_topic(std::string_view device_id, const PropertyBag& properties) {
  return device_bound_prefix(device_id) + format_property_bag(properties);
}

std::optional<DeviceBound> parse_devicebound(std::string_view topic) {
  constexpr std::string_view kBound = "messages/devicebound/";
  auto device = take_device(topic);
  if (!device || !topic.starts_with(kBound)) return std::nullopt;
  topic.remove_prefix(kBound.size());
  if (topic.find('/') != std::string_view::npos) return std::nullopt;
  auto bag = parse_property_bag(topic);
  if (!bag) return std::nullopt;
  return DeviceBound{std::move(*device), std::move(*bag)};
}

}  // namespace allscene::azure
