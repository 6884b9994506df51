#include "registry/model.hpp"

#include <gtest/gtest.h>

namespace allscene::registry {
namespace {

const std::string kThumb(64, 'A');

TEST(RegistryModel, DeviceClassNames) {
  const std::pair<DeviceClass, std::string_view> all[] = {
      {DeviceClass::phone, "phone"},       {DeviceClass::laptop, "laptop"},
      {DeviceClass::tablet, "tablet"},     {DeviceClass::smart_screen, "smart-screen"},
      {DeviceClass::wearable, "wearable"}, {DeviceClass::audio, "audio"},
      {DeviceClass::car, "car"},           {DeviceClass::iot, "iot"},
  };
  for (const auto& [value, name] : all) {
    EXPECT_EQ(to_string(value), name);
    EXPECT_EQ(parse_device_class(name), value);
  }
  EXPECT_EQ(parse_device_class("smart_screen"), std::nullopt);
  EXPECT_EQ(parse_device_class("Phone"), std::nullopt);
  EXPECT_EQ(parse_device_class(""), std::nullopt);
}

TEST(RegistryModel, ValidIdFollowsAzureRules) {
  EXPECT_TRUE(valid_id("a"));
  EXPECT_TRUE(valid_id("Dev-1.x:y+z%_#*?!(),=@$'"));
  EXPECT_TRUE(valid_id(std::string(128, 'x')));
  EXPECT_FALSE(valid_id(""));
  EXPECT_FALSE(valid_id(std::string(129, 'x')));
  for (const char* bad : {"a/b", "a b", "a\\b", "a&b", "a{b", "a\"b", "a\nb", "caf\xc3\xa9", "a~b",
                          "a;b", "a<b", "a[b", "a`b", "a|b", "a^b"}) {
    EXPECT_FALSE(valid_id(bad)) << bad;
  }
  EXPECT_FALSE(valid_id(std::string_view("a\0b", 3)));
}

TEST(RegistryModel, ThumbprintNormalisation) {
  const std::string colons =
      "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:"
      "67:89";
  EXPECT_EQ(normalise_thumbprint(colons),
            "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789");
  EXPECT_EQ(normalise_thumbprint(" " + kThumb + " "), kThumb);
  EXPECT_EQ(normalise_thumbprint(std::string(63, 'A')), std::nullopt);
  EXPECT_EQ(normalise_thumbprint(std::string(65, 'A')), std::nullopt);
  EXPECT_EQ(normalise_thumbprint(std::string(64, 'G')), std::nullopt);
  EXPECT_TRUE(valid_thumbprint(kThumb));
  EXPECT_FALSE(valid_thumbprint(std::string(64, 'a')));  // must be upper-case as stored
}

TEST(RegistryModel, UserJsonRoundTrip) {
  const User user{.id = "alice", .display_name = "Alice \"A\" Ö", .created_ms = 1234};
  const User back = user_from_json(to_json(user));
  EXPECT_EQ(back.id, user.id);
  EXPECT_EQ(back.display_name, user.display_name);
  EXPECT_EQ(back.created_ms, user.created_ms);
  const User parsed = user_from_json(nlohmann::json::parse(to_json(user).dump()));
  EXPECT_EQ(parsed.display_name, user.display_name);
}

TEST(RegistryModel, DeviceJsonRoundTrip) {
  Device device;
  device.id = "phone-1";
  device.owner = "alice";
  device.display_name = "Alice's phone";
  device.device_class = DeviceClass::smart_screen;
  device.tags = {{"room", "kitchen"}, {"floor", "1"}};
  device.enabled = false;
  device.created_ms = 11;
  device.last_seen_ms = 22;
  device.primary_key = "cHJpbWFyeQ==";
  device.secondary_key = "c2Vjb25kYXJ5";
  device.password_hash = "$argon2id$v=19$m=8,t=1,p=1$x$y";
  device.thumbprints = {kThumb, std::string(64, 'B')};
  device.ca_signed = true;
  device.gateway = true;
  const nlohmann::json json = to_json(device);
  EXPECT_EQ(json.at("class"), "smart-screen");
  const Device back = device_from_json(nlohmann::json::parse(json.dump()));
  EXPECT_EQ(back.id, device.id);
  EXPECT_EQ(back.owner, device.owner);
  EXPECT_EQ(back.display_name, device.display_name);
  EXPECT_EQ(back.device_class, device.device_class);
  EXPECT_EQ(back.tags, device.tags);
  EXPECT_EQ(back.enabled, device.enabled);
  EXPECT_EQ(back.created_ms, device.created_ms);
  EXPECT_EQ(back.last_seen_ms, device.last_seen_ms);
  EXPECT_EQ(back.primary_key, device.primary_key);
  EXPECT_EQ(back.secondary_key, device.secondary_key);
  EXPECT_EQ(back.password_hash, device.password_hash);
  EXPECT_EQ(back.thumbprints, device.thumbprints);
  EXPECT_EQ(back.ca_signed, device.ca_signed);
  EXPECT_EQ(back.gateway, device.gateway);
}

TEST(RegistryModel, DeviceJsonDefaultsForMissingFields) {
  const Device device = device_from_json({{"id", "d"}, {"owner", "u"}});
  EXPECT_EQ(device.device_class, DeviceClass::iot);
  EXPECT_TRUE(device.enabled);
  EXPECT_TRUE(device.tags.empty());
  EXPECT_TRUE(device.thumbprints.empty());
  EXPECT_FALSE(device.ca_signed);
  EXPECT_FALSE(device.gateway);
}

TEST(RegistryModel, BadDocumentsThrowRegistryError) {
  using nlohmann::json;
  const json bad_devices[] = {
      json::array(),
      json("text"),
      json{{"owner", "u"}},                                     // no id
      json{{"id", "d"}},                                        // no owner
      json{{"id", "a/b"}, {"owner", "u"}},                      // invalid id
      json{{"id", 5}, {"owner", "u"}},                          // wrong type
      json{{"id", "d"}, {"owner", "u"}, {"class", "toaster"}},  // unknown class
      json{{"id", "d"}, {"owner", "u"}, {"enabled", "yes"}},    // wrong type
      json{{"id", "d"}, {"owner", "u"}, {"tags", {{"a", 1}}}},  // tag value not a string
      json{{"id", "d"}, {"owner", "u"}, {"thumbprints", {"abc"}}},
      json{{"id", "d"}, {"owner", "u"}, {"created_ms", "now"}},
  };
  for (const auto& doc : bad_devices) {
    EXPECT_THROW(device_from_json(doc), RegistryError) << doc.dump();
  }
  EXPECT_THROW(user_from_json(json{{"display_name", "x"}}), RegistryError);
  EXPECT_THROW(user_from_json(json{{"id", ""}}), RegistryError);
  EXPECT_THROW(user_from_json(json{{"id", "u"}, {"created_ms", 1.5}}), RegistryError);
  EXPECT_THROW(user_from_json(json(nullptr)), RegistryError);
}

TEST(RegistryModel, ErrorMessageNamesTheDocument) {
  try {
    device_from_json({{"id", "lamp"}, {"owner", "u"}, {"class", "toaster"}});
    FAIL() << "no exception";
  } catch (const RegistryError& e) {
    EXPECT_NE(std::string(e.what()).find("\"lamp\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("toaster"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace allscene::registry
