#include "registry/registry.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <thread>

#include "azure/azure.hpp"
#include "fake_storage.hpp"

namespace allscene::registry {
namespace {

using registry_testing::FakeStorage;
using registry_testing::fast_options;

const std::string kThumbA(64, 'A');

class RegistryTest : public ::testing::Test {
 protected:
  NewDevice sas_device(std::string id, std::string owner = "alice") {
    NewDevice device;
    device.id = std::move(id);
    device.owner = std::move(owner);
    device.display_name = "a device";
    device.device_class = DeviceClass::phone;
    device.tags = {{"room", "hall"}};
    return device;
  }

  FakeStorage storage_;
  Registry registry_{storage_, fast_options()};
};

TEST_F(RegistryTest, StartsEmptyAndLoadsStorage) {
  EXPECT_TRUE(registry_.snapshot()->devices.empty());
  storage_.docs["users"]["bob"] = R"({"id":"bob","display_name":"Bob","created_ms":5})";
  storage_.docs["devices"]["d1"] =
      R"({"id":"d1","owner":"bob","class":"car","thumbprints":[")" + kThumbA + R"("]})";
  registry_.load();
  const auto snap = registry_.snapshot();
  ASSERT_NE(snap->user("bob"), nullptr);
  EXPECT_EQ(snap->user("bob")->display_name, "Bob");
  ASSERT_NE(snap->device("d1"), nullptr);
  EXPECT_EQ(snap->device("d1")->device_class, DeviceClass::car);
  EXPECT_EQ(snap->device_by_thumbprint(kThumbA), snap->device("d1"));
  EXPECT_EQ(snap->device("d2"), nullptr);
}

TEST_F(RegistryTest, DamagedDocumentFailsLoadAndKeepsSnapshot) {
  registry_.add_user("alice", "Alice");
  const auto before = registry_.snapshot();
  storage_.docs["devices"]["bad"] = "{not json";
  EXPECT_THROW(registry_.load(), RegistryError);
  EXPECT_EQ(registry_.snapshot(), before);
  storage_.docs["devices"]["bad"] = R"({"id":"bad","owner":"alice","class":"toaster"})";
  EXPECT_THROW(registry_.reload(), RegistryError);
  EXPECT_EQ(registry_.snapshot(), before);
}

TEST_F(RegistryTest, AddUserPersistsAndPublishes) {
  const auto before = registry_.snapshot();
  const User user = registry_.add_user("alice", "Alice");
  EXPECT_EQ(user.created_ms, 1'700'000'000'000);
  EXPECT_NE(registry_.snapshot(), before);
  EXPECT_TRUE(before->users.empty());  // old snapshots are immutable
  ASSERT_TRUE(storage_.docs["users"].contains("alice"));
  EXPECT_EQ(user_from_json(nlohmann::json::parse(storage_.docs["users"]["alice"])).display_name,
            "Alice");
}

TEST_F(RegistryTest, AddUserRejectsInvalidAndDuplicate) {
  EXPECT_THROW(registry_.add_user("", "x"), RegistryError);
  EXPECT_THROW(registry_.add_user("a/b", "x"), RegistryError);
  registry_.add_user("alice", "Alice");
  EXPECT_THROW(registry_.add_user("alice", "again"), RegistryError);
  EXPECT_EQ(registry_.snapshot()->user("alice")->display_name, "Alice");
}

TEST_F(RegistryTest, GenerationAdvancesOnEveryPublish) {
  const auto g0 = registry_.generation();
  registry_.add_user("alice", "Alice");
  EXPECT_GT(registry_.generation(), g0);
  FakeStorage other_storage;
  Registry other(other_storage, fast_options());
  EXPECT_NE(other.uid(), registry_.uid());
}

TEST_F(RegistryTest, AddSasDevice) {
  registry_.add_user("alice", "Alice");
  const auto [device, credentials] = registry_.add_device(sas_device("phone-1"));
  EXPECT_EQ(device.owner, "alice");
  EXPECT_EQ(device.tags.at("room"), "hall");
  EXPECT_EQ(device.created_ms, 1'700'000'000'000);
  EXPECT_TRUE(device.enabled);
  EXPECT_EQ(auth_kind(device), AuthKind::sas);
  ASSERT_EQ(azure::base64_decode(credentials.primary_key).value_or("").size(), 32u);
  ASSERT_EQ(azure::base64_decode(credentials.secondary_key).value_or("").size(), 32u);
  EXPECT_NE(credentials.primary_key, credentials.secondary_key);
  EXPECT_TRUE(credentials.password.empty());
  EXPECT_EQ(device.primary_key, credentials.primary_key);
  const Device stored =
      device_from_json(nlohmann::json::parse(storage_.docs["devices"]["phone-1"]));
  EXPECT_EQ(stored.primary_key, credentials.primary_key);
  EXPECT_EQ(registry_.snapshot()->device("phone-1")->secondary_key, credentials.secondary_key);
}

TEST_F(RegistryTest, KeysDifferBetweenDevices) {
  registry_.add_user("alice", "Alice");
  const auto a = registry_.add_device(sas_device("a")).second;
  const auto b = registry_.add_device(sas_device("b")).second;
  EXPECT_NE(a.primary_key, b.primary_key);
}

TEST_F(RegistryTest, PasswordIsStoredOnlyAsArgon2idHash) {
  registry_.add_user("alice", "Alice");
  NewDevice request = sas_device("lamp");
  request.auth = AuthKind::password;
  request.password = "correct horse battery";
  const auto [device, credentials] = registry_.add_device(request);
  EXPECT_EQ(credentials.password, "correct horse battery");
  EXPECT_TRUE(credentials.primary_key.empty());
  EXPECT_TRUE(device.primary_key.empty());
  EXPECT_TRUE(device.password_hash.starts_with("$argon2id$")) << device.password_hash;
  const std::string& body = storage_.docs["devices"]["lamp"];
  EXPECT_EQ(body.find("correct horse battery"), std::string::npos) << body;
  EXPECT_EQ(to_json(*registry_.snapshot()->device("lamp")).dump().find("correct horse"),
            std::string::npos);
  const std::string hash = device.password_hash;
  EXPECT_EQ(crypto_pwhash_str_verify(hash.c_str(), "correct horse battery", 21), 0);
  EXPECT_NE(crypto_pwhash_str_verify(hash.c_str(), "correct horse batterx", 21), 0);
}

TEST_F(RegistryTest, GeneratedPassword) {
  registry_.add_user("alice", "Alice");
  NewDevice request = sas_device("lamp");
  request.auth = AuthKind::password;
  const auto [device, credentials] = registry_.add_device(request);
  ASSERT_EQ(credentials.password.size(), 24u);
  for (const char c : credentials.password)
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)));
  EXPECT_EQ(storage_.docs["devices"]["lamp"].find(credentials.password), std::string::npos);
  EXPECT_EQ(crypto_pwhash_str_verify(device.password_hash.c_str(), credentials.password.data(),
                                     credentials.password.size()),
            0);
  request.id = "lamp2";
  EXPECT_NE(registry_.add_device(request).second.password, credentials.password);
}

TEST_F(RegistryTest, ShortPasswordRefused) {
  registry_.add_user("alice", "Alice");
  NewDevice request = sas_device("lamp");
  request.auth = AuthKind::password;
  request.password = "short";
  EXPECT_THROW(registry_.add_device(request), RegistryError);
}

TEST_F(RegistryTest, X509DeviceNormalisesThumbprints) {
  registry_.add_user("alice", "Alice");
  NewDevice request = sas_device("cam");
  request.auth = AuthKind::x509;
  std::string colons;
  for (int i = 0; i < 32; ++i) colons += (i ? ":ab" : "ab");
  request.thumbprints = {colons, std::string(64, 'c')};
  const auto [device, credentials] = registry_.add_device(request);
  std::string expected;
  for (int i = 0; i < 32; ++i) expected += "AB";
  EXPECT_EQ(device.thumbprints, (std::vector<std::string>{expected, std::string(64, 'C')}));
  EXPECT_TRUE(credentials.primary_key.empty());
  EXPECT_TRUE(credentials.password.empty());
  EXPECT_TRUE(device.primary_key.empty());
  EXPECT_EQ(auth_kind(device), AuthKind::x509);
  EXPECT_EQ(registry_.snapshot()->device_by_thumbprint(std::string(64, 'C'))->id, "cam");
}

TEST_F(RegistryTest, X509Validation) {
  registry_.add_user("alice", "Alice");
  NewDevice request = sas_device("cam");
  request.auth = AuthKind::x509;
  EXPECT_THROW(registry_.add_device(request), RegistryError);  // neither thumbprint nor CA
  request.thumbprints = {"1234"};
  EXPECT_THROW(registry_.add_device(request), RegistryError);
  request.thumbprints = {};
  request.ca_signed = true;
  EXPECT_TRUE(registry_.add_device(request).first.ca_signed);
  // A thumbprint identifies one device.
  NewDevice first = sas_device("cam2");
  first.auth = AuthKind::x509;
  first.thumbprints = {kThumbA};
  registry_.add_device(first);
  first.id = "cam3";
  EXPECT_THROW(registry_.add_device(first), RegistryError);
}

TEST_F(RegistryTest, MixedCredentialKindsRefused) {
  registry_.add_user("alice", "Alice");
  NewDevice request = sas_device("d");
  request.password = "long enough password";
  EXPECT_THROW(registry_.add_device(request), RegistryError);
  request = sas_device("d");
  request.thumbprints = {kThumbA};
  EXPECT_THROW(registry_.add_device(request), RegistryError);
  request.auth = AuthKind::password;
  EXPECT_THROW(registry_.add_device(request), RegistryError);
  request = sas_device("d");
  request.auth = AuthKind::x509;
  request.ca_signed = true;
  request.password = "long enough password";
  EXPECT_THROW(registry_.add_device(request), RegistryError);
  EXPECT_TRUE(registry_.snapshot()->devices.empty());
}

TEST_F(RegistryTest, AddDeviceNeedsOwnerAndUniqueValidId) {
  EXPECT_THROW(registry_.add_device(sas_device("d", "nobody")), RegistryError);
  registry_.add_user("alice", "Alice");
  EXPECT_THROW(registry_.add_device(sas_device("bad id")), RegistryError);
  EXPECT_THROW(registry_.add_device(sas_device("")), RegistryError);
  NewDevice request = sas_device("d");
  request.tags = {{"", "x"}};
  EXPECT_THROW(registry_.add_device(request), RegistryError);
  registry_.add_device(sas_device("d"));
  EXPECT_THROW(registry_.add_device(sas_device("d")), RegistryError);
  EXPECT_EQ(registry_.snapshot()->devices.size(), 1u);
}

TEST_F(RegistryTest, RemoveUserOnlyWithoutDevices) {
  EXPECT_THROW(registry_.remove_user("ghost"), RegistryError);
  registry_.add_user("alice", "Alice");
  registry_.add_device(sas_device("d1"));
  registry_.add_device(sas_device("d2"));
  try {
    registry_.remove_user("alice");
    FAIL() << "no exception";
  } catch (const RegistryError& e) {
    EXPECT_NE(std::string(e.what()).find("remove its devices first: d1, d2"), std::string::npos)
        << e.what();
  }
  registry_.remove_device("d1");
  registry_.remove_device("d2");
  registry_.remove_user("alice");
  EXPECT_TRUE(registry_.snapshot()->users.empty());
  EXPECT_TRUE(storage_.docs["users"].empty());
  EXPECT_TRUE(storage_.docs["devices"].empty());
}

TEST_F(RegistryTest, SetEnabledAndRemoveDevice) {
  registry_.add_user("alice", "Alice");
  NewDevice request = sas_device("cam");
  request.auth = AuthKind::x509;
  request.thumbprints = {kThumbA};
  registry_.add_device(request);
  registry_.set_enabled("cam", false);
  EXPECT_FALSE(registry_.snapshot()->device("cam")->enabled);
  EXPECT_FALSE(device_from_json(nlohmann::json::parse(storage_.docs["devices"]["cam"])).enabled);
  const int writes = storage_.writes;
  registry_.set_enabled("cam", false);  // no change, no write
  EXPECT_EQ(storage_.writes, writes);
  registry_.set_enabled("cam", true);
  EXPECT_TRUE(registry_.snapshot()->device("cam")->enabled);
  EXPECT_THROW(registry_.set_enabled("ghost", true), RegistryError);

  registry_.remove_device("cam");
  EXPECT_EQ(registry_.snapshot()->device("cam"), nullptr);
  EXPECT_EQ(registry_.snapshot()->device_by_thumbprint(kThumbA), nullptr);
  EXPECT_FALSE(storage_.docs["devices"].contains("cam"));
  EXPECT_THROW(registry_.remove_device("cam"), RegistryError);
}

TEST_F(RegistryTest, RotateKeys) {
  registry_.add_user("alice", "Alice");
  const auto original = registry_.add_device(sas_device("d")).second;
  const Credentials rotated = registry_.rotate_key("d");
  EXPECT_NE(rotated.primary_key, original.primary_key);
  EXPECT_NE(rotated.secondary_key, original.secondary_key);
  EXPECT_EQ(registry_.snapshot()->device("d")->primary_key, rotated.primary_key);
  EXPECT_EQ(device_from_json(nlohmann::json::parse(storage_.docs["devices"]["d"])).secondary_key,
            rotated.secondary_key);

  NewDevice request = sas_device("p");
  request.auth = AuthKind::password;
  const auto first = registry_.add_device(request);
  const Credentials new_password = registry_.rotate_key("p");
  EXPECT_EQ(new_password.password.size(), 24u);
  EXPECT_TRUE(new_password.primary_key.empty());
  const std::string hash = registry_.snapshot()->device("p")->password_hash;
  EXPECT_EQ(crypto_pwhash_str_verify(hash.c_str(), new_password.password.data(),
                                     new_password.password.size()),
            0);
  EXPECT_NE(crypto_pwhash_str_verify(hash.c_str(), first.second.password.data(),
                                     first.second.password.size()),
            0);
  EXPECT_EQ(storage_.docs["devices"]["p"].find(new_password.password), std::string::npos);

  request = sas_device("x");
  request.auth = AuthKind::x509;
  request.ca_signed = true;
  registry_.add_device(request);
  EXPECT_THROW(registry_.rotate_key("x"), RegistryError);
  EXPECT_THROW(registry_.rotate_key("ghost"), RegistryError);
}

TEST_F(RegistryTest, FailingStorageLeavesSnapshotUnchanged) {
  registry_.add_user("alice", "Alice");
  registry_.add_device(sas_device("d"));
  NewDevice password = sas_device("p");
  password.auth = AuthKind::password;
  registry_.add_device(password);
  const auto before = registry_.snapshot();
  const auto generation = registry_.generation();
  storage_.fail_writes = true;
  EXPECT_THROW(registry_.add_user("bob", "Bob"), std::runtime_error);
  EXPECT_THROW(registry_.add_device(sas_device("e")), std::runtime_error);
  EXPECT_THROW(registry_.set_enabled("d", false), std::runtime_error);
  EXPECT_THROW(registry_.remove_device("d"), std::runtime_error);
  EXPECT_THROW(registry_.rotate_key("d"), std::runtime_error);
  EXPECT_THROW(registry_.rotate_key("p"), std::runtime_error);
  EXPECT_EQ(registry_.snapshot(), before);
  EXPECT_EQ(registry_.generation(), generation);
  EXPECT_TRUE(registry_.snapshot()->device("d")->enabled);
  storage_.fail_writes = false;
  registry_.remove_device("d");
  EXPECT_THROW(registry_.remove_user("alice"), RegistryError);  // still owns p
  storage_.fail_writes = true;
  EXPECT_THROW(registry_.remove_device("p"), std::runtime_error);
  EXPECT_NE(registry_.snapshot()->device("p"), nullptr);
}

TEST_F(RegistryTest, FailingLoadKeepsSnapshot) {
  registry_.add_user("alice", "Alice");
  const auto before = registry_.snapshot();
  storage_.fail_loads = true;
  EXPECT_THROW(registry_.reload(), std::runtime_error);
  EXPECT_EQ(registry_.snapshot(), before);
}

TEST_F(RegistryTest, ReloadReportsDisabledAndRemovedDevices) {
  registry_.add_user("alice", "Alice");
  for (const char* id : {"a", "b", "c", "d", "e"}) registry_.add_device(sas_device(id));
  registry_.set_enabled("e", false);
  registry_.touch("a", 42);

  // Another process: disables b, removes c, removes the already disabled e,
  // adds f.
  FakeStorage& other = storage_;
  auto b = device_from_json(nlohmann::json::parse(other.docs["devices"]["b"]));
  b.enabled = false;
  other.docs["devices"]["b"] = to_json(b).dump();
  other.docs["devices"].erase("c");
  other.docs["devices"].erase("e");
  auto f = b;
  f.id = "f";
  f.enabled = true;
  other.docs["devices"]["f"] = to_json(f).dump();

  EXPECT_EQ(registry_.reload(), (std::vector<std::string>{"b", "c"}));
  const auto snap = registry_.snapshot();
  EXPECT_FALSE(snap->device("b")->enabled);
  EXPECT_EQ(snap->device("c"), nullptr);
  ASSERT_NE(snap->device("f"), nullptr);
  EXPECT_EQ(snap->device("a")->last_seen_ms, 42);  // kept across the reload
  EXPECT_TRUE(registry_.reload().empty());
}

TEST_F(RegistryTest, TouchIsInMemoryOnly) {
  registry_.add_user("alice", "Alice");
  registry_.add_device(sas_device("a"));
  registry_.add_device(sas_device("b"));
  const int writes = storage_.writes;
  registry_.touch("a", 1000);
  EXPECT_EQ(registry_.snapshot()->device("a")->last_seen_ms, 1000);
  registry_.touch("a", 500);  // never goes back
  EXPECT_EQ(registry_.snapshot()->device("a")->last_seen_ms, 1000);
  registry_.touch("ghost", 7);  // ignored
  registry_.touch_many({{"a", 2000}, {"b", 3000}});
  EXPECT_EQ(registry_.snapshot()->device("a")->last_seen_ms, 2000);
  EXPECT_EQ(registry_.snapshot()->device("b")->last_seen_ms, 3000);
  EXPECT_EQ(storage_.writes, writes);
  const auto generation = registry_.generation();
  registry_.touch("b", 3000);  // no change, no new snapshot
  EXPECT_EQ(registry_.generation(), generation);
}

TEST_F(RegistryTest, ReadersKeepTheirSnapshotWhileWritersPublish) {
  registry_.add_user("alice", "Alice");
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      const auto snap = registry_.snapshot();
      // A snapshot is internally consistent: every device's owner exists.
      for (const auto& [id, device] : snap->devices) ASSERT_NE(snap->user(device.owner), nullptr);
    }
  });
  for (int i = 0; i < 50; ++i) registry_.add_device(sas_device("d" + std::to_string(i)));
  stop = true;
  reader.join();
  EXPECT_EQ(registry_.snapshot()->devices.size(), 50u);
}

}  // namespace
}  // namespace allscene::registry
