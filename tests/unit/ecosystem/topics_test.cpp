#include "ecosystem/topics.hpp"

#include <gtest/gtest.h>

namespace allscene::ecosystem {
namespace {

using namespace std::chrono_literals;

TEST(EcosystemTopics, ParsesACall) {
  const auto parsed = parse_call("$ecosystem/call/watch/media.control/?$rid=7&$timeout=20");
  ASSERT_TRUE(parsed.call) << parsed.error.message;
  EXPECT_EQ(parsed.call->target, "watch");
  EXPECT_EQ(parsed.call->method, "media.control");
  EXPECT_EQ(parsed.call->rid, "7");
  EXPECT_EQ(parsed.call->timeout, 20s);
}

TEST(EcosystemTopics, TimeoutIsOptionalAndRidIsDecoded) {
  const auto parsed = parse_call("$ecosystem/call/phone/ring/?$rid=a%2Fb");
  ASSERT_TRUE(parsed.call);
  EXPECT_EQ(parsed.call->rid, "a/b");
  EXPECT_FALSE(parsed.call->timeout);
}

TEST(EcosystemTopics, RefusesMalformedCallsKeepingTheRidToAnswer) {
  for (const char* topic :
       {"$ecosystem/call/phone/?$rid=1", "$ecosystem/call/phone/a/b/?$rid=1",
        "$ecosystem/call//ring/?$rid=1", "$ecosystem/call/phone/ring/?$rid=1&$timeout=x",
        "$ecosystem/call/phone/ring/?$rid=1&$timeout=-3", "$ecosystem/other/phone/ring/?$rid=1"}) {
    const auto parsed = parse_call(topic);
    EXPECT_FALSE(parsed.call) << topic;
    EXPECT_EQ(parsed.error.rid, "1") << topic;
    EXPECT_FALSE(parsed.error.message.empty()) << topic;
  }
}

TEST(EcosystemTopics, ACallWithoutRidCannotBeAnswered) {
  for (const char* topic :
       {"$ecosystem/call/phone/ring", "$ecosystem/call/phone/ring/?x=1",
        "$ecosystem/call/phone/ring/?$rid=", "$ecosystem/call/phone/ring/?%zz"}) {
    const auto parsed = parse_call(topic);
    EXPECT_FALSE(parsed.call) << topic;
    EXPECT_TRUE(parsed.error.rid.empty()) << topic;
  }
}

TEST(EcosystemTopics, BuildsAnswerAndCardTopics) {
  EXPECT_EQ(call_result_topic(504, "r 1"), "$ecosystem/res/504/?$rid=r%201");
  EXPECT_EQ(card_topic("ana", "watch"), "users/ana/devices/watch");
}

TEST(EcosystemTopics, HubTopicsUnderTheGroup) {
  EXPECT_EQ(relay_call_topic("ana", "tv"), "users/ana/relay/call/tv");
  EXPECT_EQ(relay_result_topic("ana", "h1", "9"), "users/ana/relay/result/h1/9");
  const auto card = parse_group_topic("users/ana/devices/tv");
  ASSERT_TRUE(card);
  EXPECT_EQ(card->kind, GroupTopic::Kind::card);
  EXPECT_EQ((card->owner + "|" + card->device), "ana|tv");
  const auto call = parse_group_topic("users/ana/relay/call/tv");
  ASSERT_TRUE(call);
  EXPECT_EQ(call->kind, GroupTopic::Kind::relay_call);
  EXPECT_EQ(call->device, "tv");
  const auto result = parse_group_topic("users/ana/relay/result/h1/9");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->kind, GroupTopic::Kind::relay_result);
  EXPECT_EQ((result->hub + "|" + result->rid), "h1|9");
  for (const char* other :
       {"users/ana/clipboard", "users/ana/devices/tv/x", "users//devices/tv",
        "users/ana/relay/call/tv/x", "users/ana/relay/result/h1", "users/ana/relay/other/a/b",
        "devices/ana/devices/tv", "users/ana/devices/"}) {
    EXPECT_FALSE(parse_group_topic(other)) << other;
  }
}

TEST(EcosystemTopics, MirroredTwinTopics) {
  EXPECT_EQ(twin_mirror_topic("ana", "tv"), "$hubs/ana/twins/tv");
  EXPECT_EQ(twin_patch_topic("ana", "tv"), "$hubs/ana/twins/tv/patch");
  const auto view = parse_twin_topic("$hubs/ana/twins/tv");
  ASSERT_TRUE(view);
  EXPECT_EQ((view->owner + "|" + view->device), "ana|tv");
  EXPECT_FALSE(view->patch);
  const auto patch = parse_twin_topic("$hubs/ana/twins/tv/patch");
  ASSERT_TRUE(patch);
  EXPECT_TRUE(patch->patch);
  for (const char* other : {"$hubs/ana/twins", "$hubs/ana/twins/tv/other", "$hubs//twins/tv",
                            "$hubs/ana/devices/tv", "users/ana/twins/tv", "$hubs/ana/twins/tv/",
                            "$hubs/ana/twins/tv/patch/x"}) {
    EXPECT_FALSE(parse_twin_topic(other)) << other;
  }
}

}  // namespace
}  // namespace allscene::ecosystem
