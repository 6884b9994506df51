#include "twin/twin_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <random>

#include "azure/topics.hpp"
#include "log/module_log.hpp"

namespace allscene::twin {

namespace {

using nlohmann::json;

constexpr std::string_view kCollection = "twins";
constexpr std::size_t kMaxMethodName = 128;

// Azure's etags are base64 of a 64-bit counter.
std::string etag_of(std::int64_t revision) {
  std::string bytes(8, '\0');
  for (int i = 7; i >= 0; --i, revision >>= 8) bytes[i] = static_cast<char>(revision & 0xFF);
  return azure::base64_encode(bytes);
}

std::string strip_quotes(const std::string& etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    return etag.substr(1, etag.size() - 2);
  return etag;
}

// 412 if `if_match` names an etag other than the twin's `etag`.
std::optional<Result> etag_mismatch(const std::string& device_id, const std::string& etag,
                                    const std::string& if_match) {
  const std::string wanted = strip_quotes(if_match);
  if (wanted.empty() || wanted == "*" || wanted == etag) return std::nullopt;
  return Result::error(412, fmt::format("the twin of {} changed (etag \"{}\", not \"{}\"): read "
                                        "it again and retry",
                                        device_id, etag, wanted));
}

bool valid_method_name(const std::string& name) {
  return !name.empty() && name.size() <= kMaxMethodName &&
         name.find_first_of("/#+?$ ") == std::string::npos;
}

// A device's answer to a method call: JSON if it is JSON, else the text.
json method_payload(const std::string& payload) {
  if (payload.empty()) return nullptr;
  json parsed = json::parse(payload, nullptr, false);
  return parsed.is_discarded() ? json(payload) : parsed;
}

}  // namespace

void DeviceLink::publish(std::string topic, std::string payload, bool retain, std::string what) {
  Routed message;
  message.topic = std::move(topic);
  message.payload = std::move(payload);
  message.retain = retain;
  route(std::move(message), [what = std::move(what)](bool stored) {
    if (!stored) module_log().warn("{} could not be stored", what);
  });
}

Result Result::error(int status, std::string message) {
  return {status, json{{"error", std::move(message)}}, {}};
}

struct TwinService::Call {
  Call(boost::asio::io_context& io, std::string device, Completion completion)
      : device_id(std::move(device)), done(std::move(completion)), timer(io) {}
  std::string device_id;
  Completion done;
  boost::asio::steady_timer timer;
};

TwinService::TwinService(registry::Registry& registry, registry::RegistryStorage& storage,
                         DeviceLink& link, ServiceOptions options, StatusSource status,
                         WallClock now)
    : registry_(registry),
      storage_(storage),
      link_(link),
      options_(options),
      status_(std::move(status)),
      now_(std::move(now)) {
  std::size_t damaged = 0;
  for (const auto& body : storage_.load(kCollection)) {
    try {
      const json doc = json::parse(body);
      Entry e{Twin::from_json(doc.at("twin"), options_.limits),
              doc.at("revision").get<std::int64_t>()};
      twins_.insert_or_assign(doc.at("deviceId").get<std::string>(), std::move(e));
    } catch (const std::exception& e) {
      ++damaged;
      module_log().warn("twins: skipping a damaged stored twin: {}", e.what());
    }
  }
  module_log().info("twins: {} loaded{}", twins_.size(),
                    damaged ? fmt::format(", {} damaged skipped", damaged) : "");
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
}

TwinService::~TwinService() {
  boost::asio::post(io_, [this] {
    std::unordered_map<std::string, std::shared_ptr<Call>> calls;
    {
      std::lock_guard lock(mutex_);
      calls.swap(calls_);
    }
    for (auto& [rid, call] : calls) {
      call->timer.cancel();
      call->done(Result::error(503, "the hub is shutting down"));
    }
  });
  work_.reset();
  thread_.join();
}

std::int64_t TwinService::now_ms() const {
  if (now_) return now_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- device side -------------------------------------------------------------

std::optional<std::string> TwinService::device_of(std::string_view client_id,
                                                  std::string_view identity) const {
  // A signed-in device is its identity; an anonymous loopback client (a
  // trusted local process) acts as the device its client id names.
  if (!identity.empty()) return std::string(identity);
  if (!client_id.empty()) return std::string(client_id);
  return std::nullopt;
}

void TwinService::on_publish(std::string_view client_id, std::string_view identity,
                             const mqtt::Publish& publish, broker::HandlerReply&) {
  const auto device = device_of(client_id, identity);
  if (!device) return;
  if (auto request = azure::parse_twin_request(publish.topic)) {
    boost::asio::post(io_, [this, client = std::string(client_id), device = *device,
                            request = std::move(*request), payload = publish.payload] {
      handle_twin_request(client, device, request, payload);
    });
    return;
  }
  if (auto response = azure::parse_method_response(publish.topic)) {
    boost::asio::post(
        io_, [this, device = *device, response = std::move(*response), payload = publish.payload] {
          handle_method_response(device, response, payload);
        });
    return;
  }
  module_log().debug("twins: {} published to {}, which the hub does not serve; ignored", client_id,
                     publish.topic);
}

void TwinService::handle_twin_request(const std::string& client_id, const std::string& device_id,
                                      const azure::TwinRequest& request,
                                      const std::string& payload) {
  std::unique_lock lock(mutex_);
  Entry* entry = entry_locked(device_id);
  if (!entry) {
    lock.unlock();
    return answer(
        client_id, 404, request.rid, std::nullopt,
        Result::error(404, fmt::format("device {} is not registered", device_id)).body.dump());
  }
  if (request.kind == azure::TwinRequest::Kind::get) {
    std::string body = entry->twin.device_view().dump();
    lock.unlock();
    return answer(client_id, 200, request.rid, std::nullopt, std::move(body));
  }
  const json patch = json::parse(payload, nullptr, false);
  if (patch.is_discarded() || !patch.is_object()) {
    lock.unlock();
    return answer(client_id, 400, request.rid, std::nullopt,
                  Result::error(400, "a reported patch must be a JSON object").body.dump());
  }
  Entry next = *entry;
  try {
    const auto version = next.twin.patch(Twin::Section::reported, patch, now_ms());
    ++next.revision;
    save_locked(device_id, next);
    *entry = std::move(next);
    lock.unlock();
    // Before the answer: a device that saw 204 finds its card up to date.
    if (reported_listener_) reported_listener_(device_id, patch);
    if (change_listener_) change_listener_(device_id);
    answer(client_id, 204, request.rid, version, {});
  } catch (const TwinError& e) {
    lock.unlock();
    answer(client_id, e.status(), request.rid, std::nullopt,
           Result::error(e.status(), e.what()).body.dump());
  } catch (const std::exception& e) {
    lock.unlock();
    module_log().error("twins: cannot store the reported properties of {}: {}", device_id,
                       e.what());
    answer(client_id, 500, request.rid, std::nullopt,
           Result::error(500, "the hub could not store the patch; try again").body.dump());
  }
}

void TwinService::answer(const std::string& client_id, int status, const std::string& rid,
                         std::optional<std::int64_t> version, std::string body) {
  link_.send_to_device(client_id, azure::twin_response_topic(status, rid, version), std::move(body),
                       [client_id, rid](bool delivered) {
                         if (!delivered) {
                           module_log().debug(
                               "twins: answer {} not delivered: {} is offline or has "
                               "not subscribed to $iothub/twin/res/#",
                               rid, client_id);
                         }
                       });
}

void TwinService::handle_method_response(const std::string& device_id,
                                         const azure::MethodResponse& response,
                                         const std::string& payload) {
  {
    std::lock_guard lock(mutex_);
    const auto it = calls_.find(response.rid);
    if (it == calls_.end() || it->second->device_id != device_id) {
      module_log().debug("twins: {} answered method call {}, which is not pending (timed out?)",
                         device_id, response.rid);
      return;
    }
  }
  finish_call(
      response.rid,
      Result{200, json{{"status", response.status}, {"payload", method_payload(payload)}}, {}});
}

// ---- twins -------------------------------------------------------------------

TwinService::Entry* TwinService::entry_locked(const std::string& device_id) {
  if (const auto it = twins_.find(device_id); it != twins_.end()) {
    if (registry_.snapshot()->device(device_id)) return &it->second;
    return nullptr;
  }
  if (!registry_.snapshot()->device(device_id)) return nullptr;
  return &twins_.emplace(device_id, Entry{Twin(options_.limits), 0}).first->second;
}

void TwinService::save_locked(const std::string& device_id, const Entry& entry) {
  const json doc{
      {"deviceId", device_id}, {"revision", entry.revision}, {"twin", entry.twin.to_json()}};
  storage_.record(kCollection, {{device_id, doc.dump()}});
}

Result TwinService::view_locked(const std::string& device_id, const Entry& entry) const {
  json view = entry.twin.service_view(device_id);
  const auto snap = registry_.snapshot();
  const auto* device = snap->device(device_id);
  const DeviceStatus status = status_ ? status_(device_id) : DeviceStatus{};
  const std::string etag = etag_of(entry.revision);
  view["etag"] = etag;
  view["version"] = entry.revision + 1;  // Azure's twins start at version 1
  view["status"] = device && device->enabled ? "enabled" : "disabled";
  view["connectionState"] = status.connected ? "Connected" : "Disconnected";
  // Azure's "never" is the year 1.
  view["lastActivityTime"] =
      status.last_activity_ms > 0 ? iso8601(status.last_activity_ms) : "0001-01-01T00:00:00Z";
  view["cloudToDeviceMessageCount"] = 0;
  view["authenticationType"] =
      device && registry::auth_kind(*device) == registry::AuthKind::x509 ? "selfSigned" : "sas";
  if (device) view["deviceClass"] = std::string(registry::to_string(device->device_class));
  return Result{200, std::move(view), etag};
}

Result TwinService::get_twin(const std::string& device_id) {
  {
    std::lock_guard lock(mutex_);
    if (const Entry* entry = entry_locked(device_id)) return view_locked(device_id, *entry);
  }
  if (remote_) {
    if (auto mirrored = remote_->get(device_id)) return std::move(*mirrored);
  }
  return Result::error(404, fmt::format("device {} is not registered", device_id));
}

Result TwinService::update_twin(const std::string& device_id, const std::string& if_match,
                                const std::function<void(Entry&)>& change) {
  std::unique_lock lock(mutex_);
  Entry* entry = entry_locked(device_id);
  if (!entry) return Result::error(404, fmt::format("device {} is not registered", device_id));
  if (auto refused = etag_mismatch(device_id, etag_of(entry->revision), if_match)) {
    return std::move(*refused);
  }
  Entry next = *entry;
  const auto desired_before = next.twin.version(Twin::Section::desired);
  json desired_before_values = next.twin.device_view()["desired"];
  try {
    change(next);
    ++next.revision;
    save_locked(device_id, next);
  } catch (const TwinError& e) {
    return Result::error(e.status(), e.what());
  } catch (const std::exception& e) {
    module_log().error("twins: cannot store the twin of {}: {}", device_id, e.what());
    return Result::error(500, "the hub could not store the twin; try again");
  }
  *entry = std::move(next);
  Result view = view_locked(device_id, *entry);
  const auto desired_after = entry->twin.version(Twin::Section::desired);
  json now_desired = entry->twin.device_view()["desired"];
  lock.unlock();
  if (desired_after != desired_before) {
    desired_before_values.erase("$version");
    push_desired(device_id, desired_before_values, std::move(now_desired), desired_after);
  }
  if (change_listener_) change_listener_(device_id);
  return view;
}

void TwinService::push_desired(const std::string& device_id, const json& before, json after,
                               std::int64_t version) {
  // Devices get what changed, as a merge patch with the new $version.
  after.erase("$version");
  json patch = merge_patch_between(before, after);
  patch["$version"] = version;
  link_.send_to_device(device_id, azure::desired_patch_topic(version), patch.dump(), nullptr);
}

Result TwinService::patch_twin(const std::string& device_id, const json& patch,
                               const std::string& if_match) {
  if (!patch.is_object()) return Result::error(400, "a twin patch must be a JSON object");
  for (const auto& [key, value] : patch.items()) {
    if (key != "tags" && key != "properties" && key != "deviceId" && key != "etag") {
      return Result::error(400, fmt::format("a twin patch may hold tags and properties.desired, "
                                            "not '{}'",
                                            key));
    }
  }
  const json* desired = nullptr;
  if (const auto p = patch.find("properties"); p != patch.end()) {
    if (!p->is_object() || p->contains("reported")) {
      return Result::error(400,
                           "properties.reported belong to the device; patch "
                           "properties.desired instead");
    }
    if (const auto d = p->find("desired"); d != p->end()) desired = &*d;
  }
  if (remote_ && !registry_.snapshot()->device(device_id)) {
    if (auto mirrored = remote_->get(device_id)) {
      if (auto refused = etag_mismatch(device_id, mirrored->etag, if_match)) {
        return std::move(*refused);
      }
      return remote_->patch(device_id, patch);
    }
  }
  return update_twin(device_id, if_match, [&](Entry& e) {
    if (const auto t = patch.find("tags"); t != patch.end()) e.twin.patch_tags(*t);
    if (desired) e.twin.patch(Twin::Section::desired, *desired, now_ms());
  });
}

void TwinService::patch_twin_later(const std::string& device_id, json patch, Completion done) {
  boost::asio::post(io_, [this, device_id, patch = std::move(patch), done = std::move(done)] {
    Result result = patch_twin(device_id, patch, "*");
    if (done) done(std::move(result));
  });
}

Result TwinService::replace_twin(const std::string& device_id, const json& twin,
                                 const std::string& if_match) {
  if (!twin.is_object()) return Result::error(400, "a twin must be a JSON object");
  if (remote_ && !registry_.snapshot()->device(device_id) && remote_->get(device_id)) {
    return Result::error(409, fmt::format("{} is hosted by a bridged hub: change its twin with "
                                          "PATCH, which is forwarded to that hub",
                                          device_id));
  }
  return update_twin(device_id, if_match, [&](Entry& e) {
    e.twin.replace_tags(twin.value("tags", json::object()));
    const json props = twin.value("properties", json::object());
    json desired = props.is_object() ? props.value("desired", json::object()) : json();
    if (desired.is_object()) {
      desired.erase("$version");
      desired.erase("$metadata");
    }
    e.twin.replace(Twin::Section::desired, desired, now_ms());
  });
}

std::vector<json> TwinService::all_twins() {
  const auto snap = registry_.snapshot();
  std::vector<std::string> ids;
  ids.reserve(snap->devices.size());
  for (const auto& [id, device] : snap->devices) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  std::vector<json> out;
  out.reserve(ids.size());
  std::lock_guard lock(mutex_);
  for (const auto& id : ids) {
    if (const Entry* e = entry_locked(id)) out.push_back(view_locked(id, *e).body);
  }
  return out;
}

json TwinService::reported(const std::string& device_id) {
  std::lock_guard lock(mutex_);
  const auto it = twins_.find(device_id);
  if (it == twins_.end()) return json::object();
  return it->second.twin.values(Twin::Section::reported);
}

void TwinService::forget(const std::string& device_id) {
  {
    std::lock_guard lock(mutex_);
    if (!twins_.erase(device_id)) return;
    try {
      storage_.remove(kCollection, device_id);
    } catch (const std::exception& e) {
      module_log().warn("twins: cannot remove the stored twin of {}: {}", device_id, e.what());
    }
  }
  if (change_listener_) change_listener_(device_id);
}

// ---- direct methods ----------------------------------------------------------

void TwinService::invoke_method(const std::string& device_id, const std::string& method,
                                json payload, std::chrono::seconds timeout, Completion done,
                                std::string request_id) {
  if (!valid_method_name(method)) {
    return done(Result::error(400, fmt::format("'{}' is not a method name: use 1 to {} characters "
                                               "without '/', '#', '+', '?', '$' or spaces",
                                               method, kMaxMethodName)));
  }
  if (timeout.count() == 0) timeout = options_.default_method_timeout;
  if (timeout.count() < 0 || timeout > options_.max_method_timeout) {
    return done(Result::error(400, fmt::format("responseTimeoutInSeconds must be 1 to {}",
                                               options_.max_method_timeout.count())));
  }
  if (!registry_.snapshot()->device(device_id)) {
    return done(Result::error(404, fmt::format("device {} is not registered", device_id)));
  }
  boost::asio::post(io_, [this, device_id, method, payload = payload.dump(), timeout,
                          done = std::move(done), request_id = std::move(request_id)]() mutable {
    auto call = std::make_shared<Call>(io_, device_id, std::move(done));
    std::string rid;
    {
      std::lock_guard lock(mutex_);
      rid = std::to_string(next_rid_++);
      calls_.emplace(rid, call);
    }
    if (!request_id.empty()) {
      module_log().info("methods: {} on {} as $rid={} (request {})", method, device_id, rid,
                        request_id);
    }
    call->timer.expires_after(timeout);
    call->timer.async_wait([this, rid, timeout](const boost::system::error_code& ec) {
      if (ec) return;
      finish_call(rid, Result::error(504, fmt::format("the device did not answer within {} s",
                                                      timeout.count())));
    });
    link_.send_to_device(
        device_id, azure::method_request_topic(method, rid), std::move(payload),
        [this, rid, device_id](bool delivered) {
          if (delivered) return;
          boost::asio::post(io_, [this, rid, device_id] {
            finish_call(rid, Result::error(404, fmt::format("device {} is not connected, or has "
                                                            "not subscribed to "
                                                            "$iothub/methods/POST/#",
                                                            device_id)));
          });
        });
  });
}

void TwinService::finish_call(const std::string& rid, Result result) {
  std::shared_ptr<Call> call;
  {
    std::lock_guard lock(mutex_);
    const auto it = calls_.find(rid);
    if (it == calls_.end()) return;
    call = std::move(it->second);
    calls_.erase(it);
  }
  call->timer.cancel();
  call->done(std::move(result));
}

std::size_t TwinService::pending_calls() const {
  std::lock_guard lock(mutex_);
  return calls_.size();
}

// ---- cloud-to-device ---------------------------------------------------------

void TwinService::send_message(const std::string& device_id, std::string payload,
                               std::vector<std::pair<std::string, std::string>> properties,
                               std::chrono::seconds ttl, Completion done,
                               std::string correlation_id) {
  if (!registry_.snapshot()->device(device_id)) {
    return done(Result::error(404, fmt::format("device {} is not registered", device_id)));
  }
  if (payload.size() > options_.max_message_bytes) {
    return done(Result::error(413, fmt::format("the message has {} bytes; the limit is {}",
                                               payload.size(), options_.max_message_bytes)));
  }
  if (ttl.count() == 0) ttl = options_.default_message_ttl;
  if (ttl.count() < 0) return done(Result::error(400, "the time to live must be positive"));
  for (const auto& [key, value] : properties) {
    if (key.empty() || key.starts_with("$")) {
      return done(Result::error(400, fmt::format("'{}' is not an application property name "
                                                 "(empty, or starting with '$')",
                                                 key)));
    }
  }
  static const std::uint64_t salt = std::random_device{}();
  std::string id;
  {
    std::lock_guard lock(mutex_);
    id = fmt::format("{:08x}-{}", salt & 0xFFFFFFFF, next_rid_++);
  }
  azure::PropertyBag bag = std::move(properties);
  bag.emplace_back("$.mid", id);
  if (!correlation_id.empty()) bag.emplace_back("$.cid", std::move(correlation_id));
  bag.emplace_back("$.to", fmt::format("/devices/{}/messages/deviceBound", device_id));
  DeviceLink::Routed message;
  message.topic = azure::devicebound_topic(device_id, bag);
  message.payload = std::move(payload);
  message.ttl = ttl;
  message.receipt = true;
  link_.route(std::move(message), [id, done = std::move(done)](bool ok) {
    if (!ok) return done(Result::error(503, "the hub could not store the message; try again"));
    done(Result{202, json{{"messageId", id}}, {}});
  });
}

void TwinService::on_receipt(const std::string& client_id, const std::string& topic,
                             bool delivered) {
  const auto bound = azure::parse_devicebound(topic);
  if (!bound) return;
  const std::string& device_id = bound->device_id;
  std::string id;
  for (const auto& [key, value] : bound->properties) {
    if (key == "$.mid") id = value;
  }
  DeviceLink::Routed feedback;
  feedback.topic = fmt::format("$events/devices/{}/feedback", device_id);
  feedback.payload = json{{"originalMessageId", id},
                          {"deviceId", device_id},
                          {"receivedBy", client_id},
                          {"statusCode", delivered ? "Success" : "Expired"},
                          {"description", delivered ? "Success" : "Message expired"},
                          {"enqueuedTimeUtc", iso8601(now_ms())}}
                         .dump();
  feedback.content_type = "application/json";
  link_.route(std::move(feedback), nullptr);
}

}  // namespace allscene::twin
