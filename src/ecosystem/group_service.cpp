#include "ecosystem/group_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <vector>

#include "ecosystem/card.hpp"
#include "ecosystem/topics.hpp"
#include "log/module_log.hpp"

namespace allscene::ecosystem {

using nlohmann::json;

namespace {

json error_body(std::string message) { return {{"error", std::move(message)}}; }

// A hub's id for relayed calls: random, so hubs bridged together (or one
// restarted) never mistake each other's answers.
std::string new_hub_id() {
  std::random_device random;
  return fmt::format("{:08x}{:08x}", random(), random());
}

// Free of the service: a call may complete while the hub shuts down.
void answer(twin::DeviceLink& link, const std::string& client_id, int status,
            const std::string& rid, const json& body) {
  link.send_to_device(client_id, call_result_topic(status, rid),
                      body.is_null() ? std::string() : body.dump(),
                      [client_id, rid](bool delivered) {
                        if (!delivered) {
                          module_log().debug(
                              "ecosystem: answer {} not delivered: {} is offline or "
                              "has not subscribed to $ecosystem/res/#",
                              rid, client_id);
                        }
                      });
}

// Hub-to-hub messages at QoS 0: calls have their own timeouts (at most once).
void publish_relay(twin::DeviceLink& link, std::string topic, std::string payload) {
  twin::DeviceLink::Routed message;
  message.topic = std::move(topic);
  message.payload = std::move(payload);
  message.qos = 0;
  link.route(std::move(message), nullptr);
}

}  // namespace

GroupService::GroupService(registry::Registry& registry, twin::TwinService& twins,
                           twin::DeviceLink& link, PresenceSource presence, GroupOptions options)
    : registry_(registry),
      twins_(twins),
      link_(link),
      presence_(std::move(presence)),
      options_(options),
      hub_id_(new_hub_id()) {}

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
  link_.publish(card_topic(owner, device_id), std::move(payload), true,
                "ecosystem: the card of " + device_id);
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
      module_log().debug("ecosystem: {} published to {}: {}", client_id, publish.topic,
                         parsed.error.message);
      return;
    }
    return answer(link_, client_id, 400, parsed.error.rid, error_body(parsed.error.message));
  }
  const CallRequest request = std::move(*parsed.call);
  Respond respond = [&link = link_, client_id, rid = request.rid](int status, const json& body) {
    answer(link, client_id, status, rid, body);
  };
  const auto snapshot = registry_.snapshot();
  const auto* caller = snapshot->device(caller_id);
  if (caller == nullptr) {
    return respond(403, error_body("only a registered device can call the devices of its owner"));
  }
  if (request.target == kHubTarget) return call_hub(client_id, *caller, request);
  const auto timeout = request.timeout.value_or(options_.default_call_timeout);
  if (timeout.count() < 1 || timeout > options_.max_call_timeout) {
    return respond(400, error_body(fmt::format("$timeout must be 1 to {} seconds",
                                               options_.max_call_timeout.count())));
  }
  json payload =
      publish.payload.empty() ? json::object() : json::parse(publish.payload, nullptr, false);
  if (payload.is_discarded()) return respond(400, error_body("the call's payload must be JSON"));
  // The target learns who called, and a caller cannot pose as another.
  if (payload.is_object()) payload["from"] = caller->id;
  const auto* target = snapshot->device(request.target);
  if (target == nullptr) {
    return relay(*caller, request.target, request.method, std::move(payload), timeout,
                 std::move(respond));
  }
  if (target->owner != caller->owner) {
    return respond(404, error_body(fmt::format("no device {} among {}'s devices", request.target,
                                               caller->owner)));
  }
  run_call(*caller, *target, request.method, std::move(payload), timeout, std::move(respond));
}

void GroupService::run_call(const registry::Device& caller, const registry::Device& target,
                            const std::string& method, json payload, std::chrono::seconds timeout,
                            Respond respond) {
  if (method == "command.run") {
    const std::string name = payload.is_object() ? payload.value("name", "") : "";
    switch (command_access(twins_.reported(target.id), name, caller)) {
      case CommandAccess::allowed:
        break;
      case CommandAccess::unknown:
        return respond(404, error_body(fmt::format("{} has no command '{}'", target.id, name)));
      case CommandAccess::forbidden:
        return respond(403, error_body(fmt::format("{} does not let {} run '{}'", target.id,
                                                   caller.id, name)));
    }
  }
  twins_.invoke_method(target.id, method, std::move(payload), timeout,
                       [respond = std::move(respond)](twin::Result result) {
                         if (!result.ok()) return respond(result.status, result.body);
                         respond(result.body.value("status", 200),
                                 result.body.value("payload", json()));
                       });
}

// ---- calls between bridged hubs ------------------------------------------------

void GroupService::relay(const registry::Device& caller, const std::string& target,
                         const std::string& method, json payload, std::chrono::seconds timeout,
                         Respond respond) {
  const auto now = std::chrono::steady_clock::now();
  std::string relay_rid;
  {
    std::lock_guard lock(mutex_);
    const auto card = remote_cards_.find(caller.owner + "/" + target);
    if (card == remote_cards_.end()) {
      return respond(
          404, error_body(fmt::format("no device {} among {}'s devices", target, caller.owner)));
    }
    if (!card->second) {
      return respond(404, error_body(fmt::format("device {} is offline", target)));
    }
    std::erase_if(relayed_, [now](const auto& entry) { return entry.second.deadline < now; });
    if (relayed_.size() >= kMaxRelayed) {
      return respond(503, error_body("too many calls are waiting for other hubs; try again"));
    }
    relay_rid = std::to_string(next_relay_++);
    // A little beyond the far hub's own timeout, which answers 504.
    relayed_.emplace(relay_rid, Relayed{std::move(respond), now + timeout + kRelayGrace});
  }
  json call = {{"hub", hub_id_},
               {"rid", relay_rid},
               {"method", method},
               {"payload", std::move(payload)},
               {"timeout", timeout.count()},
               {"from", caller.id},
               {"fromClass", std::string(registry::to_string(caller.device_class))}};
  publish_relay(link_, relay_call_topic(caller.owner, target), call.dump());
}

void GroupService::on_group_message(std::string_view topic, std::string_view payload) {
  const auto parsed = parse_group_topic(topic);
  if (!parsed) return;
  switch (parsed->kind) {
    case GroupTopic::Kind::card:
      return remote_card(*parsed, payload);
    case GroupTopic::Kind::relay_call:
      return relayed_call(*parsed, payload);
    case GroupTopic::Kind::relay_result:
      if (parsed->hub == hub_id_) relayed_result(parsed->rid, payload);
      return;
  }
}

void GroupService::remote_card(const GroupTopic& topic, std::string_view payload) {
  const auto snapshot = registry_.snapshot();
  if (snapshot->device(topic.device) != nullptr) return;  // one of ours
  const std::string key = topic.owner + "/" + topic.device;
  std::lock_guard lock(mutex_);
  if (payload.empty()) {
    remote_cards_.erase(key);
    return;
  }
  const json card = json::parse(payload, nullptr, false);
  remote_cards_[key] = card.is_object() && card.value("online", false);
}

void GroupService::relayed_call(const GroupTopic& topic, std::string_view payload) {
  const auto snapshot = registry_.snapshot();
  const auto* target = snapshot->device(topic.device);
  if (target == nullptr || target->owner != topic.owner) return;  // another hub's device
  json call = json::parse(payload, nullptr, false);
  if (!call.is_object() || !call.value("hub", json()).is_string() ||
      !call.value("rid", json()).is_string() || !call.value("method", json()).is_string()) {
    module_log().debug("ecosystem: a relayed call on {} is malformed; ignored", topic.device);
    return;
  }
  const std::string result_topic = relay_result_topic(topic.owner, call["hub"].get<std::string>(),
                                                      call["rid"].get<std::string>());
  Respond respond = [&link = link_, result_topic](int status, const json& body) {
    publish_relay(link, result_topic, json{{"status", status}, {"payload", body}}.dump());
  };
  // The caller lives on the other hub; its id and class come from that
  // hub, which only a gateway of the same owner can speak for.
  registry::Device caller;
  caller.id = call.value("from", "");
  caller.owner = topic.owner;
  caller.device_class = registry::parse_device_class(call.value("fromClass", ""))
                            .value_or(registry::DeviceClass::iot);
  const auto timeout = std::chrono::seconds(
      std::clamp<std::int64_t>(call.value("timeout", 10), 1, options_.max_call_timeout.count()));
  run_call(caller, *target, call["method"].get<std::string>(), std::move(call["payload"]), timeout,
           std::move(respond));
}

void GroupService::relayed_result(const std::string& rid, std::string_view payload) {
  Respond respond;
  {
    std::lock_guard lock(mutex_);
    const auto it = relayed_.find(rid);
    if (it == relayed_.end()) return;  // answered late, after the caller gave up
    respond = std::move(it->second.respond);
    relayed_.erase(it);
  }
  const json result = json::parse(payload, nullptr, false);
  if (!result.is_object() || !result.value("status", json()).is_number_integer()) {
    return respond(502, error_body("the device's hub sent a malformed answer"));
  }
  respond(result["status"], result.value("payload", json()));
}

}  // namespace allscene::ecosystem
