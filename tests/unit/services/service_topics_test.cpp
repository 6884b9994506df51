// $services/ over MQTT: topics, both ways of answering, refusals.
#include "services/service_topics.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

namespace allscene::services {
namespace {

using nlohmann::json;

class Echo final : public Service {
 public:
  std::string_view name() const override { return "echo"; }
  std::vector<std::string> operations() const override { return {"say"}; }
  Reply call(const Caller& caller, std::string_view, const json& request) override {
    return Reply::success({{"user", caller.user}, {"device", caller.device_id}, {"req", request}});
  }
};

class NoReply final : public broker::HandlerReply {
 public:
  void publish(std::string, std::string, mqtt::Properties) override {}
};

struct Answer {
  std::string client_id, topic, payload;
  mqtt::Properties properties;
};

class ServiceTopicsTest : public ::testing::Test {
 protected:
  ServiceTopicsTest()
      : topics_(
            host_,
            [](std::string_view client_id, std::string_view identity) -> std::optional<Caller> {
              const std::string id(identity.empty() ? client_id : identity);
              if (id == "stranger") return std::nullopt;
              return Caller{"ana", id, false};
            },
            [this](const std::string& client_id, std::string topic, std::string payload,
                   mqtt::Properties properties) {
              std::lock_guard lock(mutex_);
              answers_.push_back(
                  {client_id, std::move(topic), std::move(payload), std::move(properties)});
              cv_.notify_all();
            }) {
    host_.add(std::make_unique<Echo>());
  }
  void publish(const std::string& client_id, const std::string& topic, std::string payload,
               mqtt::Properties properties = {}) {
    mqtt::Publish p;
    p.topic = topic;
    p.payload = std::move(payload);
    p.properties = std::move(properties);
    NoReply reply;
    topics_.on_publish(client_id, client_id, p, reply);
  }
  // The n-th answer (waits up to 5 s).
  Answer answer(std::size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::seconds(5), [&] { return answers_.size() >= n; });
    return answers_.size() >= n ? answers_[n - 1] : Answer{};
  }
  std::size_t answered() {
    std::lock_guard lock(mutex_);
    return answers_.size();
  }

  ServiceHost host_;
  ServiceTopics topics_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Answer> answers_;
};

TEST(ServiceTopicParse, NamesServiceOperationAndRequestId) {
  const auto plain = parse_service_topic("$services/translation/translate");
  ASSERT_TRUE(plain.request);
  EXPECT_EQ(plain.request->service, "translation");
  EXPECT_EQ(plain.request->operation, "translate");
  EXPECT_EQ(plain.rid, "");
  const auto with_rid = parse_service_topic("$services/travel/day/?$rid=42");
  ASSERT_TRUE(with_rid.request);
  EXPECT_EQ(with_rid.rid, "42");
  for (const char* bad :
       {"$services/translation", "$services/a/b/c", "$services//x", "$services/a/",
        "$services/a/b/?x=1", "$services/res/200/?$rid=1", "$services/a/$b"}) {
    const auto parsed = parse_service_topic(bad);
    EXPECT_FALSE(parsed.request) << bad;
    EXPECT_FALSE(parsed.error.empty()) << bad;
  }
  EXPECT_EQ(parse_service_topic("$services/a/?$rid=5").rid, "5");  // a refusal can be answered
  EXPECT_EQ(service_result_topic(404, "7"), "$services/res/404/?$rid=7");
}

// MQTT 5 request/response (§4.10): the answer goes to the Response Topic
// with the request's Correlation Data.
TEST_F(ServiceTopicsTest, Mqtt5AnswersOnTheResponseTopicWithCorrelationData) {
  mqtt::Properties props;
  props.response_topic = "devices/phone/replies";
  props.correlation_data = std::string("\x01\x02", 2);
  publish("phone", "$services/echo/say", R"({"text":"hi"})", props);
  const Answer a = answer(1);
  EXPECT_EQ(a.client_id, "phone");
  EXPECT_EQ(a.topic, "devices/phone/replies");
  EXPECT_EQ(a.properties.correlation_data, std::string("\x01\x02", 2));
  ASSERT_EQ(a.properties.user_properties.size(), 1u);
  EXPECT_EQ(a.properties.user_properties[0].key, "status");
  EXPECT_EQ(a.properties.user_properties[0].value, "200");
  EXPECT_EQ(a.properties.content_type, "application/json");
  const json body = json::parse(a.payload);
  EXPECT_EQ(body["user"], "ana");
  EXPECT_EQ(body["device"], "phone");
  EXPECT_EQ(body["req"]["text"], "hi");
}

TEST_F(ServiceTopicsTest, Mqtt311AnswersOnTheResultTopicByRequestId) {
  publish("watch", "$services/echo/say/?$rid=9", "");
  const Answer a = answer(1);
  EXPECT_EQ(a.topic, "$services/res/200/?$rid=9");
  EXPECT_EQ(json::parse(a.payload)["req"], json::object());  // empty payload: {}
}

TEST_F(ServiceTopicsTest, RefusalsAreAnsweredWithACodeAndAMessage) {
  publish("watch", "$services/echo/say/?$rid=1", "not json");
  publish("watch", "$services/echo/say/?$rid=2", "[1, 2]");
  publish("watch", "$services/echo/?$rid=3", "{}");
  publish("stranger", "$services/echo/say/?$rid=4", "{}");
  publish("watch", "$services/nope/say/?$rid=5", "{}");
  EXPECT_EQ(answer(5).topic.empty(), false);
  std::map<std::string, std::pair<std::string, std::string>> by_rid;
  for (std::size_t i = 1; i <= 5; ++i) {
    const Answer a = answer(i);
    const auto rid = a.topic.substr(a.topic.find("$rid=") + 5);
    by_rid[rid] = {a.topic.substr(0, a.topic.find("/?")), json::parse(a.payload)["code"]};
  }
  EXPECT_EQ(by_rid["1"], std::make_pair(std::string("$services/res/400"), std::string("bad_json")));
  EXPECT_EQ(by_rid["2"], std::make_pair(std::string("$services/res/400"), std::string("bad_json")));
  EXPECT_EQ(by_rid["3"],
            std::make_pair(std::string("$services/res/400"), std::string("bad_topic")));
  EXPECT_EQ(by_rid["4"],
            std::make_pair(std::string("$services/res/403"), std::string("not_a_device")));
  EXPECT_EQ(by_rid["5"],
            std::make_pair(std::string("$services/res/404"), std::string("unknown_service")));
}

TEST_F(ServiceTopicsTest, ARequestWithNowhereToAnswerIsDropped) {
  publish("watch", "$services/echo/say", "{}");
  publish("watch", "$services/echo", "{}");
  publish("watch", "$services/echo/say/?$rid=1", "{}");  // a marker behind them
  answer(1);
  EXPECT_EQ(answered(), 1u);
  EXPECT_EQ(answer(1).topic, "$services/res/200/?$rid=1");
}

}  // namespace
}  // namespace allscene::services
