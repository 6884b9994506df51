#include "discovery/service.hpp"

#include <gtest/gtest.h>

namespace allscene::discovery {
namespace {

using Txt = std::vector<std::string>;

TEST(InstanceName, ReplacesEveryHostnamePlaceholder) {
  EXPECT_EQ(instance_name(kDefaultInstance, "kitchen"), "allscene on kitchen");
  EXPECT_EQ(instance_name("{hostname}/{hostname}", "a"), "a/a");
  EXPECT_EQ(instance_name("Living room hub", "kitchen"), "Living room hub");
  EXPECT_EQ(instance_name("{host}", "kitchen"), "{host}");  // only the exact placeholder
}

// RFC 6763 4.1.1 / RFC 1035 2.3.4: the instance label holds at most 63 bytes.
TEST(InstanceName, CutToOneDnsLabelWithoutSplittingUtf8) {
  const std::string long_host(100, 'h');
  EXPECT_EQ(instance_name("{hostname}", long_host), std::string(63, 'h'));
  // 62 ASCII bytes then "é" (2 bytes): byte 63 would split it, so it goes.
  const std::string name = std::string(62, 'a') + "\xC3\xA9" + "z";
  EXPECT_EQ(instance_name(name, ""), std::string(62, 'a'));
  // 61 ASCII bytes + "é" fits exactly.
  const std::string fits = std::string(61, 'a') + "\xC3\xA9" + "z";
  EXPECT_EQ(instance_name(fits, ""), std::string(61, 'a') + "\xC3\xA9");
}

TEST(InstanceName, BlankFallsBackToAllscene) {
  EXPECT_EQ(instance_name("", "kitchen"), "allscene");
  EXPECT_EQ(instance_name("{hostname}", ""), "allscene");
  EXPECT_EQ(instance_name("  ", "kitchen"), "allscene");
}

TEST(TxtRecords, AllKeysInDocumentedOrder) {
  HubEndpoints e{1883, 8883, 8080, std::nullopt, "hub.example"};
  EXPECT_EQ(txt_records(e), (Txt{"v=1", "mqtt=1883", "tls=8883", "http=8080", "hub=hub.example"}));
  e.http.reset();
  e.https = 8443;
  EXPECT_EQ(txt_records(e), (Txt{"v=1", "mqtt=1883", "tls=8883", "https=8443", "hub=hub.example"}));
}

TEST(TxtRecords, AbsentPortsAndHubAreLeftOut) {
  HubEndpoints e;
  e.mqtt = 1883;
  EXPECT_EQ(txt_records(e), (Txt{"v=1", "mqtt=1883"}));
}

TEST(ServiceRecord, SrvPortIsMqttElseTls) {
  HubEndpoints e;
  e.mqtt = 1883;
  e.tls = 8883;
  auto r = service_record("hub", e);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->instance, "hub");
  EXPECT_EQ(r->port, 1883);
  e.mqtt.reset();
  r = service_record("hub", e);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->port, 8883);
  EXPECT_EQ(r->txt, (Txt{"v=1", "tls=8883"}));
  e.tls.reset();
  e.http = 8080;
  EXPECT_FALSE(service_record("hub", e));
}

// RFC 6763 6.4: keys are case-insensitive; 6.4: a key may appear only once,
// a client takes the first; 6.4: "=value" (empty key) is silently ignored;
// 6.4: "key" without '=' is a boolean attribute (present, no value).
TEST(ParseTxt, Rfc6763KeyRules) {
  const auto m = parse_txt({"V=1", "mqtt=1883", "MQTT=9999", "=orphan", "flag", "hub=a=b", ""});
  EXPECT_EQ(m.size(), 4u);
  EXPECT_EQ(m.at("v"), "1");
  EXPECT_EQ(m.at("mqtt"), "1883");
  EXPECT_EQ(m.at("flag"), "");
  EXPECT_EQ(m.at("hub"), "a=b");
}

TEST(ParsePort, DecimalOneTo65535Only) {
  EXPECT_EQ(parse_port("1"), 1);
  EXPECT_EQ(parse_port("1883"), 1883);
  EXPECT_EQ(parse_port("65535"), 65535);
  for (const char* bad : {"", "0", "65536", "99999999999", "-1", "+1", " 1", "1 ", "18a", "0x10"}) {
    EXPECT_FALSE(parse_port(bad)) << bad;
  }
}

TEST(HubEndpoints, RoundTripThroughTxt) {
  const HubEndpoints e{1883, 8883, 8080, 8443, "hub.example"};
  const auto back = hub_endpoints(parse_txt(txt_records(e)));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->mqtt, e.mqtt);
  EXPECT_EQ(back->tls, e.tls);
  EXPECT_EQ(back->http, e.http);
  EXPECT_EQ(back->https, e.https);
  EXPECT_EQ(back->hub_host, e.hub_host);
}

TEST(HubEndpoints, OtherVersionsAndBadPortsAreRefused) {
  EXPECT_FALSE(hub_endpoints(parse_txt({"mqtt=1883"})));
  EXPECT_FALSE(hub_endpoints(parse_txt({"v=2", "mqtt=1883"})));
  const auto e = hub_endpoints(parse_txt({"v=1", "mqtt=70000", "tls=8883"}));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->mqtt);
  EXPECT_EQ(e->tls, 8883);
  EXPECT_EQ(e->hub_host, "");
}

TEST(AnnounceMode, ParsesTheThreeWords) {
  EXPECT_EQ(parse_announce_mode("auto"), AnnounceMode::automatic);
  EXPECT_EQ(parse_announce_mode("on"), AnnounceMode::on);
  EXPECT_EQ(parse_announce_mode("off"), AnnounceMode::off);
  EXPECT_FALSE(parse_announce_mode("yes"));
  EXPECT_FALSE(parse_announce_mode("AUTO"));
}

TEST(PlanEndpoints, AutoSkipsALoopbackOnlyHub) {
  const std::vector<Listener> loopback{
      {"127.0.0.1", 1883, "tcp"}, {"::1", 1884, "tcp"}, {"127.0.0.1", 8080, "http"}};
  EXPECT_FALSE(plan_endpoints(AnnounceMode::automatic, loopback, ""));
  EXPECT_FALSE(plan_endpoints(AnnounceMode::off, loopback, ""));
  const auto forced = plan_endpoints(AnnounceMode::on, loopback, "h");
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->mqtt, 1883);
  EXPECT_EQ(forced->http, 8080);
  EXPECT_EQ(forced->hub_host, "h");
}

TEST(PlanEndpoints, AutoAnnouncesOnlyWhatOthersCanReach) {
  const std::vector<Listener> mixed{{"127.0.0.1", 1883, "tcp"},
                                    {"0.0.0.0", 1884, "tcp"},
                                    {"::", 8883, "tls"},
                                    {"127.0.0.1", 8080, "http"}};
  const auto e = plan_endpoints(AnnounceMode::automatic, mixed, "");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->mqtt, 1884);
  EXPECT_EQ(e->tls, 8883);
  EXPECT_FALSE(e->http);  // REST API on loopback: unreachable from elsewhere
  EXPECT_FALSE(e->https);
  // on prefers the reachable listener too.
  EXPECT_EQ(plan_endpoints(AnnounceMode::on, mixed, "")->mqtt, 1884);
}

TEST(PlanEndpoints, HttpsAndWebSocketListeners) {
  const std::vector<Listener> ws{{"0.0.0.0", 8081, "ws"}, {"0.0.0.0", 8443, "https"}};
  EXPECT_FALSE(plan_endpoints(AnnounceMode::on, ws, ""));  // no SRV port fits
  const std::vector<Listener> tls{{"192.168.1.5", 8883, "tls"}, {"0.0.0.0", 8443, "https"}};
  const auto e = plan_endpoints(AnnounceMode::automatic, tls, "");
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->mqtt);
  EXPECT_EQ(e->tls, 8883);
  EXPECT_EQ(e->https, 8443);
  EXPECT_FALSE(e->http);
}

TEST(HubRecord, NamesAndDescribesTheHub) {
  const auto r = hub_record(AnnounceMode::automatic, kDefaultInstance, "kitchen",
                            {{"0.0.0.0", 1883, "tcp"}, {"0.0.0.0", 8080, "http"}}, "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->instance, "allscene on kitchen");
  EXPECT_EQ(r->port, 1883);
  EXPECT_EQ(r->txt, (Txt{"v=1", "mqtt=1883", "http=8080"}));
  EXPECT_FALSE(hub_record(AnnounceMode::automatic, kDefaultInstance, "kitchen",
                          {{"127.0.0.1", 1883, "tcp"}}, ""));
}

}  // namespace
}  // namespace allscene::discovery
