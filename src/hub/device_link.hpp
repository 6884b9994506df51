// The twin service's way to devices, over the broker (wiring: neither
// layer knows the other).
#pragma once

#include <memory>

#include "broker/broker.hpp"
#include "twin/twin_service.hpp"

namespace allscene::hub {

class BrokerDeviceLink final : public twin::DeviceLink {
 public:
  explicit BrokerDeviceLink(broker::Broker& broker) : broker_(broker) {}

  void send_to_device(const std::string& client_id, std::string topic, std::string payload,
                      Done done) override {
    auto m = std::make_shared<broker::Message>();
    m->topic = std::move(topic);
    m->payload = std::move(payload);
    broker_.send_to_client(client_id, std::move(m), std::move(done));
  }

  void route(Routed routed, Done done) override {
    auto m = std::make_shared<broker::Message>();
    m->topic = std::move(routed.topic);
    m->payload = std::move(routed.payload);
    m->qos = routed.qos;
    m->receipt = routed.receipt;
    m->retain = routed.retain;
    if (routed.ttl) m->expires_at = broker::Clock::now() + *routed.ttl;
    for (auto& [key, value] : routed.user_properties) {
      m->properties.user_properties.push_back({std::move(key), std::move(value)});
    }
    if (!routed.content_type.empty()) m->properties.content_type = std::move(routed.content_type);
    broker_.inject(std::move(m), std::move(done));
  }

 private:
  broker::Broker& broker_;
};

}  // namespace allscene::hub
