// What the cloud services may ask of the hub (services::HubAccess), on top
// of the registry, presence, the twin service and the broker.
//
// Threading: every member may be called from any thread.
#pragma once

#include <functional>

#include "registry/presence.hpp"
#include "registry/registry.hpp"
#include "services/host.hpp"
#include "twin/twin_service.hpp"

namespace allscene::hub {

class ServiceHub final : public services::HubAccess {
 public:
  using PresenceSource = std::function<registry::PresenceState(const std::string& device_id)>;

  ServiceHub(registry::Registry& registry, PresenceSource presence, twin::TwinService& twins,
             twin::DeviceLink& link, services::ServiceHost& host)
      : registry_(registry),
        presence_(std::move(presence)),
        twins_(twins),
        link_(link),
        host_(host) {}

  std::vector<services::DeviceInfo> devices(const std::string& user) override;
  void invoke(const std::string& device_id, const std::string& method, nlohmann::json payload,
              std::chrono::seconds timeout, std::function<void(services::Reply)> done) override;
  void send_message(const std::string& device_id, std::string payload,
                    std::vector<std::pair<std::string, std::string>> properties,
                    std::function<void(services::Reply)> done) override;
  void publish(const std::string& topic, std::string payload, bool retain) override;
  services::Reply call(const services::Caller& caller, std::string_view service,
                       std::string_view operation, const nlohmann::json& request) override;

 private:
  registry::Registry& registry_;
  PresenceSource presence_;
  twin::TwinService& twins_;
  twin::DeviceLink& link_;
  services::ServiceHost& host_;
};

}  // namespace allscene::hub
