// Azure IoT Hub device topics, as the Azure IoT device SDKs write and read
// them (Azure IoT Hub MQTT support: device twins, direct methods,
// device-to-cloud and cloud-to-device messages).
#include "azure/topics.hpp"

#include <gtest/gtest.h>

namespace allscene::azure {
namespace {

TEST(AzureTopics, TwinRequests) {
  auto get = parse_twin_request("$iothub/twin/GET/?$rid=1");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->kind, TwinRequest::Kind::get);
  EXPECT_EQ(get->rid, "1");
  auto patch = parse_twin_request("$iothub/twin/PATCH/properties/reported/?$rid=abc-7");
  ASSERT_TRUE(patch);
  EXPECT_EQ(patch->kind, TwinRequest::Kind::patch_reported);
  EXPECT_EQ(patch->rid, "abc-7");
  // Other parameters may follow; the order does not matter.
  EXPECT_EQ(parse_twin_request("$iothub/twin/GET/?x=1&$rid=9")->rid, "9");
}

TEST(AzureTopics, MalformedTwinRequestsAreNotRequests) {
  for (const char* topic :
       {"$iothub/twin/GET/", "$iothub/twin/GET/?$rid=", "$iothub/twin/GET/?rid=1",
        "$iothub/twin/GET?$rid=1", "$iothub/twin/PATCH/properties/desired/?$rid=1",
        "$iothub/twin/GET/?$rid=%zz", "devices/d/messages/events/", ""}) {
    EXPECT_FALSE(parse_twin_request(topic)) << topic;
  }
}

TEST(AzureTopics, TwinResponsesAndDesiredPatches) {
  EXPECT_EQ(twin_response_topic(200, "1"), "$iothub/twin/res/200/?$rid=1");
  EXPECT_EQ(twin_response_topic(204, "7", 12), "$iothub/twin/res/204/?$rid=7&$version=12");
  EXPECT_EQ(desired_patch_topic(3), "$iothub/twin/PATCH/properties/desired/?$version=3");
}

TEST(AzureTopics, DirectMethods) {
  EXPECT_EQ(method_request_topic("reboot", "42"), "$iothub/methods/POST/reboot/?$rid=42");
  auto r = parse_method_response("$iothub/methods/res/200/?$rid=42");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->rid, "42");
  for (const char* topic :
       {"$iothub/methods/res/2000/?$rid=1", "$iothub/methods/res/abc/?$rid=1",
        "$iothub/methods/res/200/", "$iothub/methods/res/200", "$iothub/methods/POST/x/?$rid=1"}) {
    EXPECT_FALSE(parse_method_response(topic)) << topic;
  }
}

TEST(AzureTopics, DeviceToCloudEventsWithPropertyBags) {
  auto plain = parse_device_event("devices/phone-1/messages/events/");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->device_id, "phone-1");
  EXPECT_TRUE(plain->module_id.empty());
  EXPECT_TRUE(plain->properties.empty());
  auto bag = parse_device_event(
      "devices/phone-1/messages/events/temp%20alert=true&%24.ct=application%2Fjson");
  ASSERT_TRUE(bag);
  EXPECT_EQ(bag->properties, (PropertyBag{{"temp alert", "true"}, {"$.ct", "application/json"}}));
  auto module = parse_device_event("devices/gw/modules/filter/messages/events/a=b");
  ASSERT_TRUE(module);
  EXPECT_EQ(module->module_id, "filter");
  for (const char* topic :
       {"devices//messages/events/", "devices/d/messages/event/", "devices/d/messages/devicebound/",
        "devices/d/messages/events/a=%g1", "devices/d", "device/d/messages/events/"}) {
    EXPECT_FALSE(parse_device_event(topic)) << topic;
  }
}

TEST(AzureTopics, CloudToDeviceTopicsRoundTripTheirProperties) {
  const PropertyBag props{
      {"$.mid", "m-1"}, {"$.to", "/devices/d1/messages/devicebound"}, {"room", "kitchen & hall"}};
  const auto topic = devicebound_topic("d1", props);
  EXPECT_EQ(topic.rfind("devices/d1/messages/devicebound/", 0), 0u) << topic;
  const auto bound = parse_devicebound(topic);
  ASSERT_TRUE(bound);
  EXPECT_EQ(bound->device_id, "d1");
  EXPECT_EQ(bound->properties, props);
  EXPECT_EQ(devicebound_topic("d1", {}), "devices/d1/messages/devicebound/");
  EXPECT_TRUE(parse_devicebound("devices/d1/messages/devicebound/")->properties.empty());
  EXPECT_FALSE(parse_devicebound("devices/d1/messages/devicebound/a/b"));
  EXPECT_FALSE(parse_devicebound("devices/d1/messages/events/a=b"));
  EXPECT_FALSE(parse_devicebound("devices//messages/devicebound/"));
}

}  // namespace
}  // namespace allscene::azure
