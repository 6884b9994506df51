// The HTTP upgrade helpers for MQTT over WebSocket (MQTT §6, RFC 6455).
#include "net/http_upgrade.hpp"

#include <gtest/gtest.h>

namespace allscene::net {
namespace {

TEST(RequestPath, DropsTheQuery) {
  EXPECT_EQ(request_path("/mqtt"), "/mqtt");
  EXPECT_EQ(request_path("/mqtt?token=1"), "/mqtt");
  EXPECT_EQ(request_path("/"), "/");
  EXPECT_EQ(request_path(""), "");
}

TEST(ListsSubprotocol, ExactTokenInACommaSeparatedList) {
  EXPECT_TRUE(lists_subprotocol("mqtt", "mqtt"));
  EXPECT_TRUE(lists_subprotocol("mqttv3.1, mqtt", "mqtt"));
  EXPECT_TRUE(lists_subprotocol(" mqtt ,x", "mqtt"));
  EXPECT_TRUE(lists_subprotocol("a,\tmqtt\t", "mqtt"));
  EXPECT_FALSE(lists_subprotocol("mqttv3.1", "mqtt"));
  EXPECT_FALSE(lists_subprotocol("MQTT", "mqtt"));
  EXPECT_FALSE(lists_subprotocol("mqtt5", "mqtt"));
  EXPECT_FALSE(lists_subprotocol("", "mqtt"));
  EXPECT_FALSE(lists_subprotocol(",,", "mqtt"));
}

}  // namespace
}  // namespace allscene::net
