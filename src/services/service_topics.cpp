#include "services/service_topics.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "azure/azure.hpp"
#include "log/module_log.hpp"

namespace allscene::services {

using nlohmann::json;

namespace {

bool valid_level(std::string_view level) {
  return !level.empty() && level.find_first_of("/+#$") == std::string_view::npos;
}

}  // namespace

ParsedServiceTopic parse_service_topic(std::string_view topic) {
  ParsedServiceTopic parsed;
  auto fail = [&parsed](std::string message) {
    parsed.error = std::move(message);
    return parsed;
  };
  if (!topic.starts_with(kServicesPrefix)) return fail("not a $services/ topic");
  std::string_view rest = topic.substr(kServicesPrefix.size());
  if (const std::size_t query = rest.find("/?"); query != std::string_view::npos) {
    if (const auto bag = azure::parse_property_bag(rest.substr(query + 2))) {
      for (const auto& [key, value] : *bag) {
        if (key == "$rid") parsed.rid = value;
      }
    }
    if (parsed.rid.empty()) {
      return fail("the request id is missing: $services/{service}/{operation}/?$rid={id}");
    }
    rest = rest.substr(0, query);
  }
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || !valid_level(rest.substr(0, slash)) ||
      !valid_level(rest.substr(slash + 1))) {
    return fail("a request is $services/{service}/{operation}");
  }
  if (rest.substr(0, slash) == "res") {
    return fail("$services/res/ is where answers go, not a service");
  }
  parsed.request =
      ServiceTopic{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
  return parsed;
}

std::string service_result_topic(int status, std::string_view rid) {
  return fmt::format("$services/res/{}/?$rid={}", status, rid);
}

ServiceTopics::ServiceTopics(ServiceHost& host, Identify identify, Send send)
    : host_(host), identify_(std::move(identify)), send_(std::move(send)) {}

void ServiceTopics::on_publish(std::string_view client_id, std::string_view identity,
                               const mqtt::Publish& publish, broker::HandlerReply&) {
  auto parsed = parse_service_topic(publish.topic);
  Return to{std::string(client_id), parsed.rid, publish.properties.response_topic,
            publish.properties.correlation_data};
  if (!to.response_topic && to.rid.empty()) {
    module_log().debug(
        "services: {} published to {} with neither a Response Topic nor a $rid; "
        "nowhere to answer",
        client_id, publish.topic);
    return;
  }
  if (!parsed.request) return answer(to, Reply::error(400, "bad_topic", parsed.error));
  ServiceTopic& request_topic = *parsed.request;
  const auto caller = identify_(client_id, identity);
  if (!caller) {
    return answer(to, Reply::error(403, "not_a_device",
                                   "only registered devices call services; sign in as one"));
  }
  json request =
      publish.payload.empty() ? json::object() : json::parse(publish.payload, nullptr, false);
  if (request.is_discarded() || !request.is_object()) {
    return answer(to, Reply::error(400, "bad_json", "the request must be a JSON object"));
  }
  host_.call(*caller, std::move(request_topic.service), std::move(request_topic.operation),
             std::move(request), [this, to = std::move(to)](Reply reply) { answer(to, reply); });
}

void ServiceTopics::answer(const Return& to, const Reply& reply) {
  mqtt::Properties properties;
  properties.content_type = "application/json";
  if (!to.response_topic) {
    return send_(to.client_id, service_result_topic(reply.status, to.rid), reply.body.dump(),
                 std::move(properties));
  }
  properties.correlation_data = to.correlation_data;
  properties.user_properties.push_back({"status", std::to_string(reply.status)});
  send_(to.client_id, *to.response_topic, reply.body.dump(), std::move(properties));
}

}  // namespace allscene::services
