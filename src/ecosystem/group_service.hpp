// The hub's side of one person's device group (docs/protocol.md,
// "Cross-device ecosystem"):
//  - device cards: keeps users/{owner}/devices/{id} (retained) true to the
//    registry, presence and each device's reported "ecosystem" property;
//  - group calls: claims "$ecosystem/" as a broker topic handler and runs
//    $ecosystem/call/{target}/{method} as a direct method on a device of
//    the caller's own owner, answering $ecosystem/res/{status}.
//
//  - calls between bridged hubs: a call for a device this hub does not
//    host, but whose card came from a bridged hub (an edge hub and its
//    cloud), is relayed on users/{owner}/relay/call/{target}; the hub that
//    hosts the target runs it and answers on
//    users/{owner}/relay/result/{hub id}/{rid}. Only hubs (and gateways,
//    the identity an edge hub signs in upstream with) may publish there.
//
// Errors: every refused call is answered with a status and {"error": "…"}
// that says what to change; nothing a device sends throws.
//
// Threading: every public member may be called from any thread; cards
// are computed and published under one lock, so each device's card
// updates reach subscribers in order.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/interfaces.hpp"
#include "ecosystem/topics.hpp"
#include "registry/presence.hpp"
#include "registry/registry.hpp"
#include "twin/twin_service.hpp"

namespace allscene::ecosystem {

struct GroupOptions {
  std::chrono::seconds default_call_timeout{10};
  std::chrono::seconds max_call_timeout{300};
};

class GroupService final : public broker::TopicHandler {
 public:
  using PresenceSource = std::function<registry::PresenceState(const std::string& device_id)>;

  GroupService(registry::Registry& registry, twin::TwinService& twins, twin::DeviceLink& link,
               PresenceSource presence, GroupOptions options = {});
  GroupService(const GroupService&) = delete;
  GroupService& operator=(const GroupService&) = delete;

  // broker::TopicHandler: "$ecosystem/" from devices.
  std::string_view prefix() const override { return "$ecosystem/"; }
  void on_publish(std::string_view client_id, std::string_view identity,
                  const mqtt::Publish& publish, broker::HandlerReply& reply) override;

  // Brings every card in line with the registry: publishes the cards that
  // changed (new devices, renames, new owners) and clears those of removed
  // devices. Cheap when the registry did not change since the last call.
  void sync_registry();
  // A device came online or went offline.
  void presence_changed(const std::string& device_id);
  // A device's reported properties changed (TwinService's listener).
  void reported_changed(const std::string& device_id, const nlohmann::json& patch);

  // What the hub wiring subscribes to, in-process, for on_group_message:
  // other hubs' device cards and relayed calls and answers.
  static constexpr std::string_view kGroupFilters[] = {"users/+/devices/+", "users/+/relay/#"};
  void on_group_message(std::string_view topic, std::string_view payload);

 private:
  struct Published {
    std::string owner;
    nlohmann::json card;
  };
  // Under mutex_: publishes the device's card if it differs from the last.
  void update_locked(const registry::Device& device);
  void clear_locked(const std::string& device_id, const Published& last);
  void publish_card(const std::string& owner, const std::string& device_id, std::string payload);

  using Respond = std::function<void(int status, const nlohmann::json& body)>;
  void call(const std::string& client_id, const std::string& caller_id,
            const mqtt::Publish& publish);
  void run_call(const registry::Device& caller, const registry::Device& target,
                const std::string& method, nlohmann::json payload, std::chrono::seconds timeout,
                Respond respond);
  void relay(const registry::Device& caller, const std::string& target, const std::string& method,
             nlohmann::json payload, std::chrono::seconds timeout, Respond respond);
  void remote_card(const GroupTopic& topic, std::string_view payload);
  void relayed_call(const GroupTopic& topic, std::string_view payload);
  void relayed_result(const std::string& rid, std::string_view payload);
  void call_hub(const std::string& client_id, const registry::Device& caller,
                const CallRequest& request);

  registry::Registry& registry_;
  twin::TwinService& twins_;
  twin::DeviceLink& link_;
  PresenceSource presence_;
  GroupOptions options_;

  std::mutex mutex_;
  std::unordered_map<std::string, Published> published_;  // by device id; guarded by mutex_
  std::optional<std::uint64_t> synced_generation_;        // guarded by mutex_

  // Calls relayed to other hubs, waiting for their answer.
  static constexpr std::size_t kMaxRelayed = 10000;
  static constexpr std::chrono::seconds kRelayGrace{2};
  struct Relayed {
    Respond respond;
    std::chrono::steady_clock::time_point deadline;  // then forgotten
  };
  const std::string hub_id_;
  std::unordered_map<std::string, bool> remote_cards_;  // "owner/id" -> online; guarded by mutex_
  std::unordered_map<std::string, Relayed> relayed_;    // by relay rid; guarded by mutex_
  std::uint64_t next_relay_ = 1;                        // guarded by mutex_
};

}  // namespace allscene::ecosystem
