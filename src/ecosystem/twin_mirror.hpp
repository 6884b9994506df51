// Device twins across bridged hubs (an edge hub and its cloud;
// docs/protocol.md, "Twins across bridged hubs"):
//  - the hub that hosts a device publishes its twin's service view,
//    retained, on $hubs/{owner}/twins/{id} whenever the twin or the
//    device's presence changes, and clears it when the device goes or
//    changes owner;
//  - every other hub keeps the views it receives as mirrors: its REST API
//    reads them, and forwards patches of tags and desired properties on
//    $hubs/{owner}/twins/{id}/patch, which the hosting hub applies to its
//    own twin (and so sends to the device).
// The bridge carries both with persistent sessions at QoS 1: what changed
// while the link was down (reported on the edge, patches queued on the
// cloud) crosses when it returns, and the retained view makes the latest
// state the one every hub ends with.
//
// Threading: every member may be called from any thread. Views are
// published under one lock, so each device's views reach the other hubs
// in order.
#pragma once

#include <cstddef>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "registry/registry.hpp"
#include "twin/twin_service.hpp"

namespace allscene::ecosystem {

class TwinMirror final : public twin::RemoteTwins {
 public:
  // `max_mirrors` bounds what other hubs can make this one keep.
  TwinMirror(registry::Registry& registry, twin::TwinService& twins, twin::DeviceLink& link,
             std::size_t max_mirrors = 100000);
  TwinMirror(const TwinMirror&) = delete;
  TwinMirror& operator=(const TwinMirror&) = delete;

  // The twin or the presence of a device changed here: publishes its view
  // if it differs from the last one published (clears it if the device
  // went or moved to another owner).
  void device_changed(const std::string& device_id);
  // The registry changed: views of devices gone or moved are cleared.
  void sync_registry();
  // A message on kTwinMirrorFilter, from the hub's in-process client.
  void on_message(std::string_view topic, std::string_view payload);

  // twin::RemoteTwins: mirrored views, and patches forwarded (202).
  std::optional<twin::Result> get(const std::string& device_id) override;
  twin::Result patch(const std::string& device_id, const nlohmann::json& patch) override;

  std::size_t mirror_count();

 private:
  struct Published {
    std::string owner;
    std::size_t hash = 0;  // of the payload last published
  };
  struct Mirror {
    std::string owner;
    nlohmann::json view;
  };
  void publish(const std::string& topic, std::string payload, bool retain);
  void apply_patch(const std::string& owner, const std::string& device_id,
                   std::string_view payload);
  void keep_mirror(const std::string& owner, const std::string& device_id,
                   std::string_view payload);

  registry::Registry& registry_;
  twin::TwinService& twins_;
  twin::DeviceLink& link_;
  const std::size_t max_mirrors_;

  std::mutex mutex_;
  std::unordered_map<std::string, Published> published_;  // by device id; guarded by mutex_
  std::unordered_map<std::string, Mirror> mirrors_;       // by device id; guarded by mutex_
};

}  // namespace allscene::ecosystem
