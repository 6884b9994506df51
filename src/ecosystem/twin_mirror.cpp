#include "ecosystem/twin_mirror.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <utility>
#include <vector>

#include "ecosystem/topics.hpp"
#include "log/module_log.hpp"

namespace allscene::ecosystem {

using nlohmann::json;

TwinMirror::TwinMirror(registry::Registry& registry, twin::TwinService& twins,
                       twin::DeviceLink& link, std::size_t max_mirrors)
    : registry_(registry), twins_(twins), link_(link), max_mirrors_(max_mirrors) {}

void TwinMirror::publish(const std::string& topic, std::string payload, bool retain) {
  link_.publish(topic, std::move(payload), retain, "twins: " + topic + " (for bridged hubs)");
}

void TwinMirror::device_changed(const std::string& device_id) {
  const auto snap = registry_.snapshot();
  const registry::Device* device = snap->device(device_id);
  const std::string owner = device ? device->owner : std::string();
  std::lock_guard lock(mutex_);
  auto it = published_.find(device_id);
  if (it != published_.end() && it->second.owner != owner) {
    publish(twin_mirror_topic(it->second.owner, device_id), {}, true);
    published_.erase(it);
    it = published_.end();
  }
  if (owner.empty()) return;
  twin::Result view = twins_.get_twin(device_id);
  if (!view.ok()) return;
  std::string payload = view.body.dump();
  const std::size_t hash = std::hash<std::string>{}(payload);
  if (it != published_.end() && it->second.hash == hash) return;
  publish(twin_mirror_topic(owner, device_id), std::move(payload), true);
  published_[device_id] = Published{owner, hash};
}

void TwinMirror::sync_registry() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    const auto snap = registry_.snapshot();
    for (const auto& [id, published] : published_) {
      const registry::Device* device = snap->device(id);
      if (!device || device->owner != published.owner) ids.push_back(id);
    }
  }
  for (const auto& id : ids) device_changed(id);
}

void TwinMirror::on_message(std::string_view topic, std::string_view payload) {
  const auto parsed = parse_twin_topic(topic);
  if (!parsed) return;
  const auto snap = registry_.snapshot();
  const registry::Device* local = snap->device(parsed->device);
  if (parsed->patch) {
    // For the hub that hosts the device; the others ignore it.
    if (local && local->owner == parsed->owner) {
      apply_patch(parsed->owner, parsed->device, payload);
    }
    return;
  }
  // A device registered here is described by this hub's own twin.
  if (!local) keep_mirror(parsed->owner, parsed->device, payload);
}

void TwinMirror::apply_patch(const std::string& owner, const std::string& device_id,
                             std::string_view payload) {
  json patch = json::parse(payload, nullptr, false);
  if (patch.is_discarded() || !patch.is_object()) {
    module_log().warn(
        "twins: a bridged hub sent a patch for {} (owner {}) that is not a JSON object; "
        "ignored",
        device_id, owner);
    return;
  }
  twins_.patch_twin_later(device_id, std::move(patch), [device_id](twin::Result result) {
    if (!result.ok()) {
      module_log().warn("twins: a bridged hub's patch for {} was refused ({}): {}", device_id,
                        result.status, result.body.value("error", ""));
    }
  });
}

void TwinMirror::keep_mirror(const std::string& owner, const std::string& device_id,
                             std::string_view payload) {
  std::lock_guard lock(mutex_);
  if (payload.empty()) {
    mirrors_.erase(device_id);
    return;
  }
  json view = json::parse(payload, nullptr, false);
  if (view.is_discarded() || !view.is_object() || view.value("deviceId", "") != device_id) {
    module_log().warn(
        "twins: a bridged hub sent a twin for {} (owner {}) that is not its twin view; "
        "ignored",
        device_id, owner);
    return;
  }
  if (!mirrors_.contains(device_id) && mirrors_.size() >= max_mirrors_) {
    module_log().warn(
        "twins: {} mirrored twins already; the twin of {} from a bridged hub is not kept",
        max_mirrors_, device_id);
    return;
  }
  view["mirrored"] = true;
  mirrors_[device_id] = Mirror{owner, std::move(view)};
}

std::optional<twin::Result> TwinMirror::get(const std::string& device_id) {
  std::lock_guard lock(mutex_);
  const auto it = mirrors_.find(device_id);
  if (it == mirrors_.end()) return std::nullopt;
  return twin::Result{200, it->second.view, it->second.view.value("etag", "")};
}

twin::Result TwinMirror::patch(const std::string& device_id, const json& patch) {
  std::lock_guard lock(mutex_);
  const auto it = mirrors_.find(device_id);
  if (it == mirrors_.end()) {
    return twin::Result::error(404, fmt::format("device {} is not registered", device_id));
  }
  publish(twin_patch_topic(it->second.owner, device_id), patch.dump(), false);
  return twin::Result{202,
                      json{{"deviceId", device_id},
                           {"forwarded", true},
                           {"message", fmt::format("{} is hosted by a bridged hub: the patch was "
                                                   "forwarded to it, and this twin changes once "
                                                   "that hub reports the result",
                                                   device_id)}},
                      it->second.view.value("etag", "")};
}

std::size_t TwinMirror::mirror_count() {
  std::lock_guard lock(mutex_);
  return mirrors_.size();
}

}  // namespace allscene::ecosystem
