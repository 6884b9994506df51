#include "ecosystem/group_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "ecosystem/card.hpp"
#include "ecosystem/topics.hpp"

namespace allscene::ecosystem {

using nlohmann::json;

namespace {

json error_body(std::string message) { return {{"error", std::move(message)}}; }

// Free of the service: a call may complete while the hub shuts down.
void answer(twin::DeviceLink& link, const std::string& client_id, int status,
            const std::string& rid, const json& body) {
  link.send_to_device(client_id, call_result_topic(status, rid),
                      body.is_null() ? std::string() : body.dump(),
                      [client_id, rid](bool delivered) {
                        if (!delivered) {
                          spdlog::debug(
                              "ecosystem: answer {} not delivered: {} is offline or "
                              "has not subscribed to $ecosystem/res/#",
                              rid, client_id);
                        }
                      });
}

}  // namespace

GroupService::GroupService(registry::Registry& registry, twin::TwinService& twins,
                           twin::DeviceLink& link, PresenceSource presence, GroupOptions options)
    : registry_(registry),
      twins_(twins),
      link_(link),
      presence_(std::move(presence)),
      options_(options) {}

// ---- device cards --------------------------------------------------------------

void GroupService::sync_registry() {
  std::lock_guard lock(mutex_);
  const auto generation = registry_.generation();
  if (generation == synced_generation_) return;
  synced_generation_ = generation;
  const auto snapshot = registry_.snapshot();
  std::vector<std::string> gone;
  for (const auto& [id, last] : published_) {
    const auto* device = snapshot->device(id);
    if (device == nullptr || device->owner != last.owner) gone.push_back(id);
  }
  for (const auto& id : gone) {
    clear_locked(id, published_.at(id));
    published_.erase(id);
  }
  for (const auto& [id, device] : snapshot->devices) update_locked(device);
}

void GroupService::presence_changed(const std::string& device_id) {
  const auto snapshot = registry_.snapshot();
  const auto* device = snapshot->device(device_id);
  if (device == nullptr) return;
  std::lock_guard lock(mutex_);
  update_locked(*device);
}

void GroupService::reported_changed(const std::string& device_id, const json& patch) {
  if (!patch.is_object() || !patch.contains("ecosystem")) return;
  presence_changed(device_id);
}

void GroupService::update_locked(const registry::Device& device) {
  json card = make_card(device, presence_ ? presence_(device.id) : registry::PresenceState{},
                        twins_.reported(device.id));
  auto& last = published_[device.id];
  if (last.owner == device.owner && last.card == card) return;
  last.owner = device.owner;
  last.card = std::move(card);
  publish_card(device.owner, device.id, last.card.dump());
}

void GroupService::clear_locked(const std::string& device_id, const Published& last) {
  publish_card(last.owner, device_id, {});
}

void GroupService::publish_card(const std::string& owner, const std::string& device_id,
                                std::string payload) {
  twin::DeviceLink::Routed card;
  card.topic = card_topic(owner, device_id);
  card.payload = std::move(payload);
  card.qos = 1;
  card.retain = true;
  link_.route(std::move(card), [device_id](bool ok) {
    if (!ok) spdlog::warn("ecosystem: the card of {} could not be stored", device_id);
  });
}

// ---- group calls ---------------------------------------------------------------

void GroupService::on_publish(std::string_view client_id, std::string_view identity,
                              const mqtt::Publish& publish, broker::HandlerReply&) {
  // A signed-in device is its identity; an anonymous loopback client (a
  // trusted local process) acts as the device its client id names.
  const std::string caller(identity.empty() ? client_id : identity);
  call(std::string(client_id), caller, publish);
}

// Methods of the hub itself: what a device needs before it can join its
// group (its owner is part of every group topic).
void GroupService::call_hub(const std::string& client_id, const registry::Device& caller,
                            const CallRequest& request) {
  if (request.method != "whoami") {
    return answer(
        link_, client_id, 404, request.rid,
        error_body(fmt::format("the hub has no method '{}'; it has whoami", request.method)));
  }
  answer(link_, client_id, 200, request.rid,
         {{"deviceId", caller.id},
          {"owner", caller.owner},
          {"name", caller.display_name.empty() ? caller.id : caller.display_name},
          {"class", std::string(registry::to_string(caller.device_class))}});
}

void GroupService::call(const std::string& client_id, const std::string& caller_id,
                        const mqtt::Publish& publish) {
  auto parsed = parse_call(publish.topic);
  if (!parsed.call) {
    if (parsed.error.rid.empty()) {
      spdlog::debug("ecosystem: {} published to {}: {}", client_id, publish.topic,
                    parsed.error.message);
      return;
    }
    return answer(link_, client_id, 400, parsed.error.rid, error_body(parsed.error.message));
  }
  const CallRequest request = std::move(*parsed.call);
  const auto snapshot = registry_.snapshot();
  const auto* caller = snapshot->device(caller_id);
  if (caller == nullptr) {
    return answer(link_, client_id, 403, request.rid,
                  error_body("only a registered device can call the devices of its owner"));
  }
  if (request.target == kHubTarget) return call_hub(client_id, *caller, request);
  const auto* target = snapshot->device(request.target);
  if (target == nullptr || target->owner != caller->owner) {
    return answer(
        link_, client_id, 404, request.rid,
        error_body(fmt::format("no device {} among {}'s devices", request.target, caller->owner)));
  }
  const auto timeout = request.timeout.value_or(options_.default_call_timeout);
  if (timeout.count() < 1 || timeout > options_.max_call_timeout) {
    return answer(link_, client_id, 400, request.rid,
                  error_body(fmt::format("$timeout must be 1 to {} seconds",
                                         options_.max_call_timeout.count())));
  }
  json payload =
      publish.payload.empty() ? json::object() : json::parse(publish.payload, nullptr, false);
  if (payload.is_discarded()) {
    return answer(link_, client_id, 400, request.rid,
                  error_body("the call's payload must be JSON"));
  }
  // The target learns who called, and a caller cannot pose as another.
  if (payload.is_object()) payload["from"] = caller->id;
  if (request.method == "command.run") {
    const std::string name = payload.is_object() ? payload.value("name", "") : "";
    switch (command_access(twins_.reported(target->id), name, *caller)) {
      case CommandAccess::allowed:
        break;
      case CommandAccess::unknown:
        return answer(link_, client_id, 404, request.rid,
                      error_body(fmt::format("{} has no command '{}'", target->id, name)));
      case CommandAccess::forbidden:
        return answer(
            link_, client_id, 403, request.rid,
            error_body(fmt::format("{} does not let {} run '{}'", target->id, caller->id, name)));
    }
  }
  twins_.invoke_method(target->id, request.method, std::move(payload), timeout,
                       [&link = link_, client_id, rid = request.rid](twin::Result result) {
                         if (!result.ok()) {
                           return answer(link, client_id, result.status, rid, result.body);
                         }
                         answer(link, client_id, result.body.value("status", 200), rid,
                                result.body.value("payload", json()));
                       });
}

}  // namespace allscene::ecosystem
