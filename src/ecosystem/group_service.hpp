// The hub's side of one person's device group (docs/protocol.md,
// "Cross-device ecosystem"):
//  - device cards: keeps users/{owner}/devices/{id} (retained) true to the
//    registry, presence and each device's reported "ecosystem" property;
//  - group calls: claims "$ecosystem/" as a broker topic handler and runs
//    $ecosystem/call/{target}/{method} as a direct method on a device of
//    the caller's own owner, answering $ecosystem/res/{status}.
//
// Errors: every refused call is answered with a status and {"error": "…"}
// that says what to change; nothing a device sends throws.
//
// Threading: every public member may be called from any thread; cards
// are computed and published under one lock, so each device's card
// updates reach subscribers in order.
#pragma once

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
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

 private:
  struct Published {
    std::string owner;
    nlohmann::json card;
  };
  // Under mutex_: publishes the device's card if it differs from the last.
  void update_locked(const registry::Device& device);
  void clear_locked(const std::string& device_id, const Published& last);
  void publish_card(const std::string& owner, const std::string& device_id, std::string payload);

  void call(const std::string& client_id, const std::string& caller_id,
            const mqtt::Publish& publish);
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
};

}  // namespace allscene::ecosystem
