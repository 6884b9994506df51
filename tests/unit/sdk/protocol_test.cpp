#include "protocol.hpp"

#include <gtest/gtest.h>

#include "allscene/error.hpp"
#include "azure/azure.hpp"
#include "azure/topics.hpp"

namespace allscene::sdk::detail {
namespace {

constexpr const char* kKey = "ANr8NwlsEeh+NsPqZfIAnL/vfn5sQLnHDv6ECML6St0=";

TEST(Protocol, UsernameIsAzures) {
  EXPECT_EQ(device_username("hub.example", "bulb-1"), "hub.example/bulb-1/?api-version=2021-04-12");
  const auto parsed = azure::parse_device_username(device_username("h", "d"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->device_id, "d");
  EXPECT_EQ(parsed->api_version, "2021-04-12");
}

TEST(Protocol, SasTokenIsScopedToTheDeviceAndSignedByItsKey) {
  const std::string token = device_sas_token("hub.example", "bulb 1", kKey, 1900000000);
  // sr url-encoded; the signature is base64 (url-encoded) of HMAC-SHA256.
  EXPECT_EQ(token.rfind("SharedAccessSignature sr=hub.example%2Fdevices%2Fbulb%201&sig=", 0), 0u)
      << token;
  EXPECT_NE(token.find("&se=1900000000"), std::string::npos);
  const auto parsed = azure::parse_sas_token(token);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->expiry, 1900000000);
  EXPECT_TRUE(azure::sas_resource_is_device(*parsed, "bulb 1", "hub.example"));
  EXPECT_TRUE(azure::sas_signed_by(*parsed, kKey));
  EXPECT_FALSE(azure::sas_signed_by(*parsed, "CeNRdQQ0kqTNe3wA20jFrzv5gjRzxxpWQ6fnuTOzs68="));
}

// A signature computed by hand for a fixed key, resource and expiry
// (python: base64(hmac.new(b64decode(key), b"h%2Fdevices%2Fd\n1700000000", sha256))).
TEST(Protocol, SasSignatureMatchesAzuresFormula) {
  const std::string token = device_sas_token("h", "d", "a2V5", 1700000000);
  EXPECT_EQ(token,
            "SharedAccessSignature sr=h%2Fdevices%2Fd"
            "&sig=891Q1s7jWUEPyR2sTPS07RyeXuiI3NnPijD%2F88yVEHU%3D&se=1700000000");
}

TEST(Protocol, TwinRequestTopics) {
  EXPECT_EQ(twin_get_topic("7"), "$iothub/twin/GET/?$rid=7");
  EXPECT_EQ(twin_reported_topic("8"), "$iothub/twin/PATCH/properties/reported/?$rid=8");
  EXPECT_EQ(devicebound_filter("d1"), "devices/d1/messages/devicebound/#");
}

TEST(Protocol, TwinResponseTopics) {
  auto r = parse_twin_response_topic("$iothub/twin/res/204/?$rid=8&$version=12");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->rid, "8");
  EXPECT_EQ(r->version, 12);
  r = parse_twin_response_topic("$iothub/twin/res/200/?$rid=a%20b");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->rid, "a b");
  EXPECT_FALSE(r->version);
  for (const char* bad : {"$iothub/twin/res/200/", "$iothub/twin/res/200/?$version=1",
                          "$iothub/twin/res/x/?$rid=1", "$iothub/twin/res//?$rid=1",
                          "$iothub/twin/res/204/?$rid=1&$version=z", "$iothub/twin/GET/?$rid=1"}) {
    EXPECT_FALSE(parse_twin_response_topic(bad)) << bad;
  }
}

TEST(Protocol, DesiredPatchTopics) {
  EXPECT_EQ(parse_desired_patch_topic("$iothub/twin/PATCH/properties/desired/?$version=5"), 5);
  EXPECT_EQ(parse_desired_patch_topic("$iothub/twin/PATCH/properties/desired/"), 0);
  EXPECT_FALSE(parse_desired_patch_topic("$iothub/twin/PATCH/properties/reported/?$rid=1"));
  EXPECT_FALSE(parse_desired_patch_topic("$iothub/twin/PATCH/properties/desired/?$version=x"));
  const auto patch = parse_desired_patch(R"({"on":true,"$version":5})");
  ASSERT_TRUE(patch);
  EXPECT_EQ(*patch, (nlohmann::json{{"on", true}}));
  EXPECT_FALSE(parse_desired_patch("[1]"));
  EXPECT_FALSE(parse_desired_patch("{"));
}

TEST(Protocol, MethodTopics) {
  const auto m = parse_method_topic("$iothub/methods/POST/set%20color/?$rid=42");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "set color");
  EXPECT_EQ(m->rid, "42");
  EXPECT_FALSE(parse_method_topic("$iothub/methods/POST/blink/"));
  EXPECT_FALSE(parse_method_topic("$iothub/methods/POST//?$rid=1"));
  EXPECT_EQ(method_response_topic(200, "42"), "$iothub/methods/res/200/?$rid=42");
}

TEST(Protocol, EventTopicWritesSystemPropertiesLiterallyThenApplicationOnes) {
  Event e;
  e.content_type = "application/json";
  e.content_encoding = "utf-8";
  e.properties = {{"temp", "hot"}, {"a b", "c&d"}};
  EXPECT_EQ(event_topic("phone", e),
            "devices/phone/messages/events/"
            "$.ct=application%2Fjson&$.ce=utf-8&temp=hot&a%20b=c%26d");
  EXPECT_EQ(event_topic("phone", Event{}), "devices/phone/messages/events/");
  Event m;
  m.message_id = "m-1";
  EXPECT_EQ(event_topic("p", m), "devices/p/messages/events/$.mid=m-1");
  const auto parsed = azure::parse_device_event(event_topic("phone", e));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->properties,
            (azure::PropertyBag{
                {"$.ct", "application/json"}, {"$.ce", "utf-8"}, {"temp", "hot"}, {"a b", "c&d"}}));
}

TEST(Protocol, DeviceboundProperties) {
  const auto p = parse_devicebound_topic(
      "devices/d1/messages/devicebound/%24.mid=m1&%24.to=%2Fdevices%2Fd1&k=v", "d1");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (Properties{{"$.mid", "m1"}, {"$.to", "/devices/d1"}, {"k", "v"}}));
  EXPECT_EQ(parse_devicebound_topic("devices/d1/messages/devicebound/", "d1"), Properties{});
  EXPECT_FALSE(parse_devicebound_topic("devices/d2/messages/devicebound/k=v", "d1"));
  EXPECT_FALSE(parse_devicebound_topic("devices/d1/messages/devicebound/a/b", "d1"));
  EXPECT_FALSE(parse_devicebound_topic("devices/d1/messages/devicebound/k=%zz", "d1"));
  CloudMessage m;
  m.properties = *p;
  EXPECT_EQ(m.property("$.mid"), "m1");
  EXPECT_EQ(m.property("absent"), "");
}

TEST(Protocol, TwinDocument) {
  const auto twin = parse_twin_document(
      R"({"desired":{"on":true,"$version":3},"reported":{"on":false,"$version":7}})");
  ASSERT_TRUE(twin);
  EXPECT_EQ(twin->desired, (nlohmann::json{{"on", true}}));
  EXPECT_EQ(twin->reported, (nlohmann::json{{"on", false}}));
  EXPECT_EQ(twin->desired_version, 3);
  EXPECT_EQ(twin->reported_version, 7);
  const auto empty = parse_twin_document("{}");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->desired, nlohmann::json::object());
  EXPECT_FALSE(parse_twin_document(R"({"desired":[]})"));
  EXPECT_FALSE(parse_twin_document(R"({"desired":{"$version":"x"}})"));
  EXPECT_FALSE(parse_twin_document("not json"));
}

TEST(Protocol, StatusesMapToErrors) {
  EXPECT_FALSE(error_from_status(200));
  EXPECT_FALSE(error_from_status(204));
  EXPECT_EQ(error_from_status(400), Errc::bad_request);
  EXPECT_EQ(error_from_status(404), Errc::not_found);
  EXPECT_EQ(error_from_status(413), Errc::payload_too_large);
  EXPECT_EQ(error_from_status(429), Errc::throttled);
  EXPECT_EQ(error_from_status(500), Errc::hub_error);
  EXPECT_EQ(error_from_status(503), Errc::hub_error);
  EXPECT_EQ(error_from_status(409), Errc::request_failed);
  EXPECT_EQ(error_from_status(302), Errc::request_failed);
}

}  // namespace
}  // namespace allscene::sdk::detail
