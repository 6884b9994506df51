#include "ecosystem/card.hpp"

#include <gtest/gtest.h>

namespace allscene::ecosystem {
namespace {

using nlohmann::json;

registry::Device device(std::string id, registry::DeviceClass cls, std::string name = {}) {
  registry::Device d;
  d.id = std::move(id);
  d.owner = "ana";
  d.display_name = std::move(name);
  d.device_class = cls;
  return d;
}

TEST(DeviceCard, ComesFromRegistryPresenceAndTheReportedEcosystemPart) {
  const json reported = {{"ecosystem",
                          {{"battery", {{"level", 62}, {"charging", true}}},
                           {"capabilities", {"clipboard", "find"}},
                           {"commands", {{"lock", {{"label", "Lock"}, {"allow", {"phone"}}}}}}}},
                         {"other", 1}};
  const json card = make_card(device("watch", registry::DeviceClass::wearable, "Ana's watch"),
                              {.connected = true, .last_seen_ms = 1'764'000'000'000}, reported);
  EXPECT_EQ(card, json::parse(R"({"deviceId":"watch","name":"Ana's watch","class":"wearable",
    "online":true,"lastSeen":"2025-11-24T16:00:00.000Z","battery":{"level":62,"charging":true},
    "capabilities":["clipboard","find"],"commands":{"lock":{"label":"Lock","allow":["phone"]}}})"));
}

TEST(DeviceCard, ADeviceThatNeverReportedHasAPlainCard) {
  const json card = make_card(device("lamp", registry::DeviceClass::iot), {}, json::object());
  EXPECT_EQ(card["name"], "lamp");  // no display name: the id
  EXPECT_EQ(card["class"], "iot");
  EXPECT_EQ(card["online"], false);
  EXPECT_TRUE(card["lastSeen"].is_null());
  EXPECT_TRUE(card["battery"].is_null());
  EXPECT_EQ(card["capabilities"], json::array());
  EXPECT_EQ(card["commands"], json::object());
}

TEST(DeviceCard, MalformedSelfDescriptionsAreLeftOut) {
  for (const json& part :
       {json{{"battery", {{"level", 140}}}}, json{{"battery", "full"}},
        json{{"battery", {{"charging", true}}}}, json("ecosystem"), json(nullptr)}) {
    const json card =
        make_card(device("x", registry::DeviceClass::phone), {}, {{"ecosystem", part}});
    EXPECT_TRUE(card["battery"].is_null()) << part;
  }
  const json card = make_card(device("x", registry::DeviceClass::phone), {},
                              {{"ecosystem",
                                {{"capabilities", {"files", 3, {{"a", 1}}}},
                                 {"commands", {{"ok", {{"label", 5}}}, {"bad", "run me"}}}}}});
  EXPECT_EQ(card["capabilities"], json::array({"files"}));
  EXPECT_EQ(card["commands"], json::parse(R"({"ok":{}})"));
}

TEST(DeviceCard, CommandAccessFollowsTheAllowList) {
  const json reported = {{"ecosystem",
                          {{"commands",
                            {{"lock", {{"allow", {"phone", "laptop-7"}}}},
                             {"music", {{"label", "Play music"}}},
                             {"nobody", {{"allow", json::array()}}}}}}}};
  const auto phone = device("p1", registry::DeviceClass::phone);
  const auto laptop = device("laptop-7", registry::DeviceClass::laptop);
  const auto tablet = device("t1", registry::DeviceClass::tablet);
  EXPECT_EQ(command_access(reported, "lock", phone), CommandAccess::allowed);   // by class
  EXPECT_EQ(command_access(reported, "lock", laptop), CommandAccess::allowed);  // by id
  EXPECT_EQ(command_access(reported, "lock", tablet), CommandAccess::forbidden);
  EXPECT_EQ(command_access(reported, "music", tablet), CommandAccess::allowed);  // no list
  EXPECT_EQ(command_access(reported, "nobody", phone), CommandAccess::forbidden);
  EXPECT_EQ(command_access(reported, "reboot", phone), CommandAccess::unknown);
  EXPECT_EQ(command_access(json::object(), "lock", phone), CommandAccess::unknown);
}

}  // namespace
}  // namespace allscene::ecosystem
