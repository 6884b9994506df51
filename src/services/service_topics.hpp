// Cloud services over MQTT (docs/protocol.md, "Cloud services"): a device
// publishes a JSON request on $services/{name}/{operation}.
//  - MQTT 5: with a Response Topic (and usually Correlation Data); the
//    answer goes there with the same Correlation Data, a user property
//    "status" (HTTP-style) and content type application/json.
//  - MQTT 3.1.1 (or no Response Topic): the topic carries a request id,
//    $services/{name}/{operation}/?$rid={rid}, and the answer comes on
//    $services/res/{status}/?$rid={rid}.
// Answers reach only the client that asked, and only if it subscribed to
// the topic they go to (as twin answers do). Requests without a way to
// answer are logged and dropped.
//
// Threading: on_publish runs on the connection's event loop and only
// queues the work (ServiceHost runs it); answers are sent from the host's
// threads.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "broker/interfaces.hpp"
#include "services/host.hpp"

namespace allscene::services {

inline constexpr std::string_view kServicesPrefix = "$services/";
// What a 3.1.1 device subscribes to for its answers.
inline constexpr std::string_view kServiceResults = "$services/res/#";

struct ServiceTopic {
  std::string service;
  std::string operation;
};
// The request a topic names, or why it names none (`error`); the request
// id whenever one could be read, so that even a refusal can be answered.
struct ParsedServiceTopic {
  std::optional<ServiceTopic> request;
  std::string error;
  std::string rid;  // empty: none (MQTT 5 answers by Response Topic)
};
ParsedServiceTopic parse_service_topic(std::string_view topic);
// "$services/res/{status}/?$rid={rid}".
std::string service_result_topic(int status, std::string_view rid);

class ServiceTopics final : public broker::TopicHandler {
 public:
  // The caller a connection speaks for; nullopt if it may not call
  // services (reason in the log).
  using Identify =
      std::function<std::optional<Caller>(std::string_view client_id, std::string_view identity)>;
  // Sends an answer to the connection of `client_id` only (QoS 0, if one
  // of its subscriptions matches `topic`).
  using Send = std::function<void(const std::string& client_id, std::string topic,
                                  std::string payload, mqtt::Properties properties)>;

  ServiceTopics(ServiceHost& host, Identify identify, Send send);

  std::string_view prefix() const override { return kServicesPrefix; }
  void on_publish(std::string_view client_id, std::string_view identity,
                  const mqtt::Publish& publish, broker::HandlerReply& reply) override;

 private:
  // Where and how the answer to one request goes.
  struct Return {
    std::string client_id;
    std::string rid;                            // 3.1.1 form
    std::optional<std::string> response_topic;  // MQTT 5 form
    std::optional<std::string> correlation_data;
  };
  void answer(const Return& to, const Reply& reply);

  ServiceHost& host_;
  Identify identify_;
  Send send_;
};

}  // namespace allscene::services
