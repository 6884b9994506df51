// The ecosystem's topics and payloads (docs/protocol.md, "Cross-device
// ecosystem"): what the SDK writes, and that what does not have the
// protocol's shape is refused rather than half-read.
#include "ecosystem_codec.hpp"

#include <gtest/gtest.h>

namespace allscene::sdk::detail {
namespace {

using nlohmann::json;

TEST(EcosystemCodec, GroupTopicsFollowTheProtocolTable) {
  const GroupTopics t("ana", "phone");
  EXPECT_EQ(t.devices_filter(), "users/ana/devices/+");
  EXPECT_EQ(t.clipboard(), "users/ana/clipboard");
  EXPECT_EQ(t.notification("watch", "n1"), "users/ana/notifications/watch/n1");
  EXPECT_EQ(t.activity("laptop"), "users/ana/activities/laptop");
  EXPECT_EQ(t.media("tv"), "users/ana/media/tv");
  EXPECT_EQ(t.own_inbox_filter(), "users/ana/inbox/phone/#");
  EXPECT_EQ(t.file_read("laptop"), "users/ana/inbox/laptop/file-read");
  EXPECT_EQ(t.file_status("laptop"), "users/ana/inbox/laptop/file-status");
  EXPECT_EQ(t.file_data("tv", "t1", 65536), "users/ana/inbox/tv/file-data/t1/65536");
  EXPECT_EQ(t.file_error("tv", "t1"), "users/ana/inbox/tv/file-error/t1");
  const auto levels = t.levels("users/ana/inbox/phone/file-data/t1/0");
  ASSERT_TRUE(levels);
  EXPECT_EQ(levels->size(), 5u);
  EXPECT_EQ((*levels)[2], "file-data");
  EXPECT_FALSE(t.levels("users/bob/clipboard"));
}

TEST(EcosystemCodec, CardOfTheProtocolExample) {
  const auto card = parse_card(R"({"deviceId":"watch","name":"Ana's watch","class":"wearable",
    "online":false,"lastSeen":"2026-11-24T14:00:00.000Z","battery":{"level":62,"charging":false},
    "capabilities":["clipboard","files"],
    "commands":{"lock":{"label":"Lock the screen","allow":["phone"]}}})");
  ASSERT_TRUE(card);
  EXPECT_EQ(card->device_id, "watch");
  EXPECT_EQ(card->device_class, "wearable");
  EXPECT_FALSE(card->online);
  ASSERT_TRUE(card->battery);
  EXPECT_EQ(card->battery->level, 62);
  EXPECT_EQ(card->capabilities, (std::vector<std::string>{"clipboard", "files"}));
  ASSERT_TRUE(card->commands.contains("lock"));
  EXPECT_EQ(card->commands.at("lock").allow, std::vector<std::string>{"phone"});
}

TEST(EcosystemCodec, MalformedPayloadsAreRefusedOnEveryParser) {
  for (const char* bad : {"", "{", "[]", "42", "\"text\"", "null", R"({"deviceId":7})"}) {
    EXPECT_FALSE(parse_card(bad)) << bad;
    EXPECT_FALSE(parse_clipboard(bad)) << bad;
    EXPECT_FALSE(parse_chunk_request(bad)) << bad;
    EXPECT_FALSE(parse_file_status(bad)) << bad;
  }
  EXPECT_FALSE(parse_notification("[1]", "o", "i"));
  EXPECT_FALSE(parse_clipboard(R"({"mime":"image/png","data":"not base64!"})"));
  EXPECT_FALSE(parse_clipboard(R"({"mime":"text/plain","text":5})"));
  EXPECT_FALSE(parse_now_playing(json{{"state", "dancing"}}, "tv"));
  EXPECT_FALSE(parse_activity(json::array(), "laptop"));
  // Wrong types of optional fields fall back to defaults, never throw.
  const auto card = parse_card(R"({"deviceId":"x","online":"yes","battery":{"level":"full"}})");
  ASSERT_TRUE(card);
  EXPECT_FALSE(card->online);
  EXPECT_EQ(card->battery->level, 0);
}

TEST(EcosystemCodec, ClipboardRoundTripsTextAndBinary) {
  ClipboardItem text;
  text.from = "phone";
  text.mime = "text/plain";
  text.text = "héllo";
  auto back = parse_clipboard(to_json(text).dump());
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->is_text());
  EXPECT_EQ(back->text, "héllo");

  ClipboardItem image;
  image.mime = "image/png";
  image.name = "a.png";
  image.data = std::string("\x89PNG\0\x01", 6);
  const json j = to_json(image);
  EXPECT_EQ(j["data"], "iVBORwAB");  // base64, as the protocol says
  back = parse_clipboard(j.dump());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->data, image.data);
  EXPECT_FALSE(back->is_text());
}

TEST(EcosystemCodec, ClipboardOver512KiBIsRefused) {
  ClipboardItem big;
  big.mime = "application/octet-stream";
  big.name = "b";
  big.data.assign(kMaxClipboardData + 1, 'x');
  EXPECT_FALSE(parse_clipboard(to_json(big).dump()));
  big.data.resize(kMaxClipboardData);
  EXPECT_TRUE(parse_clipboard(to_json(big).dump()));
}

TEST(EcosystemCodec, OfferNeedsSizeHashAndASafeName) {
  json offer = {{"transfer", "t1"},
                {"from", "laptop"},
                {"name", "a.jpg"},
                {"size", 10},
                {"sha256", std::string(64, 'a')},
                {"mime", "image/jpeg"}};
  EXPECT_TRUE(parse_offer(offer));
  for (const char* key : {"transfer", "from", "name", "size", "sha256"}) {
    json missing = offer;
    missing.erase(key);
    EXPECT_FALSE(parse_offer(missing)) << key;
  }
  json bad = offer;
  bad["size"] = -1;
  EXPECT_FALSE(parse_offer(bad));
  bad = offer;
  bad["sha256"] = std::string(64, 'G');
  EXPECT_FALSE(parse_offer(bad));
  bad = offer;
  bad["transfer"] = "t/1";
  EXPECT_FALSE(parse_offer(bad));
  bad = offer;
  bad["name"] = "../../etc/passwd";
  const auto strip = parse_offer(bad);
  ASSERT_TRUE(strip);  // a path is reduced to its last component when stored
  EXPECT_EQ(safe_file_name(strip->name), "passwd");
  EXPECT_EQ(safe_file_name(".."), "");
  EXPECT_EQ(safe_file_name("dir/"), "");
}

TEST(EcosystemCodec, ChunkRequestLengthIsBounded) {
  EXPECT_TRUE(parse_chunk_request(R"({"transfer":"t","from":"a","offset":0,"length":262144})"));
  EXPECT_FALSE(parse_chunk_request(R"({"transfer":"t","from":"a","offset":0,"length":262145})"));
  EXPECT_FALSE(parse_chunk_request(R"({"transfer":"t","from":"a","offset":0,"length":0})"));
  EXPECT_FALSE(parse_chunk_request(R"({"transfer":"t","from":"a","offset":-5,"length":10})"));
}

TEST(EcosystemCodec, FileStatusStates) {
  for (const char* s : {"receiving", "complete", "failed", "declined"}) {
    EXPECT_TRUE(parse_file_status(to_json(FileStatus{"t", "a", s, 3}).dump())) << s;
  }
  EXPECT_FALSE(parse_file_status(to_json(FileStatus{"t", "a", "done", 3}).dump()));
}

}  // namespace
}  // namespace allscene::sdk::detail
