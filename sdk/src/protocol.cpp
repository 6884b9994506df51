#include "protocol.hpp"

#include <charconv>

#include "azure/azure.hpp"
#include "azure/topics.hpp"

namespace allscene::sdk::detail {
namespace {

constexpr std::string_view kTwinResponse = "$iothub/twin/res/";
constexpr std::string_view kDesiredPatch = "$iothub/twin/PATCH/properties/desired/";
constexpr std::string_view kMethodRequest = "$iothub/methods/POST/";
constexpr std::string_view kEcosystemResponse = "$ecosystem/res/";
constexpr std::string_view kServiceResponse = "$services/res/";

template <class Int>
std::optional<Int> to_int(std::string_view text) {
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The decoded query "?k=v&…" that ends a topic.
std::optional<azure::PropertyBag> query(std::string_view text) {
  if (!text.starts_with('?')) return std::nullopt;
  return azure::parse_property_bag(text.substr(1));
}

const std::string* find(const azure::PropertyBag& bag, std::string_view key) {
  for (const auto& [k, v] : bag) {
    if (k == key) return &v;
  }
  return nullptr;
}

// Splits "{level}/{rest}" after `prefix`.
std::optional<std::pair<std::string_view, std::string_view>> level_and_rest(
    std::string_view topic, std::string_view prefix) {
  if (!topic.starts_with(prefix)) return std::nullopt;
  topic.remove_prefix(prefix.size());
  const std::size_t slash = topic.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  return std::pair{topic.substr(0, slash), topic.substr(slash + 1)};
}

std::optional<std::int64_t> take_version(nlohmann::json& section) {
  if (!section.is_object()) return std::nullopt;
  std::int64_t version = 0;
  const auto it = section.find("$version");
  if (it != section.end()) {
    if (!it->is_number_integer()) return std::nullopt;
    version = it->get<std::int64_t>();
    section.erase(it);
  }
  return version;
}

// "{prefix}{status}/?$rid={rid}": status and rid.
std::optional<ResponseTopic> parse_response_topic(std::string_view topic, std::string_view prefix) {
  const auto parts = level_and_rest(topic, prefix);
  if (!parts) return std::nullopt;
  const auto status = to_int<int>(parts->first);
  const auto bag = query(parts->second);
  if (!status || !bag) return std::nullopt;
  const std::string* rid = find(*bag, "$rid");
  if (rid == nullptr || rid->empty()) return std::nullopt;
  return ResponseTopic{*status, *rid};
}

}  // namespace

std::string device_username(std::string_view host, std::string_view device_id) {
  std::string u(host);
  u += '/';
  u += device_id;
  u += "/?api-version=";
  u += kApiVersion;
  return u;
}

std::string device_sas_token(std::string_view host, std::string_view device_id,
                             std::string_view base64_key, std::int64_t expiry) {
  std::string resource(host);
  resource += "/devices/";
  resource += device_id;
  return azure::make_sas_token(resource, base64_key, expiry);
}

std::string devicebound_filter(std::string_view device_id) {
  return azure::device_bound_prefix(device_id) + "#";
}

// "$rid=" is written literally, as the hub writes it; only values are encoded.
std::string twin_get_topic(std::string_view rid) {
  return "$iothub/twin/GET/?$rid=" + azure::url_encode(rid);
}

std::string twin_reported_topic(std::string_view rid) {
  return "$iothub/twin/PATCH/properties/reported/?$rid=" + azure::url_encode(rid);
}

std::optional<TwinResponseTopic> parse_twin_response_topic(std::string_view topic) {
  const auto parts = level_and_rest(topic, kTwinResponse);
  if (!parts) return std::nullopt;
  TwinResponseTopic r;
  const auto status = to_int<int>(parts->first);
  const auto bag = query(parts->second);
  if (!status || !bag) return std::nullopt;
  r.status = *status;
  const std::string* rid = find(*bag, "$rid");
  if (rid == nullptr || rid->empty()) return std::nullopt;
  r.rid = *rid;
  if (const std::string* v = find(*bag, "$version")) {
    r.version = to_int<std::int64_t>(*v);
    if (!r.version) return std::nullopt;
  }
  return r;
}

std::string ecosystem_call_topic(std::string_view device, std::string_view method,
                                 std::int64_t timeout_s, std::string_view rid) {
  std::string t = "$ecosystem/call/";
  t.append(device).append("/").append(method).append("/?$rid=").append(rid);
  t.append("&$timeout=").append(std::to_string(timeout_s));
  return t;
}

bool valid_topic_level(std::string_view level) {
  return !level.empty() && !level.starts_with('$') &&
         level.find_first_of("/+#?") == std::string_view::npos;
}

std::string service_call_topic(std::string_view service, std::string_view operation,
                               std::string_view rid) {
  std::string t = "$services/";
  t.append(service).append("/").append(operation).append("/?$rid=").append(rid);
  return t;
}

std::optional<ResponseTopic> parse_service_response_topic(std::string_view topic) {
  return parse_response_topic(topic, kServiceResponse);
}

std::optional<ResponseTopic> parse_ecosystem_response_topic(std::string_view topic) {
  return parse_response_topic(topic, kEcosystemResponse);
}

std::optional<std::int64_t> parse_desired_patch_topic(std::string_view topic) {
  if (!topic.starts_with(kDesiredPatch)) return std::nullopt;
  topic.remove_prefix(kDesiredPatch.size());
  if (topic.empty()) return 0;
  const auto bag = query(topic);
  if (!bag) return std::nullopt;
  const std::string* v = find(*bag, "$version");
  if (v == nullptr) return 0;
  return to_int<std::int64_t>(*v);
}

std::optional<MethodTopic> parse_method_topic(std::string_view topic) {
  const auto parts = level_and_rest(topic, kMethodRequest);
  if (!parts) return std::nullopt;
  auto name = azure::url_decode(parts->first);
  const auto bag = query(parts->second);
  if (!name || !bag) return std::nullopt;
  const std::string* rid = find(*bag, "$rid");
  if (rid == nullptr || rid->empty()) return std::nullopt;
  return MethodTopic{std::move(*name), *rid};
}

std::string method_response_topic(int status, std::string_view rid) {
  return "$iothub/methods/res/" + std::to_string(status) + "/?$rid=" + azure::url_encode(rid);
}

std::string event_topic(std::string_view device_id, const Event& event) {
  std::string topic = azure::device_events_prefix(device_id);
  std::string bag;
  auto add_system = [&](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    if (!bag.empty()) bag += '&';
    bag += key;
    bag += '=';
    bag += azure::url_encode(value);
  };
  add_system("$.mid", event.message_id);
  add_system("$.ct", event.content_type);
  add_system("$.ce", event.content_encoding);
  const std::string app = azure::format_property_bag(event.properties);
  if (!app.empty() && !bag.empty()) bag += '&';
  bag += app;
  return topic + bag;
}

std::optional<Properties> parse_devicebound_topic(std::string_view topic,
                                                  std::string_view device_id) {
  auto bound = azure::parse_devicebound(topic);
  if (!bound || bound->device_id != device_id) return std::nullopt;
  return std::move(bound->properties);
}

std::optional<Twin> parse_twin_document(std::string_view body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  Twin twin;
  if (doc.contains("desired")) twin.desired = std::move(doc["desired"]);
  if (doc.contains("reported")) twin.reported = std::move(doc["reported"]);
  const auto dv = take_version(twin.desired);
  const auto rv = take_version(twin.reported);
  if (!dv || !rv) return std::nullopt;
  twin.desired_version = *dv;
  twin.reported_version = *rv;
  return twin;
}

std::optional<nlohmann::json> parse_desired_patch(std::string_view body) {
  auto patch = nlohmann::json::parse(body, nullptr, false);
  if (patch.is_discarded() || !patch.is_object()) return std::nullopt;
  patch.erase("$version");
  return patch;
}

}  // namespace allscene::sdk::detail
