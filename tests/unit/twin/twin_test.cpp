// Device twins: merge patches (RFC 7396), versions per section, metadata
// with the time of each change, Azure's name rules and size and depth
// limits, and the stored form.
#include "twin/twin.hpp"

#include <gtest/gtest.h>

namespace allscene::twin {
namespace {

using nlohmann::json;
using Section = Twin::Section;

constexpr std::int64_t kT1 = 1'764'000'000'123;  // 2025-11-24T16:00:00.123Z
constexpr std::int64_t kT2 = kT1 + 60'000;

TEST(Twin, MergePatchSetsReplacesAndDeletes_RFC7396) {
  Twin t;
  EXPECT_EQ(t.patch(Section::reported, json::parse(R"({"a": 1, "b": {"c": 2, "d": 3}})"), kT1), 1);
  EXPECT_EQ(
      t.patch(Section::reported, json::parse(R"({"a": null, "b": {"c": 4}, "e": [1, 2]})"), kT2),
      2);
  EXPECT_EQ(t.device_view()["reported"],
            json::parse(R"({"b": {"c": 4, "d": 3}, "e": [1, 2], "$version": 2})"));
  EXPECT_EQ(t.device_view()["desired"], json::parse(R"({"$version": 0})"));
}

TEST(Twin, SectionsHaveTheirOwnVersions) {
  Twin t;
  t.patch(Section::desired, {{"fan", "on"}}, kT1);
  t.patch(Section::desired, {{"fan", "off"}}, kT1);
  t.patch(Section::reported, {{"fan", "off"}}, kT2);
  EXPECT_EQ(t.version(Section::desired), 2);
  EXPECT_EQ(t.version(Section::reported), 1);
  EXPECT_EQ(t.service_view("lamp")["version"], 3);
}

TEST(Twin, MetadataRecordsWhenEachPropertyChanged) {
  Twin t;
  t.patch(Section::desired, json::parse(R"({"light": {"level": 5, "color": "red"}})"), kT1);
  t.patch(Section::desired, json::parse(R"({"light": {"level": 7}})"), kT2);
  const json meta = t.service_view("lamp")["properties"]["desired"]["$metadata"];
  EXPECT_EQ(meta["light"]["color"]["$lastUpdated"], "2025-11-24T16:00:00.123Z");
  EXPECT_EQ(meta["light"]["color"]["$lastUpdatedVersion"], 1);
  EXPECT_EQ(meta["light"]["level"]["$lastUpdated"], "2025-11-24T16:01:00.123Z");
  EXPECT_EQ(meta["light"]["level"]["$lastUpdatedVersion"], 2);
  EXPECT_EQ(meta["$lastUpdated"], "2025-11-24T16:01:00.123Z");
  t.patch(Section::desired, json::parse(R"({"light": {"color": null}})"), kT2);
  EXPECT_FALSE(
      t.service_view("lamp")["properties"]["desired"]["$metadata"]["light"].contains("color"));
  // Reported metadata carries no desired version.
  t.patch(Section::reported, {{"x", 1}}, kT1);
  EXPECT_FALSE(t.service_view("lamp")["properties"]["reported"]["$metadata"]["x"].contains(
      "$lastUpdatedVersion"));
}

TEST(Twin, AzureNameRulesAreEnforcedAndTheTwinIsLeftAsItWas) {
  Twin t;
  t.patch(Section::reported, {{"ok", 1}}, kT1);
  for (const char* bad : {R"({"$version": 3})", R"({"a.b": 1})", R"({"a b": 1})",
                          R"({"nested": {"$x": 1}})", R"({"": 1})", "[1, 2]", "5"}) {
    try {
      t.patch(Section::reported, json::parse(bad), kT2);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const TwinError& e) {
      EXPECT_EQ(e.status(), 400) << bad;
    }
  }
  EXPECT_EQ(t.version(Section::reported), 1);
  EXPECT_EQ(t.device_view()["reported"], json::parse(R"({"ok": 1, "$version": 1})"));
}

TEST(Twin, SizeAndDepthLimits) {
  Twin t(TwinLimits{.max_bytes = 100, .max_depth = 3});
  try {
    t.patch(Section::desired, {{"blob", std::string(200, 'x')}}, kT1);
    ADD_FAILURE() << "accepted a patch over the size limit";
  } catch (const TwinError& e) {
    EXPECT_EQ(e.status(), 413);
    EXPECT_NE(std::string(e.what()).find("100"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(t.patch(Section::desired, json::parse(R"({"a": {"b": {"c": 1}}})"), kT1));
  EXPECT_THROW(t.patch(Section::desired, json::parse(R"({"a": {"b": {"c": {"d": 1}}}})"), kT1),
               TwinError);
  EXPECT_EQ(t.version(Section::desired), 1);
}

TEST(Twin, DefaultLimitsAreAzures32KiBAndTenLevels) {
  Twin t;
  EXPECT_NO_THROW(t.patch(Section::reported, {{"a", std::string(30'000, 'x')}}, kT1));
  EXPECT_THROW(t.patch(Section::reported, {{"b", std::string(5'000, 'x')}}, kT1), TwinError);
  json deep = 1;
  for (int i = 0; i < 11; ++i) deep = json{{"n", deep}};
  EXPECT_THROW(t.patch(Section::desired, deep, kT1), TwinError);
}

TEST(Twin, TagsAreMergePatchedWithoutVersions) {
  Twin t;
  t.patch_tags(json::parse(R"({"room": "kitchen", "floor": 1})"));
  t.patch_tags(json::parse(R"({"floor": null})"));
  EXPECT_EQ(t.service_view("d")["tags"], json::parse(R"({"room": "kitchen"})"));
  EXPECT_EQ(t.service_view("d")["version"], 0);
  EXPECT_FALSE(t.device_view().contains("tags")) << "tags are the service's own";
}

TEST(Twin, StoredFormRoundTripsAndDamageIsRefused) {
  Twin t;
  t.patch(Section::desired, {{"a", 1}}, kT1);
  t.patch(Section::reported, {{"b", {{"c", true}}}}, kT2);
  t.patch_tags({{"t", "x"}});
  const Twin back = Twin::from_json(t.to_json());
  EXPECT_EQ(back.service_view("d"), t.service_view("d"));
  for (const char* bad : {R"({})", R"({"desired": 1, "reported": 1, "tags": {}})",
                          R"({"desired": {"values": {}, "metadata": {}, "version": -1},
                              "reported": {"values": {}, "metadata": {}, "version": 0},
                              "tags": {}})"}) {
    EXPECT_THROW(Twin::from_json(json::parse(bad)), TwinError) << bad;
  }
}

TEST(Twin, ReplaceAppliesTheDifferenceAsAMergePatch) {
  Twin t;
  t.patch(Section::desired, json::parse(R"({"a": 1, "b": {"c": 2, "d": 3}, "e": 5})"), kT1);
  EXPECT_EQ(t.replace(Section::desired, json::parse(R"({"a": 1, "b": {"c": 2}, "f": 6})"), kT2), 2);
  EXPECT_EQ(t.device_view()["desired"],
            json::parse(R"({"a": 1, "b": {"c": 2}, "f": 6, "$version": 2})"));
  // Unchanged properties keep their metadata; the rest are stamped anew.
  const auto meta = t.service_view("d")["properties"]["desired"]["$metadata"];
  EXPECT_EQ(meta["a"]["$lastUpdatedVersion"], 1);
  EXPECT_EQ(meta["f"]["$lastUpdatedVersion"], 2);
  EXPECT_FALSE(meta.contains("e"));
  EXPECT_EQ(t.replace(Section::desired, json::parse(R"({"a": 1, "b": {"c": 2}, "f": 6})"), kT2), 2)
      << "replacing with the same properties is no change";
}

TEST(Twin, ReplaceTags) {
  Twin t;
  t.patch_tags(json::parse(R"({"room": "hall", "floor": 1})"));
  t.replace_tags(json::parse(R"({"room": "kitchen"})"));
  EXPECT_EQ(t.service_view("d")["tags"], json::parse(R"({"room": "kitchen"})"));
  EXPECT_THROW(t.replace_tags(json::array()), TwinError);
}

}  // namespace
}  // namespace allscene::twin
