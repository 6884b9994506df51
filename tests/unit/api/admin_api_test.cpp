// The admin API without a network: routing, validation, statuses, what is
// shown, revocation callbacks and the token check.
#include "api/admin_api.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../registry/fake_storage.hpp"
#include "api/admin_server.hpp"
#include "api/views.hpp"
#include "azure/azure.hpp"

namespace allscene::api {
namespace {

using nlohmann::json;
using registry::registry_testing::FakeStorage;
using registry::registry_testing::fast_options;

TEST(PathSegments, AnyIdRoundTripsThroughItsEscaping) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  const auto encoded = azure::url_encode(all);
  EXPECT_EQ(encoded.find_first_of("/?#%+ "), encoded.find('%'));  // only escapes use '%'
  EXPECT_EQ(azure::url_decode(encoded), all);
  EXPECT_EQ(azure::url_encode("a-b.c_d~e"), "a-b.c_d~e");
  EXPECT_EQ(azure::url_encode("d:1#?%"), "d%3A1%23%3F%25");
}

TEST(PathSegments, MalformedEscapesAreRefused) {
  EXPECT_EQ(azure::url_decode("%"), std::nullopt);
  EXPECT_EQ(azure::url_decode("ab%2"), std::nullopt);
  EXPECT_EQ(azure::url_decode("%zz"), std::nullopt);
  EXPECT_EQ(azure::url_decode("a+b%20c"), "a+b c");
}

TEST(Target, SplitsDecodedSegmentsAndQuery) {
  const auto t = parse_target("/api/v1/devices/a%2Fb?owner=al%20ice&x");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->segments, (std::vector<std::string>{"api", "v1", "devices", "a/b"}));
  EXPECT_EQ(t->query.at("owner"), "al ice");
  EXPECT_EQ(t->query.at("x"), "");
  EXPECT_FALSE(parse_target("/api/v1/devices/%G0"));
}

TEST(Target, ApiAndAzurePathsNeedAuthentication) {
  EXPECT_TRUE(requires_token("/api/v1/users"));
  EXPECT_TRUE(requires_token("/api/v1"));
  EXPECT_TRUE(requires_token("/api/v1?x=1"));
  EXPECT_TRUE(requires_token("/twins/d1?api-version=2021-04-12"));
  EXPECT_TRUE(requires_token("/devices/query"));
  EXPECT_FALSE(requires_token("/healthz"));
  EXPECT_FALSE(requires_token("/healthz?x=1"));
  EXPECT_FALSE(requires_token("/api/v10/users"));
  EXPECT_FALSE(requires_token("/devicesx"));
}

class AdminApiTest : public ::testing::Test {
 protected:
  AdminApiTest()
      : registry_(storage_, fast_options()),
        api_(registry_, storage_, [this](const std::string& id) { revoked_.push_back(id); }) {}

  Response call(std::string method, std::string target, const json& body = nullptr) {
    return api_.handle(
        {std::move(method), std::move(target), body.is_null() ? std::string() : body.dump()});
  }
  static json parsed(const Response& r) { return json::parse(r.body); }
  static std::string error(const Response& r) { return parsed(r).at("error").get<std::string>(); }

  void add_alice_and_phone() {
    ASSERT_EQ(call("POST", "/api/v1/users", {{"id", "alice"}}).status, 201u);
    ASSERT_EQ(call("POST", "/api/v1/devices", {{"id", "phone"}, {"owner", "alice"}}).status, 201u);
  }

  FakeStorage storage_;
  registry::Registry registry_;
  std::vector<std::string> revoked_;
  AdminApi api_;
};

TEST_F(AdminApiTest, HealthzAnswersOk) {
  const auto r = call("GET", "/healthz");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(r.content_type, "text/plain");
}

TEST_F(AdminApiTest, AddedDeviceShowsCredentialsOnceAndNoSecretsAfter) {
  ASSERT_EQ(call("POST", "/api/v1/users", {{"id", "alice"}}).status, 201u);
  const auto added = call("POST", "/api/v1/devices",
                          {{"id", "phone"}, {"owner", "alice"}, {"tags", {{"k", "v"}}}});
  ASSERT_EQ(added.status, 201u) << added.body;
  const auto j = parsed(added);
  EXPECT_EQ(j["credentials"]["primary_key"].get<std::string>(),
            registry_.snapshot()->device("phone")->primary_key);
  for (const auto& r : {call("GET", "/api/v1/devices/phone"), call("GET", "/api/v1/devices")}) {
    EXPECT_EQ(r.status, 200u);
    for (const char* secret : {"primary_key", "secondary_key", "password_hash", "password"}) {
      EXPECT_EQ(r.body.find(secret), std::string::npos) << r.body;
    }
  }
  EXPECT_EQ(added.content_type, "application/json");
  const auto shown = parsed(call("GET", "/api/v1/devices/phone"));
  EXPECT_EQ(shown["auth"], "sas");
  EXPECT_EQ(shown["tags"]["k"], "v");
  EXPECT_EQ(shown["connected"], false);
}

TEST_F(AdminApiTest, StatusesSayWhatWentWrong) {
  add_alice_and_phone();
  EXPECT_EQ(call("POST", "/api/v1/users", {{"id", "alice"}}).status, 409u);
  EXPECT_EQ(call("POST", "/api/v1/devices", {{"id", "phone"}, {"owner", "alice"}}).status, 409u);
  const auto no_owner = call("POST", "/api/v1/devices", {{"id", "p2"}, {"owner", "bob"}});
  EXPECT_EQ(no_owner.status, 404u);
  EXPECT_NE(error(no_owner).find("bob"), std::string::npos);
  const auto owns = call("DELETE", "/api/v1/users/alice");
  EXPECT_EQ(owns.status, 409u);
  EXPECT_NE(error(owns).find("phone"), std::string::npos);
  EXPECT_EQ(call("POST", "/api/v1/users", {{"id", "a b"}}).status, 400u);
  EXPECT_EQ(api_.handle({"POST", "/api/v1/users", "{"}).status, 400u);
  EXPECT_EQ(api_.handle({"POST", "/api/v1/users", "[]"}).status, 400u);
  EXPECT_EQ(call("POST", "/api/v1/users", {{"id", "x"}, {"admin", true}}).status, 400u);
  EXPECT_EQ(call("PATCH", "/api/v1/devices/phone", {{"enabled", 1}}).status, 400u);
  EXPECT_EQ(call("PATCH", "/api/v1/devices/nope", {{"enabled", true}}).status, 404u);
  EXPECT_EQ(call("GET", "/api/v1/devices?colour=red").status, 400u);
  EXPECT_EQ(call("GET", "/api/v1/things").status, 404u);
  EXPECT_EQ(call("GET", "/nope").status, 404u);
  EXPECT_EQ(call("GET", "/").header("Location"), "/console/");
  const auto method = call("PUT", "/api/v1/devices/phone");
  EXPECT_EQ(method.status, 405u);
  EXPECT_NE(error(method).find("GET, PATCH, DELETE"), std::string::npos);
  EXPECT_EQ(call("POST", "/api/v1/devices/nope/rotate-key").status, 404u);
}

TEST_F(AdminApiTest, DisablingAndRemovingRevokeEnablingDoesNot) {
  add_alice_and_phone();
  EXPECT_EQ(call("PATCH", "/api/v1/devices/phone", {{"enabled", false}}).status, 200u);
  EXPECT_FALSE(registry_.snapshot()->device("phone")->enabled);
  EXPECT_EQ(revoked_, std::vector<std::string>{"phone"});
  EXPECT_EQ(call("PATCH", "/api/v1/devices/phone", {{"enabled", true}}).status, 200u);
  EXPECT_EQ(revoked_.size(), 1u);
  EXPECT_EQ(call("DELETE", "/api/v1/devices/phone").status, 204u);
  EXPECT_EQ(revoked_, (std::vector<std::string>{"phone", "phone"}));
  EXPECT_EQ(registry_.snapshot()->device("phone"), nullptr);
  EXPECT_EQ(call("DELETE", "/api/v1/users/alice").status, 204u);
}

TEST_F(AdminApiTest, ListFiltersByOwnerAndSorts) {
  add_alice_and_phone();
  ASSERT_EQ(call("POST", "/api/v1/users", {{"id", "bob"}}).status, 201u);
  ASSERT_EQ(call("POST", "/api/v1/devices", {{"id", "b-1"}, {"owner", "bob"}}).status, 201u);
  ASSERT_EQ(call("POST", "/api/v1/devices", {{"id", "a-2"}, {"owner", "alice"}}).status, 201u);
  std::vector<std::string> ids;
  for (const auto& d : parsed(call("GET", "/api/v1/devices"))) ids.push_back(d["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"a-2", "b-1", "phone"}));
  ids.clear();
  for (const auto& d : parsed(call("GET", "/api/v1/devices?owner=alice"))) ids.push_back(d["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"a-2", "phone"}));
}

TEST_F(AdminApiTest, RotationGivesNewKeys) {
  add_alice_and_phone();
  const auto before = registry_.snapshot()->device("phone")->primary_key;
  const auto r = call("POST", "/api/v1/devices/phone/rotate-key");
  ASSERT_EQ(r.status, 200u);
  EXPECT_NE(parsed(r)["primary_key"], before);
  EXPECT_EQ(parsed(r)["primary_key"], registry_.snapshot()->device("phone")->primary_key);
}

TEST_F(AdminApiTest, StorageFailureIsA500) {
  storage_.fail_writes = true;
  const auto r = call("POST", "/api/v1/users", {{"id", "alice"}});
  EXPECT_EQ(r.status, 500u);
  EXPECT_NE(error(r).find("disk full"), std::string::npos);
}

TEST_F(AdminApiTest, TheServerChecksTheBearerToken) {
  AdminServer server(api_, "s3cret");
  EXPECT_EQ(server.answer({"GET", "/api/v1/users", ""}, "").status, 401u);
  EXPECT_EQ(server.answer({"GET", "/api/v1/users", ""}, "Bearer s3cre").status, 401u);
  EXPECT_EQ(server.answer({"GET", "/api/v1/users", ""}, "Bearer s3creT").status, 401u);
  EXPECT_EQ(server.answer({"GET", "/api/v1/users", ""}, "s3cret").status, 401u);
  EXPECT_EQ(server.answer({"GET", "/api/v1/users", ""}, "Bearer s3cret").status, 200u);
  EXPECT_EQ(server.answer({"GET", "/healthz", ""}, "").status, 200u);
  EXPECT_EQ(server.answer({"POST", "/api/v1/users", R"({"id":"x"})"}, "Bearer no").status, 401u);
  EXPECT_EQ(registry_.snapshot()->user("x"), nullptr);
}

class NullFeed final : public EventFeed {
 public:
  void start(Push, End) override {}
  void stop() override {}
  void set_backlog(std::size_t) override {}
};

TEST(EventStream, OpensAFeedForValidFiltersOnly) {
  FakeStorage storage;
  registry::Registry registry(storage, fast_options());
  registry.load();
  std::vector<std::vector<std::string>> opened;
  AdminApi api(registry, storage, {},
               ServiceSettings{nullptr, "service", [&](std::vector<std::string> filters) {
                                 opened.push_back(filters);
                                 return std::make_shared<NullFeed>();
                               }});
  auto r = api.handle({"GET", "/api/v1/events", "", {}});
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/event-stream");
  EXPECT_NE(r.feed, nullptr);
  r = api.handle({"GET", "/api/v1/events?filter=a/%2B/c%20%24share/g/d/%23", "", {}});
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(opened, (std::vector<std::vector<std::string>>{{"devices/+/messages/events/#"},
                                                           {"a/+/c", "$share/g/d/#"}}));
  EXPECT_EQ(api.handle({"GET", "/api/v1/events?filter=a/%23/b", "", {}}).status, 400u);
  EXPECT_EQ(api.handle({"POST", "/api/v1/events", "", {}}).status, 405u);
  AdminApi without(registry, storage);
  EXPECT_EQ(without.handle({"GET", "/api/v1/events", "", {}}).status, 503u);
}

TEST(EventStream, EventsAreOneJsonDataLine) {
  EXPECT_EQ(format_event("a/b", "x\ny"),
            "event: message\ndata: {\"payload\":\"x\\ny\",\"topic\":\"a/b\"}\n\n");
  const auto e =
      format_event("devices/lamp/messages/events/%24.ct=application%2Fjson&k=v", R"({"t": 1})");
  const auto data = json::parse(e.substr(e.find("data: ") + 6));
  EXPECT_EQ(data["deviceId"], "lamp");
  EXPECT_EQ(data["payload"], json::parse(R"({"t": 1})"));
  EXPECT_EQ(data["properties"], json::parse(R"({"$.ct": "application/json", "k": "v"})"));
}

}  // namespace
}  // namespace allscene::api
