#include "allscene/connection_string.hpp"

#include <gtest/gtest.h>

#include "allscene/device_client.hpp"
#include "allscene/error.hpp"

namespace allscene::sdk {
namespace {

constexpr const char* kKey = "ANr8NwlsEeh+NsPqZfIAnL/vfn5sQLnHDv6ECML6St0=";

TEST(ConnectionString, ParsesTheAzureDeviceForm) {
  std::error_code ec;
  const auto cs = parse_connection_string(
      std::string("HostName=hub.example;DeviceId=bulb-1;SharedAccessKey=") + kKey, ec);
  ASSERT_TRUE(cs) << ec.message();
  EXPECT_FALSE(ec);
  EXPECT_EQ(cs->host_name, "hub.example");
  EXPECT_EQ(cs->device_id, "bulb-1");
  EXPECT_EQ(cs->shared_access_key, kKey);  // '=' padding kept: split at the first '='
  EXPECT_FALSE(cs->x509);
  EXPECT_TRUE(cs->gateway_host_name.empty());
}

TEST(ConnectionString, AnyOrderGatewayAndTrailingSemicolon) {
  std::error_code ec;
  const auto cs = parse_connection_string(
      std::string("SharedAccessKey=") + kKey + ";DeviceId=d;GatewayHostName=gw;HostName=h;", ec);
  ASSERT_TRUE(cs) << ec.message();
  EXPECT_EQ(cs->gateway_host_name, "gw");
  const ClientOptions o = options_from(*cs);
  EXPECT_EQ(o.host_name, "h");
  EXPECT_EQ(o.connect_host, "gw");
  EXPECT_EQ(o.device_id, "d");
  EXPECT_EQ(o.shared_access_key, kKey);
  EXPECT_TRUE(o.tls);
}

TEST(ConnectionString, X509HasNoKey) {
  std::error_code ec;
  const auto cs = parse_connection_string("HostName=h;DeviceId=car;x509=true", ec);
  ASSERT_TRUE(cs) << ec.message();
  EXPECT_TRUE(cs->x509);
  EXPECT_TRUE(cs->shared_access_key.empty());
}

TEST(ConnectionString, RoundTrips) {
  ConnectionString cs;
  cs.host_name = "h.example";
  cs.device_id = "phone";
  cs.shared_access_key = kKey;
  cs.gateway_host_name = "127.0.0.1";
  std::error_code ec;
  const auto back = parse_connection_string(format_connection_string(cs), ec);
  ASSERT_TRUE(back) << ec.message();
  EXPECT_EQ(back->host_name, cs.host_name);
  EXPECT_EQ(back->device_id, cs.device_id);
  EXPECT_EQ(back->shared_access_key, cs.shared_access_key);
  EXPECT_EQ(back->gateway_host_name, cs.gateway_host_name);
}

TEST(ConnectionString, RefusesMalformedStrings) {
  const std::string key = std::string("SharedAccessKey=") + kKey;
  for (const std::string& bad : {
           std::string(""),
           "DeviceId=d;" + key,                            // no host
           "HostName=h;" + key,                            // no device
           std::string("HostName=h;DeviceId=d"),           // no credentials
           "HostName=h;DeviceId=d;x509=true;" + key,       // both
           "HostName=h;HostName=g;DeviceId=d;" + key,      // duplicate
           "HostName=h;DeviceId=d;Color=red;" + key,       // unknown key
           "HostName=h;;DeviceId=d;" + key,                // empty pair
           "HostName;DeviceId=d;" + key,                   // no '='
           "=h;DeviceId=d;" + key,                         // empty key
           std::string("HostName=h;DeviceId=d;x509=yes"),  // not true
       }) {
    std::error_code ec;
    EXPECT_FALSE(parse_connection_string(bad, ec)) << bad;
    EXPECT_EQ(ec, Errc::invalid_connection_string) << bad;
  }
}

TEST(ConnectionString, KeyMustBeBase64) {
  std::error_code ec;
  EXPECT_FALSE(parse_connection_string("HostName=h;DeviceId=d;SharedAccessKey=not*base64", ec));
  EXPECT_EQ(ec, Errc::invalid_key);
  EXPECT_EQ(ec.category().name(), std::string("allscene.sdk"));
  EXPECT_FALSE(ec.message().empty());
}

}  // namespace
}  // namespace allscene::sdk
