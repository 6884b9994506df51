// The service side of the REST API without a network: Azure's device,
// twin, method and query paths, the native message path, SAS service
// authentication, etags and query paging. A fake DeviceLink stands in for
// the broker; devices answer through TwinService::on_publish.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "../registry/fake_storage.hpp"
#include "../twin/fake_device_link.hpp"
#include "api/admin_api.hpp"
#include "api/admin_server.hpp"
#include "api/service_auth.hpp"
#include "azure/azure.hpp"
#include "twin/twin_service.hpp"

namespace allscene::api {
namespace {

using nlohmann::json;
using registry::registry_testing::FakeStorage;
using registry::registry_testing::fast_options;
using namespace std::chrono_literals;

constexpr std::int64_t kNow = 1'790'000'000;  // unix seconds
const std::string kKey = azure::base64_encode(std::string(32, 'k'));
const std::string kOtherKey = azure::base64_encode(std::string(32, 'o'));

class NoReply final : public broker::HandlerReply {
 public:
  void publish(std::string, std::string, mqtt::Properties) override {}
};

// A signed service token, computed as Azure's SDKs do.
std::string service_token(const std::string& host, const std::string& policy,
                          const std::string& key, std::int64_t expiry) {
  return azure::make_sas_token(host, key, expiry, policy);
}

TEST(ServiceAuth, AcceptsTokensSignedWithEitherPolicyKey) {
  SharedAccessPolicies policies({{"iothubowner", {kKey, kOtherKey}}}, "Hub.Example");
  EXPECT_EQ(policies.check(service_token("hub.example", "iothubowner", kKey, kNow + 60), kNow),
            std::nullopt);
  EXPECT_EQ(policies.check(service_token("hub.example", "iothubowner", kOtherKey, kNow + 60), kNow),
            std::nullopt);
  // A path below the host, and a port after it, still name this hub.
  EXPECT_EQ(
      policies.check(service_token("HUB.example/devices", "iothubowner", kKey, kNow + 60), kNow),
      std::nullopt);
  EXPECT_EQ(policies.check(service_token("hub.example:8443", "iothubowner", kKey, kNow + 60), kNow),
            std::nullopt);
}

TEST(ServiceAuth, NamesWhatIsWrongWithARefusedToken) {
  SharedAccessPolicies policies({{"iothubowner", {kKey, kOtherKey}}}, "hub.example");
  const auto why = [&](const std::string& token) {
    return policies.check(token, kNow).value_or("accepted");
  };
  EXPECT_NE(why(service_token("hub.example", "iothubowner", kKey, kNow)).find("expired"),
            std::string::npos);
  EXPECT_NE(why(service_token("hub.example", "iothubowner",
                              azure::base64_encode("wrong key "
                                                   "bytes 0123456"),
                              kNow + 60))
                .find("signature"),
            std::string::npos);
  EXPECT_NE(why(service_token("hub.example", "registryRead", kKey, kNow + 60)).find("unknown"),
            std::string::npos);
  EXPECT_NE(
      why(service_token("other.example", "iothubowner", kKey, kNow + 60)).find("not this hub"),
      std::string::npos);
  EXPECT_NE(why(service_token("hub.example", "", kKey, kNow + 60)).find("skn"), std::string::npos);
  EXPECT_NE(why("SharedAccessSignature sr=hub.example&se=1").find("malformed"), std::string::npos);
  EXPECT_NE(why("Bearer x").find("not a SharedAccessSignature"), std::string::npos);
}

TEST(ServiceAuth, AnyHostWhenTheHubHasNone) {
  SharedAccessPolicies policies({{"iothubowner", {kKey, kOtherKey}}}, "");
  EXPECT_EQ(policies.check(service_token("anything", "iothubowner", kKey, kNow + 1), kNow),
            std::nullopt);
}

TEST(ServiceAuth, ConnectionStringHasAzuresShape) {
  EXPECT_EQ(service_connection_string("hub.example", "iothubowner", {kKey, kOtherKey}),
            "HostName=hub.example;SharedAccessKeyName=iothubowner;SharedAccessKey=" + kKey);
}

TEST(Etags, QuotesAndWeakPrefixAreStripped) {
  EXPECT_EQ(unquote_etag("\"AAAAAAAAAAE=\""), "AAAAAAAAAAE=");
  EXPECT_EQ(unquote_etag("AAAAAAAAAAE="), "AAAAAAAAAAE=");
  EXPECT_EQ(unquote_etag(" W/\"x\" "), "x");
  EXPECT_EQ(unquote_etag("*"), "*");
  EXPECT_EQ(unquote_etag(""), "");
}

TEST(Continuation, RoundTripsAnyDeviceIdAndRefusesGarbage) {
  for (const std::string& id :
       std::vector<std::string>{"a", "lamp#1", "d:1?x=%20", std::string(128, 'z')}) {
    EXPECT_EQ(continuation_device(continuation_after(id)), id);
  }
  EXPECT_EQ(continuation_device("not base64!"), std::nullopt);
  EXPECT_EQ(continuation_device(""), std::nullopt);
}

class ServiceApiTest : public ::testing::Test {
 protected:
  ServiceApiTest()
      : registry_(storage_, fast_options()),
        twins_(registry_, storage_, link_, options(), {}, [] { return kNow * 1000; }),
        api_(
            registry_, storage_, [this](const std::string& id) { revoked_.push_back(id); },
            ServiceSettings{&twins_, "service"}) {}

  static twin::ServiceOptions options() {
    twin::ServiceOptions o;
    o.max_message_bytes = 1024;
    return o;
  }

  Response call(std::string method, std::string target, const std::string& body = {},
                std::map<std::string, std::string> headers = {}) {
    return api_.handle({std::move(method), std::move(target), body, std::move(headers)});
  }
  Response call(std::string method, std::string target, const json& body,
                std::map<std::string, std::string> headers = {}) {
    return call(std::move(method), std::move(target), body.dump(), std::move(headers));
  }
  static json parsed(const Response& r) { return json::parse(r.body); }
  static std::string error(const Response& r) { return parsed(r).at("error").get<std::string>(); }

  void add_device(const std::string& id) {
    ASSERT_EQ(call("PUT", "/devices/" + azure::url_encode(id), json{{"deviceId", id}}).status,
              200u);
  }
  void device_publishes(const std::string& device, std::string topic, std::string payload) {
    mqtt::Publish p;
    p.topic = std::move(topic);
    p.payload = std::move(payload);
    NoReply reply;
    twins_.on_publish(device, device, p, reply);
  }
  void connect(const std::string& device) { link_.connect(device); }

  FakeStorage storage_;
  registry::Registry registry_;
  twin::twin_testing::FakeDeviceLink link_;
  twin::TwinService twins_;
  std::vector<std::string> revoked_;
  AdminApi api_;
};

TEST_F(ServiceApiTest, PutDeviceCreatesItWithGeneratedKeysUnderTheServiceUser) {
  const auto r = call("PUT", "/devices/lamp?api-version=2021-04-12", json{{"deviceId", "lamp"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  const auto d = parsed(r);
  EXPECT_EQ(d["deviceId"], "lamp");
  EXPECT_EQ(d["status"], "enabled");
  EXPECT_EQ(d["connectionState"], "Disconnected");
  EXPECT_EQ(d["authentication"]["type"], "sas");
  EXPECT_EQ(
      azure::base64_decode(d["authentication"]["symmetricKey"]["primaryKey"].get<std::string>())
          ->size(),
      32u);
  EXPECT_EQ(d["capabilities"]["iotEdge"], false);
  EXPECT_EQ(d["cloudToDeviceMessageCount"], 0);
  EXPECT_EQ(r.header("ETag"), "\"" + d["etag"].get<std::string>() + "\"");
  const auto snap = registry_.snapshot();
  ASSERT_TRUE(snap->user("service"));
  EXPECT_EQ(snap->device("lamp")->owner, "service");
  EXPECT_EQ(snap->device("lamp")->primary_key,
            d["authentication"]["symmetricKey"]["primaryKey"].get<std::string>());
}

TEST_F(ServiceApiTest, PutDeviceKeepsGivenKeysAndThumbprints) {
  const json sas{
      {"deviceId", "a"},
      {"status", "disabled"},
      {"authentication",
       {{"type", "sas"}, {"symmetricKey", {{"primaryKey", kKey}, {"secondaryKey", kOtherKey}}}}}};
  const auto r = call("PUT", "/devices/a", sas);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(parsed(r)["status"], "disabled");
  EXPECT_EQ(registry_.snapshot()->device("a")->secondary_key, kOtherKey);

  const std::string print(64, 'A');
  const auto x =
      call("PUT", "/devices/b",
           json{{"authentication",
                 {{"type", "selfSigned"}, {"x509Thumbprint", {{"primaryThumbprint", print}}}}}});
  ASSERT_EQ(x.status, 200u) << x.body;
  EXPECT_EQ(parsed(x)["authentication"]["type"], "selfSigned");
  EXPECT_EQ(parsed(x)["authentication"]["x509Thumbprint"]["primaryThumbprint"], print);
  EXPECT_TRUE(parsed(x)["authentication"]["symmetricKey"]["primaryKey"].is_null());
}

TEST_F(ServiceApiTest, PutDeviceRefusesBadBodies) {
  const auto refused = [&](const json& body) {
    const auto r = call("PUT", "/devices/c", body);
    EXPECT_EQ(r.status, 400u) << body;
    return error(r);
  };
  EXPECT_NE(refused(json{{"deviceId", "other"}}).find("the id in the path"), std::string::npos);
  EXPECT_NE(refused(json{{"status", "on"}}).find("status"), std::string::npos);
  EXPECT_NE(
      refused(json{{"authentication", {{"symmetricKey", {{"primaryKey", kKey}}}}}}).find("both"),
      std::string::npos);
  EXPECT_NE(
      refused(json{{"authentication",
                    {{"symmetricKey", {{"primaryKey", "short"}, {"secondaryKey", "short"}}}}}})
          .find("16 to 64 bytes"),
      std::string::npos);
  EXPECT_NE(refused(json{{"authentication", {{"type", "magic"}}}}).find("not supported"),
            std::string::npos);
  EXPECT_NE(refused(json{{"authentication", {{"type", "none"}}}}).find("needs a credential"),
            std::string::npos);
  const auto r = call("PUT", "/devices/c", std::string("{not json"));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(parsed(r)["errorCode"], 400004);
  EXPECT_FALSE(registry_.snapshot()->device("c"));
}

TEST_F(ServiceApiTest, UpdatingADeviceNeedsIfMatchAndHonoursIt) {
  add_device("lamp");
  const auto etag = parsed(call("GET", "/devices/lamp"))["etag"].get<std::string>();
  const auto again = call("PUT", "/devices/lamp", json{{"deviceId", "lamp"}});
  EXPECT_EQ(again.status, 409u);
  EXPECT_EQ(parsed(again)["errorCode"], 409001);
  EXPECT_EQ(
      call("PUT", "/devices/lamp", json{{"status", "disabled"}}, {{"if-match", "\"nope\""}}).status,
      412u);
  EXPECT_TRUE(registry_.snapshot()->device("lamp")->enabled);
  const auto updated = call("PUT", "/devices/lamp", json{{"status", "disabled"}},
                            {{"if-match", "\"" + etag + "\""}});
  ASSERT_EQ(updated.status, 200u) << updated.body;
  EXPECT_EQ(parsed(updated)["status"], "disabled");
  EXPECT_NE(parsed(updated)["etag"], etag);
  EXPECT_EQ(revoked_, std::vector<std::string>{"lamp"});
  const auto rekeyed =
      call("PUT", "/devices/lamp",
           json{{"status", "enabled"},
                {"authentication",
                 {{"symmetricKey", {{"primaryKey", kKey}, {"secondaryKey", kOtherKey}}}}}},
           {{"if-match", "*"}});
  ASSERT_EQ(rekeyed.status, 200u) << rekeyed.body;
  EXPECT_EQ(registry_.snapshot()->device("lamp")->primary_key, kKey);
  EXPECT_TRUE(registry_.snapshot()->device("lamp")->enabled);
}

TEST_F(ServiceApiTest, PasswordDevicesSurviveAnAzureRoundTrip) {
  registry_.add_user("alice", "Alice");
  registry::NewDevice n;
  n.id = "kettle";
  n.owner = "alice";
  n.auth = registry::AuthKind::password;
  registry_.add_device(n);
  auto device = parsed(call("GET", "/devices/kettle"));
  EXPECT_EQ(device["authentication"]["type"], "none");
  // What an SDK's update sends back: the device as read, status changed.
  device["status"] = "disabled";
  const auto r = call("PUT", "/devices/kettle", device, {{"if-match", "*"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  const auto* stored = registry_.snapshot()->device("kettle");
  EXPECT_FALSE(stored->enabled);
  EXPECT_FALSE(stored->password_hash.empty());
  EXPECT_EQ(stored->owner, "alice");
}

TEST_F(ServiceApiTest, ListAndDeleteDevicesTheAzureWay) {
  add_device("b");
  add_device("a");
  const auto list = parsed(call("GET", "/devices?top=10"));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["deviceId"], "a");
  EXPECT_EQ(call("DELETE", "/devices/a", std::string(), {{"if-match", "\"stale\""}}).status, 412u);
  ASSERT_EQ(call("PATCH", "/twins/a", json{{"tags", {{"x", 1}}}}).status, 200u);
  EXPECT_EQ(call("DELETE", "/devices/a", std::string(), {{"if-match", "*"}}).status, 204u);
  EXPECT_EQ(call("GET", "/devices/a").status, 404u);
  EXPECT_EQ(parsed(call("GET", "/devices/a"))["errorCode"], 404001);
  EXPECT_EQ(call("GET", "/twins/a").status, 404u);  // forgotten with the device
  EXPECT_EQ(revoked_, std::vector<std::string>{"a"});
  EXPECT_EQ(call("DELETE", "/devices/a").status, 404u);
  EXPECT_EQ(call("POST", "/devices/b").status, 405u);
  // Azure's SDKs list with a trailing slash.
  EXPECT_EQ(parsed(call("GET", "/devices/?api-version=2021-04-12")).size(), 1u);
  ASSERT_TRUE(registry_.snapshot()->device("b"));
  registry_.set_enabled("b", false);
  EXPECT_EQ(parsed(call("GET", "/statistics/devices")),
            (json{{"totalDeviceCount", 1}, {"enabledDeviceCount", 0}, {"disabledDeviceCount", 1}}));
}

TEST_F(ServiceApiTest, TwinEtagsGuardConcurrentChanges) {
  add_device("lamp");
  const auto got = call("GET", "/twins/lamp");
  ASSERT_EQ(got.status, 200u);
  const auto etag = parsed(got)["etag"].get<std::string>();
  EXPECT_EQ(got.header("etag"), "\"" + etag + "\"");
  const json patch{{"properties", {{"desired", {{"fan", 1}}}}}};
  // Two services read the same etag; the first change wins.
  const auto first = call("PATCH", "/twins/lamp", patch, {{"if-match", "\"" + etag + "\""}});
  ASSERT_EQ(first.status, 200u) << first.body;
  const auto second = call("PATCH", "/twins/lamp", json{{"tags", {{"room", "hall"}}}},
                           {{"if-match", "\"" + etag + "\""}});
  EXPECT_EQ(second.status, 412u);
  EXPECT_EQ(parsed(second)["errorCode"], 412002);
  const auto now = parsed(call("GET", "/twins/lamp"));
  EXPECT_EQ(now["properties"]["desired"]["fan"], 1);
  EXPECT_FALSE(now.contains("tags") && now["tags"].contains("room"));
  EXPECT_NE(now["etag"], etag);
  EXPECT_EQ(first.header("ETag"), "\"" + now["etag"].get<std::string>() + "\"");
  // Without If-Match, or with "*", any etag will do.
  EXPECT_EQ(call("PATCH", "/twins/lamp", json{{"tags", {{"room", "hall"}}}}).status, 200u);
  EXPECT_EQ(
      call("PATCH", "/twins/lamp", json{{"tags", {{"room", "den"}}}}, {{"if-match", "*"}}).status,
      200u);
}

TEST_F(ServiceApiTest, DesiredPatchesReachAConnectedDevice) {
  add_device("lamp");
  connect("lamp");
  ASSERT_EQ(
      call("PATCH", "/api/v1/devices/lamp/twin", json{{"properties", {{"desired", {{"fan", 2}}}}}})
          .status,
      200u);
  const auto sent = link_.wait_sent(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].topic, "$iothub/twin/PATCH/properties/desired/?$version=1");
  EXPECT_EQ(json::parse(sent[0].payload)["fan"], 2);
}

TEST_F(ServiceApiTest, TwinRefusalsSayWhy) {
  add_device("lamp");
  EXPECT_EQ(call("GET", "/twins/ghost").status, 404u);
  EXPECT_EQ(call("PATCH", "/twins/lamp", std::string("{not json")).status, 400u);
  EXPECT_EQ(call("PATCH", "/twins/lamp", std::string("[1]")).status, 400u);
  const auto big = call("PATCH", "/twins/lamp",
                        json{{"properties", {{"desired", {{"blob", std::string(40000, 'x')}}}}}});
  EXPECT_EQ(big.status, 413u);
  EXPECT_EQ(parsed(big)["errorCode"], 413001);
  EXPECT_EQ(call("DELETE", "/twins/lamp").status, 405u);
}

TEST_F(ServiceApiTest, ReplacingATwinDropsWhatItDoesNotHold) {
  add_device("lamp");
  ASSERT_EQ(call("PATCH", "/twins/lamp", json{{"tags", {{"a", 1}, {"b", 2}}}}).status, 200u);
  const auto r = call("PUT", "/twins/lamp", json{{"tags", {{"c", 3}}}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(parsed(r)["tags"], (json{{"c", 3}}));
}

TEST_F(ServiceApiTest, MethodCallsAnswerWhenTheDeviceDoes) {
  add_device("lamp");
  connect("lamp");
  std::promise<Response> answered;
  auto answer = answered.get_future();
  api_.handle_async(
      {"POST",
       "/twins/lamp/methods",
       json{{"methodName", "reboot"}, {"payload", {{"delay", 1}}}, {"responseTimeoutInSeconds", 30}}
           .dump(),
       {}},
      [&](Response r) { answered.set_value(std::move(r)); });
  // Not answered until the device is.
  EXPECT_EQ(answer.wait_for(50ms), std::future_status::timeout);
  const auto sent = link_.wait_sent(1);
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_TRUE(sent[0].topic.starts_with("$iothub/methods/POST/reboot/?$rid=")) << sent[0].topic;
  EXPECT_EQ(json::parse(sent[0].payload), (json{{"delay", 1}}));
  const auto rid = sent[0].topic.substr(sent[0].topic.find("$rid=") + 5);
  device_publishes("lamp", "$iothub/methods/res/201/?$rid=" + rid, R"({"ok": true})");
  ASSERT_EQ(answer.wait_for(5s), std::future_status::ready);
  const auto r = answer.get();
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(parsed(r), (json{{"status", 201}, {"payload", {{"ok", true}}}}));
}

TEST_F(ServiceApiTest, MethodCallsToAbsentDevicesAndSilentOnesFail) {
  add_device("lamp");
  const auto offline = call("POST", "/twins/lamp/methods", json{{"methodName", "m"}});
  EXPECT_EQ(offline.status, 404u);
  EXPECT_EQ(parsed(offline)["errorCode"], 404103);
  const auto unknown = call("POST", "/twins/ghost/methods", json{{"methodName", "m"}});
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(parsed(unknown)["errorCode"], 404001);
  EXPECT_EQ(call("POST", "/twins/lamp/methods", json{{"payload", 1}}).status, 400u);
  EXPECT_EQ(call("POST", "/twins/lamp/methods",
                 json{{"methodName", "m"}, {"responseTimeoutInSeconds", -1}})
                .status,
            400u);
  connect("lamp");
  const auto timed_out = call("POST", "/twins/lamp/methods",
                              json{{"methodName", "m"}, {"responseTimeoutInSeconds", 1}});
  EXPECT_EQ(timed_out.status, 504u);
  EXPECT_EQ(parsed(timed_out)["errorCode"], 504101);
}

TEST_F(ServiceApiTest, CloudToDeviceMessagesAreQueuedWithProperties) {
  add_device("lamp");
  const auto r = call(
      "POST", "/api/v1/devices/lamp/messages",
      json{{"payload", {{"on", true}}}, {"properties", {{"color", "red"}}}, {"ttlSeconds", 60}});
  ASSERT_EQ(r.status, 202u) << r.body;
  const auto id = parsed(r)["messageId"].get<std::string>();
  EXPECT_FALSE(id.empty());
  {
    std::lock_guard lock(link_.mutex);
    ASSERT_EQ(link_.routed.size(), 1u);
    const auto& m = link_.routed[0];
    EXPECT_TRUE(m.topic.starts_with("devices/lamp/messages/devicebound/")) << m.topic;
    EXPECT_NE(m.topic.find("color=red"), std::string::npos) << m.topic;
    EXPECT_EQ(json::parse(m.payload), (json{{"on", true}}));
    EXPECT_EQ(m.ttl, std::optional<std::chrono::seconds>(60s));
  }
  EXPECT_EQ(call("POST", "/api/v1/devices/ghost/messages", json{{"payload", "x"}}).status, 404u);
  EXPECT_EQ(
      call("POST", "/api/v1/devices/lamp/messages", json{{"properties", json::object()}}).status,
      400u);
  EXPECT_EQ(
      call("POST", "/api/v1/devices/lamp/messages", json{{"payload", "x"}, {"to", "y"}}).status,
      400u);
  EXPECT_EQ(call("POST", "/api/v1/devices/lamp/messages",
                 json{{"payload", "x"}, {"properties", {{"n", 1}}}})
                .status,
            400u);
  EXPECT_EQ(call("POST", "/api/v1/devices/lamp/messages", json{{"payload", std::string(2000, 'x')}})
                .status,
            413u);
}

class QueryTest : public ServiceApiTest {
 protected:
  QueryTest() {
    for (const auto* id : {"d1", "d2", "d3", "d4", "d5"}) {
      add_device(id);
      const bool hall = std::string(id) != "d3";
      EXPECT_EQ(call("PATCH", std::string("/twins/") + id,
                     json{{"tags", {{"room", hall ? "hall" : "den"}}}})
                    .status,
                200u);
    }
  }
  Response query(const std::string& text, std::map<std::string, std::string> headers = {}) {
    return call("POST", "/devices/query", json{{"query", text}}, std::move(headers));
  }
};

TEST_F(QueryTest, PagesFollowContinuationTokensToTheEnd) {
  const std::string q = "SELECT * FROM devices WHERE tags.room = 'hall'";
  std::vector<std::string> ids;
  std::string continuation;
  int pages = 0;
  do {
    std::map<std::string, std::string> headers{{"x-ms-max-item-count", "2"}};
    if (!continuation.empty()) headers["x-ms-continuation"] = continuation;
    const auto r = query(q, headers);
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.header("x-ms-item-type"), "Twin");
    const auto rows = parsed(r);
    EXPECT_LE(rows.size(), 2u);
    for (const auto& row : rows) ids.push_back(row["deviceId"].get<std::string>());
    continuation = r.header("x-ms-continuation");
    ASSERT_LT(++pages, 10);
  } while (!continuation.empty());
  EXPECT_EQ(ids, (std::vector<std::string>{"d1", "d2", "d4", "d5"}));
  EXPECT_EQ(pages, 2);
}

TEST_F(QueryTest, ProjectionsAndCountsAreJson) {
  const auto projected = query("SELECT deviceId FROM devices WHERE tags.room = 'den'");
  ASSERT_EQ(projected.status, 200u) << projected.body;
  EXPECT_EQ(projected.header("x-ms-item-type"), "JSON");
  EXPECT_EQ(parsed(projected), json::parse(R"([{"deviceId": "d3"}])"));
  const auto counted = query("SELECT COUNT() AS n FROM devices WHERE tags.room = 'hall'");
  ASSERT_EQ(counted.status, 200u) << counted.body;
  EXPECT_EQ(parsed(counted), json::parse(R"([{"n": 4}])"));
  EXPECT_TRUE(counted.header("x-ms-continuation").empty());
}

TEST_F(QueryTest, BadQueriesAndPagingHeadersAreRefused) {
  const auto bad = query("SELECT * FROM devices WHERE");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(error(bad).find("query"), std::string::npos) << error(bad);
  EXPECT_EQ(query("SELECT * FROM devices", {{"x-ms-max-item-count", "0"}}).status, 400u);
  EXPECT_EQ(query("SELECT * FROM devices", {{"x-ms-max-item-count", "10001"}}).status, 400u);
  EXPECT_EQ(query("SELECT * FROM devices", {{"x-ms-max-item-count", "10000"}}).status, 200u);
  EXPECT_EQ(query("SELECT * FROM devices", {{"x-ms-max-item-count", "2x"}}).status, 400u);
  EXPECT_EQ(query("SELECT * FROM devices", {{"x-ms-continuation", "%%%"}}).status, 400u);
  EXPECT_EQ(call("POST", "/devices/query", json{{"sql", "SELECT"}}).status, 400u);
}

TEST(ServiceApiWithoutTwins, ServicePathsAnswer503) {
  FakeStorage storage;
  registry::Registry registry(storage, fast_options());
  AdminApi api(registry, storage);
  EXPECT_EQ(api.handle({"GET", "/twins/x", "", {}}).status, 503u);
  EXPECT_EQ(api.handle({"GET", "/devices", "", {}}).status, 200u);
}

class ServerAuthTest : public ServiceApiTest {
 protected:
  ServerAuthTest()
      : server_(api_, ServerOptions{
                          "s3cret",
                          SharedAccessPolicies({{"iothubowner", {kKey, kOtherKey}}}, "hub.example"),
                          {},
                          {},
                          [] { return kNow; }}) {}
  AdminServer server_;
};

TEST_F(ServerAuthTest, SasAndBearerWorkOnAzureAndNativePaths) {
  const auto sas = service_token("hub.example", "iothubowner", kKey, kNow + 60);
  for (const auto* target : {"/devices", "/api/v1/devices"}) {
    EXPECT_EQ(server_.answer({"GET", target, "", {}}, sas).status, 200u) << target;
    EXPECT_EQ(server_.answer({"GET", target, "", {}}, "Bearer s3cret").status, 200u) << target;
  }
  const auto expired = server_.answer({"GET", "/devices", "", {}},
                                      service_token("hub.example", "iothubowner", kKey, kNow - 1));
  EXPECT_EQ(expired.status, 401u);
  EXPECT_NE(error(expired).find("expired"), std::string::npos);
  EXPECT_EQ(parsed(expired)["errorCode"], 401002);
  const auto wrong =
      server_.answer({"GET", "/api/v1/users", "", {}},
                     service_token("hub.example", "iothubowner",
                                   azure::base64_encode(std::string(32, 'w')), kNow + 60));
  EXPECT_EQ(wrong.status, 401u);
  EXPECT_NE(error(wrong).find("signature"), std::string::npos);
  EXPECT_EQ(server_.answer({"GET", "/twins/x", "", {}}, "Basic abc").status, 401u);
  EXPECT_EQ(server_.answer({"GET", "/healthz", "", {}}, "").status, 200u);
}

}  // namespace
}  // namespace allscene::api
