#include "registry/access.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "alloc_counter.hpp"
#include "azure/azure.hpp"
#include "fake_storage.hpp"

namespace allscene::registry {
namespace {

using mqtt::ReasonCode;
using registry_testing::FakeStorage;
using registry_testing::fast_options;
using namespace std::chrono_literals;

constexpr std::int64_t kStartMs = 1'700'000'000'000;
constexpr std::int64_t kStartS = kStartMs / 1000;
const std::string kThumbCam(64, 'A');
const std::string kThumbOther(64, 'B');
constexpr const char* kLampPassword = "lamp password 123";

class AccessTest : public ::testing::Test {
 protected:
  AccessTest() {
    registry_.add_user("alice", "Alice");
    registry_.add_user("bob", "Bob");
    phone_ = registry_.add_device(device("phone", "alice")).second;
    bobs_ = registry_.add_device(device("bobs", "bob")).second;
    NewDevice lamp = device("lamp", "alice");
    lamp.auth = AuthKind::password;
    lamp.password = kLampPassword;
    registry_.add_device(lamp);
    NewDevice cam = device("cam", "alice");
    cam.auth = AuthKind::x509;
    cam.thumbprints = {kThumbCam};
    registry_.add_device(cam);
    NewDevice ca = device("ca-dev", "alice");
    ca.auth = AuthKind::x509;
    ca.ca_signed = true;
    registry_.add_device(ca);
    off_ = registry_.add_device(device("off", "alice")).second;
    registry_.set_enabled("off", false);
  }

  static NewDevice device(std::string id, std::string owner) {
    NewDevice d;
    d.id = std::move(id);
    d.owner = std::move(owner);
    return d;
  }

  Authenticator make(AuthConfig config = {}) {
    return Authenticator(registry_, std::move(config), [this] { return now_ms_; });
  }

  static mqtt::Connect connect(std::string client_id, std::optional<std::string> username,
                               std::optional<std::string> password) {
    mqtt::Connect c;
    c.client_id = std::move(client_id);
    c.username = std::move(username);
    c.password = std::move(password);
    return c;
  }
  static std::string azure_user(std::string_view device_id, std::string_view host = "hub.example") {
    return std::string(host) + "/" + std::string(device_id) + "/?api-version=2021-04-12";
  }
  static std::string token(std::string_view device_id, std::string_view key, std::int64_t expiry,
                           std::string_view host = "hub.example") {
    return azure::make_sas_token(std::string(host) + "/devices/" + std::string(device_id), key,
                                 expiry);
  }
  static broker::PeerInfo peer(std::string ip = "192.0.2.1") {
    broker::PeerInfo p;
    p.address = ip + ":4000";
    p.ip = ip;
    return p;
  }

  FakeStorage storage_;
  Registry registry_{storage_, fast_options(kStartMs)};
  Credentials phone_, bobs_, off_;
  std::int64_t now_ms_ = kStartMs;
};

// ---- authenticate ----------------------------------------------------------

TEST_F(AccessTest, AzureUsernameWithSasToken) {
  auto auth = make();
  const auto primary = auth.authenticate(
      peer(),
      connect("phone", azure_user("phone"), token("phone", phone_.primary_key, kStartS + 600)));
  EXPECT_EQ(primary.reason, ReasonCode::success);
  EXPECT_EQ(primary.identity, "phone");
  const auto secondary = auth.authenticate(
      peer(),
      connect("phone", azure_user("phone"), token("phone", phone_.secondary_key, kStartS + 600)));
  EXPECT_EQ(secondary.reason, ReasonCode::success);
  EXPECT_EQ(secondary.identity, "phone");
}

TEST_F(AccessTest, AuthenticationMethodRefused) {
  auto auth = make();
  auto c = connect("phone", azure_user("phone"), token("phone", phone_.primary_key, kStartS + 600));
  c.properties.authentication_method = "SCRAM-SHA-1";
  EXPECT_EQ(auth.authenticate(peer(), c).reason, ReasonCode::bad_authentication_method);
}

TEST_F(AccessTest, AzureUsernameMustMatchClientId) {
  auto auth = make();
  const auto result = auth.authenticate(
      peer(),
      connect("other", azure_user("phone"), token("phone", phone_.primary_key, kStartS + 600)));
  EXPECT_EQ(result.reason, ReasonCode::client_identifier_not_valid);
  EXPECT_TRUE(result.identity.empty());
}

TEST_F(AccessTest, WrongKeyOrResourceIsBadPassword) {
  auto auth = make();
  // Signed with another device's key.
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", azure_user("phone"),
                                              token("phone", bobs_.primary_key, kStartS + 600)))
                .reason,
            ReasonCode::bad_user_name_or_password);
  // A valid token of bob's device used to sign in as phone.
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", azure_user("phone"),
                                              token("bobs", bobs_.primary_key, kStartS + 600)))
                .reason,
            ReasonCode::bad_user_name_or_password);
  // Phone's key, but scoped to bob's device.
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", azure_user("phone"),
                                              token("bobs", phone_.primary_key, kStartS + 600)))
                .reason,
            ReasonCode::bad_user_name_or_password);
  // Trailing slash and module scopes are not device scopes.
  for (const char* resource :
       {"hub.example/devices/phone/", "hub.example/devices/phone/modules/m"}) {
    EXPECT_EQ(auth.authenticate(peer(), connect("phone", azure_user("phone"),
                                                azure::make_sas_token(resource, phone_.primary_key,
                                                                      kStartS + 600)))
                  .reason,
              ReasonCode::bad_user_name_or_password)
        << resource;
  }
}

TEST_F(AccessTest, UnknownDeviceIsBadPassword) {
  auto auth = make();
  EXPECT_EQ(auth.authenticate(peer(), connect("ghost", azure_user("ghost"),
                                              token("ghost", phone_.primary_key, kStartS + 600)))
                .reason,
            ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(auth.authenticate(peer(), connect("ghost", "ghost", "whatever")).reason,
            ReasonCode::bad_user_name_or_password);
}

TEST_F(AccessTest, ExpiredTokenIsNotAuthorized) {
  auto auth = make();
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", azure_user("phone"),
                                              token("phone", phone_.primary_key, kStartS)))
                .reason,
            ReasonCode::not_authorized);
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", azure_user("phone"),
                                              token("phone", phone_.primary_key, kStartS + 1)))
                .reason,
            ReasonCode::success);
  now_ms_ += 1000;
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", azure_user("phone"),
                                              token("phone", phone_.primary_key, kStartS + 1)))
                .reason,
            ReasonCode::not_authorized);
}

TEST_F(AccessTest, DisabledDeviceIsBanned) {
  auto auth = make();
  EXPECT_EQ(auth.authenticate(peer(), connect("off", azure_user("off"),
                                              token("off", off_.primary_key, kStartS + 600)))
                .reason,
            ReasonCode::banned);
  // Without the right secret it learns nothing more than any stranger.
  EXPECT_EQ(auth.authenticate(peer(), connect("off", azure_user("off"),
                                              token("off", phone_.primary_key, kStartS + 600)))
                .reason,
            ReasonCode::bad_user_name_or_password);
}

TEST_F(AccessTest, PlainUsernameWithPassword) {
  auto auth = make();
  const auto ok = auth.authenticate(peer(), connect("lamp", "lamp", kLampPassword));
  EXPECT_EQ(ok.reason, ReasonCode::success);
  EXPECT_EQ(ok.identity, "lamp");
  EXPECT_EQ(auth.authenticate(peer(), connect("", "lamp", kLampPassword)).reason,
            ReasonCode::success);  // the server assigns the client id
  EXPECT_EQ(auth.authenticate(peer(), connect("lamp", "lamp", "lamp password 124")).reason,
            ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(auth.authenticate(peer(), connect("lamp", "lamp", "")).reason,
            ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(auth.authenticate(peer(), connect("lamp", "lamp", std::nullopt)).reason,
            ReasonCode::bad_user_name_or_password);
  // A SAS device has no password to match.
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", "phone", phone_.primary_key)).reason,
            ReasonCode::bad_user_name_or_password);
}

TEST_F(AccessTest, PlainUsernameCannotTakeAnotherClientId) {
  auto auth = make();
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", "lamp", kLampPassword)).reason,
            ReasonCode::client_identifier_not_valid);
}

TEST_F(AccessTest, PlainUsernameWithSasToken) {
  auto auth = make();
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", "phone",
                                              token("phone", phone_.primary_key, kStartS + 60)))
                .reason,
            ReasonCode::success);
  EXPECT_EQ(auth.authenticate(peer(), connect("bobs", "bobs",
                                              token("phone", phone_.primary_key, kStartS + 60)))
                .reason,
            ReasonCode::bad_user_name_or_password);
}

TEST_F(AccessTest, AzureUsernameWithClientCertificate) {
  auto auth = make();
  auto p = peer();
  p.tls = true;
  p.cert_thumbprint = kThumbCam;
  EXPECT_EQ(auth.authenticate(p, connect("cam", azure_user("cam"), std::nullopt)).identity, "cam");
  p.cert_thumbprint = kThumbOther;
  EXPECT_EQ(auth.authenticate(p, connect("cam", azure_user("cam"), std::nullopt)).reason,
            ReasonCode::bad_user_name_or_password);
  // The certificate of cam does not sign in as phone.
  p.cert_thumbprint = kThumbCam;
  EXPECT_EQ(auth.authenticate(p, connect("phone", azure_user("phone"), std::nullopt)).reason,
            ReasonCode::bad_user_name_or_password);
}

TEST_F(AccessTest, CertificateOnly) {
  auto auth = make();
  auto p = peer();
  p.tls = true;
  p.cert_thumbprint = kThumbCam;
  const auto ok = auth.authenticate(p, connect("cam", std::nullopt, std::nullopt));
  EXPECT_EQ(ok.reason, ReasonCode::success);
  EXPECT_EQ(ok.identity, "cam");
  EXPECT_EQ(auth.authenticate(p, connect("phone", std::nullopt, std::nullopt)).reason,
            ReasonCode::client_identifier_not_valid);
  p.cert_thumbprint = kThumbOther;
  EXPECT_EQ(auth.authenticate(p, connect("cam", std::nullopt, std::nullopt)).reason,
            ReasonCode::bad_user_name_or_password);
}

TEST_F(AccessTest, CaSignedCertificateNamesTheDevice) {
  auto auth = make();
  auto p = peer();
  p.tls = true;
  p.cert_thumbprint = kThumbOther;
  p.cert_common_name = "ca-dev";
  p.cert_verified = true;
  EXPECT_EQ(auth.authenticate(p, connect("ca-dev", std::nullopt, std::nullopt)).identity, "ca-dev");
  EXPECT_EQ(auth.authenticate(p, connect("ca-dev", azure_user("ca-dev"), std::nullopt)).identity,
            "ca-dev");
  p.cert_verified = false;  // does not chain to the CA
  EXPECT_EQ(auth.authenticate(p, connect("ca-dev", std::nullopt, std::nullopt)).reason,
            ReasonCode::bad_user_name_or_password);
  p.cert_verified = true;
  p.cert_common_name = "phone";  // phone does not accept CA-signed certificates
  EXPECT_EQ(auth.authenticate(p, connect("phone", std::nullopt, std::nullopt)).reason,
            ReasonCode::bad_user_name_or_password);
}

TEST_F(AccessTest, AnonymousOnlyOnAllowedLoopback) {
  auto auth = make();
  auto p = peer("127.0.0.1");
  p.loopback = true;
  p.allow_anonymous = true;
  const auto ok = auth.authenticate(p, connect("anything", std::nullopt, std::nullopt));
  EXPECT_EQ(ok.reason, ReasonCode::success);
  EXPECT_TRUE(ok.identity.empty());
  p.loopback = false;
  EXPECT_EQ(auth.authenticate(p, connect("x", std::nullopt, std::nullopt)).reason,
            ReasonCode::not_authorized);
  p.loopback = true;
  p.allow_anonymous = false;
  EXPECT_EQ(auth.authenticate(p, connect("x", std::nullopt, std::nullopt)).reason,
            ReasonCode::not_authorized);
  // A password without a username is a failed sign-in, not anonymous.
  p.allow_anonymous = true;
  EXPECT_EQ(auth.authenticate(p, connect("x", std::nullopt, "secret")).reason,
            ReasonCode::bad_user_name_or_password);
}

TEST_F(AccessTest, HubHostChecked) {
  auto auth = make(AuthConfig{.hub_host = "Hub.Example"});
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", azure_user("phone", "HUB.example"),
                                              token("phone", phone_.primary_key, kStartS + 60,
                                                    "hub.EXAMPLE")))
                .reason,
            ReasonCode::success);
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", azure_user("phone", "other.example"),
                                              token("phone", phone_.primary_key, kStartS + 60)))
                .reason,
            ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(auth.authenticate(peer(), connect("phone", azure_user("phone"),
                                              token("phone", phone_.primary_key, kStartS + 60,
                                                    "other.example")))
                .reason,
            ReasonCode::bad_user_name_or_password);
}

TEST_F(AccessTest, CountersCountOutcomes) {
  auto auth = make();
  auth.authenticate(peer(), connect("lamp", "lamp", kLampPassword));
  auth.authenticate(peer(), connect("lamp", "lamp", "nope nope"));
  auth.authenticate(peer(), connect("lamp", "lamp", "nope nope"));
  const auto counters = auth.counters();
  EXPECT_EQ(counters.accepted, 1u);
  EXPECT_EQ(counters.refused, 2u);
  EXPECT_EQ(counters.throttled, 0u);
}

// The codec writes these 3.1.1 CONNACK return codes for our reasons.
TEST(AccessReasonCodes, V311Mapping) {
  using mqtt::ConnectReturnCode;
  EXPECT_EQ(mqtt::to_v311_return_code(ReasonCode::client_identifier_not_valid),
            ConnectReturnCode::identifier_rejected);
  EXPECT_EQ(mqtt::to_v311_return_code(ReasonCode::bad_user_name_or_password),
            ConnectReturnCode::bad_user_name_or_password);
  EXPECT_EQ(mqtt::to_v311_return_code(ReasonCode::bad_authentication_method),
            ConnectReturnCode::bad_user_name_or_password);
  EXPECT_EQ(mqtt::to_v311_return_code(ReasonCode::not_authorized),
            ConnectReturnCode::not_authorized);
  EXPECT_EQ(mqtt::to_v311_return_code(ReasonCode::banned), ConnectReturnCode::not_authorized);
}

// ---- throttling ------------------------------------------------------------

class ThrottleTest : public AccessTest {
 protected:
  void fail(Authenticator& auth, const broker::PeerInfo& p) {
    ASSERT_EQ(auth.authenticate(p, connect("lamp", "lamp", "wrong password")).reason,
              ReasonCode::bad_user_name_or_password);
  }
};

TEST_F(ThrottleTest, DelayStartsAfterThresholdAndDoubles) {
  auto auth = make();
  const auto p = peer();
  for (int i = 0; i < 4; ++i) {
    fail(auth, p);
    EXPECT_EQ(auth.connect_delay(p), 0ms) << i;
  }
  fail(auth, p);
  EXPECT_EQ(auth.connect_delay(p), 1000ms);
  fail(auth, p);
  EXPECT_EQ(auth.connect_delay(p), 2000ms);
  fail(auth, p);
  EXPECT_EQ(auth.connect_delay(p), 4000ms);
  for (int i = 0; i < 10; ++i) fail(auth, p);
  EXPECT_EQ(auth.connect_delay(p), 30000ms);                 // capped
  EXPECT_EQ(auth.connect_delay(peer("198.51.100.7")), 0ms);  // per IP
  EXPECT_EQ(auth.counters().throttled, 4u);
}

TEST_F(ThrottleTest, SuccessResets) {
  auto auth = make();
  const auto p = peer();
  for (int i = 0; i < 6; ++i) fail(auth, p);
  EXPECT_GT(auth.connect_delay(p), 0ms);
  EXPECT_EQ(auth.authenticate(p, connect("lamp", "lamp", kLampPassword)).reason,
            ReasonCode::success);
  EXPECT_EQ(auth.connect_delay(p), 0ms);
  fail(auth, p);
  EXPECT_EQ(auth.connect_delay(p), 0ms);
}

TEST_F(ThrottleTest, FailuresExpireAfterTheWindow) {
  auto auth = make(AuthConfig{.throttle_after = 2, .throttle_window = 10s});
  const auto p = peer();
  fail(auth, p);
  now_ms_ += 9'000;
  fail(auth, p);  // within 10 s of the first
  EXPECT_EQ(auth.connect_delay(p), 1000ms);
  now_ms_ += 10'000;
  EXPECT_EQ(auth.connect_delay(p), 1000ms);  // exactly the window: still counted
  now_ms_ += 1;
  EXPECT_EQ(auth.connect_delay(p), 0ms);
  fail(auth, p);  // a new run
  EXPECT_EQ(auth.connect_delay(p), 0ms);
  now_ms_ += 11'000;
  fail(auth, p);  // too late to join the run
  EXPECT_EQ(auth.connect_delay(p), 0ms);
}

TEST_F(ThrottleTest, ConfiguredDelays) {
  auto auth = make(AuthConfig{.throttle_after = 1, .throttle_first = 100ms, .throttle_max = 250ms});
  const auto p = peer();
  fail(auth, p);
  EXPECT_EQ(auth.connect_delay(p), 100ms);
  fail(auth, p);
  EXPECT_EQ(auth.connect_delay(p), 200ms);
  fail(auth, p);
  EXPECT_EQ(auth.connect_delay(p), 250ms);
}

TEST_F(ThrottleTest, MemoryIsBounded) {
  auto auth = make(AuthConfig{.throttle_after = 1, .throttle_max_ips = 2});
  fail(auth, peer("10.0.0.1"));
  now_ms_ += 1;
  fail(auth, peer("10.0.0.2"));
  now_ms_ += 1;
  EXPECT_GT(auth.connect_delay(peer("10.0.0.1")), 0ms);
  fail(auth, peer("10.0.0.3"));  // table full of live entries: the older ones go
  EXPECT_EQ(auth.connect_delay(peer("10.0.0.1")), 0ms);
  EXPECT_GT(auth.connect_delay(peer("10.0.0.3")), 0ms);
}

TEST_F(ThrottleTest, ExpiredEntriesMakeRoomFirst) {
  auto auth = make(AuthConfig{.throttle_after = 1, .throttle_window = 10s, .throttle_max_ips = 2});
  fail(auth, peer("10.0.0.1"));
  now_ms_ += 20'000;
  fail(auth, peer("10.0.0.2"));
  fail(auth, peer("10.0.0.3"));  // 10.0.0.1 expired and is pruned; 10.0.0.2 stays
  EXPECT_GT(auth.connect_delay(peer("10.0.0.2")), 0ms);
  EXPECT_GT(auth.connect_delay(peer("10.0.0.3")), 0ms);
}

TEST_F(ThrottleTest, NoIpNoThrottle) {
  auto auth = make(AuthConfig{.throttle_after = 1});
  broker::PeerInfo p;
  fail(auth, p);
  fail(auth, p);
  EXPECT_EQ(auth.connect_delay(p), 0ms);
}

// ---- authorisation -----------------------------------------------------------

TEST(AccessFilterCover, Wildcards) {
  struct Case {
    const char* filter;
    const char* pattern;
    bool covered;
  };
  const Case cases[] = {
      {"a/b", "a/b", true},
      {"a/b", "a/+", true},
      {"a/+", "a/b", false},
      {"a/#", "a/+", false},
      {"a", "a/#", true},
      {"a/#", "a/#", true},
      {"a/b/c", "a/#", true},
      {"#", "#", true},
      {"+", "#", true},
      {"a/+/c", "a/+/+", true},
      {"a/+/c", "+/b/c", false},
      {"a/b", "a/b/c", false},
      {"a/b/c", "a/b", false},
      {"a/#", "a/b/#", false},
      {"a/b/#", "a/#", true},
      {"a//b", "a/+/b", true},
      {"/a", "+/a", true},
      {"a/+", "a/+/#", true},
      {"a/+/#", "a/+/#", true},
      {"+/+", "+/#", true},
      {"#", "+/#", false},
      {"$SYS/x", "#", false},
      {"$SYS/x", "+/x", false},
      {"$SYS/x", "$SYS/#", true},
      {"$SYS/x", "$SYS/+", true},
      {"a/$x", "a/+", true},
      {"$share/g/a/b", "a/#", true},
      {"$share/g/a/b", "b/#", false},
      {"a/b", "$share/g/a/b", false},
      {"a/#/b", "#", false},
      {"a", "", false},
      {"", "#", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(filter_covered_by(c.filter, c.pattern), c.covered) << c.filter << " by " << c.pattern;
  }
}

class AclTest : public AccessTest {};

TEST_F(AclTest, AnonymousMayDoAnything) {
  auto auth = make();
  EXPECT_TRUE(auth.may_publish("", "c", "users/bob/x"));
  EXPECT_TRUE(auth.may_subscribe("", "c", "#"));
}

TEST_F(AclTest, DefaultPublishRights) {
  auto auth = make();
  EXPECT_TRUE(auth.may_publish("phone", "phone", "devices/phone/messages/events/a=1"));
  EXPECT_TRUE(auth.may_publish("phone", "phone", "devices/phone"));
  EXPECT_TRUE(auth.may_publish("phone", "phone", "users/alice/clipboard"));
  EXPECT_TRUE(auth.may_publish("phone", "phone", "$iothub/twin/GET/?$rid=1"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "devices/bobs/messages/events/"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "devices/phonex/x"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "users/bob/clipboard"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "users/alicex/clipboard"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "users"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "random/topic"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "$SYS/broker"));
  EXPECT_TRUE(auth.may_publish("phone", "phone", "$services/translation/translate"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", ""));
  EXPECT_TRUE(auth.may_publish("bobs", "bobs", "users/bob/clipboard"));
}

TEST_F(AclTest, GroupCallsAreOpenAndDeviceCardsAreTheHubs) {
  auto auth = make();
  EXPECT_TRUE(auth.may_publish("phone", "phone", "$ecosystem/call/watch/ring/?$rid=1"));
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "$ecosystem/res/#"));
  // Cards are read by the group, written only by the hub.
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "users/alice/devices/+"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "users/alice/devices/phone"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "users/alice/devices/watch/x"));
  EXPECT_TRUE(auth.may_publish("phone", "phone", "users/alice/devicesx"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "users/alice/devices"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "users/alice/relay/call/lamp"));
  // The documents service's change notices are the hub's too.
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "users/alice/docs/+"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "users/alice/docs/d1"));
}

TEST_F(AclTest, AGatewaySpeaksForTheDevicesItHostsInItsOwnersGroupOnly) {
  NewDevice edge = device("home-hub", "alice");
  edge.gateway = true;
  registry_.add_device(edge);
  auto auth = make();
  EXPECT_TRUE(auth.may_publish("home-hub", "home-hub", "users/alice/devices/speaker"));
  EXPECT_TRUE(auth.may_publish("home-hub", "home-hub", "users/alice/relay/call/phone"));
  EXPECT_FALSE(auth.may_publish("home-hub", "home-hub", "users/bob/devices/speaker"));
  // Device-to-cloud events of the devices the edge hosts (unknown here) or
  // of its owner's; never another owner's.
  EXPECT_TRUE(auth.may_publish("home-hub", "home-hub", "devices/speaker/messages/events/a=1"));
  EXPECT_TRUE(auth.may_publish("home-hub", "home-hub", "devices/phone/messages/events/"));
  EXPECT_FALSE(auth.may_publish("home-hub", "home-hub", "devices/bobs/messages/events/"));
  EXPECT_FALSE(auth.may_publish("home-hub", "home-hub", "devices/speaker/messages/devicebound/"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "devices/speaker/messages/events/"));
}

TEST_F(AclTest, MirroredTwinsAreForTheOwnersGatewaysOnly) {
  NewDevice edge = device("home-hub", "alice");
  edge.gateway = true;
  registry_.add_device(edge);
  auto auth = make({.rules = {{.pattern = "#"}}});
  EXPECT_TRUE(auth.may_publish("home-hub", "home-hub", "$hubs/alice/twins/speaker"));
  EXPECT_TRUE(auth.may_publish("home-hub", "home-hub", "$hubs/alice/twins/phone/patch"));
  EXPECT_TRUE(auth.may_subscribe("home-hub", "home-hub", "$hubs/alice/#"));
  EXPECT_FALSE(auth.may_subscribe("home-hub", "home-hub", "$hubs/+/twins/#"));
  EXPECT_FALSE(auth.may_subscribe("home-hub", "home-hub", "$hubs/#"));
  EXPECT_FALSE(auth.may_publish("home-hub", "home-hub", "$hubs/bob/twins/bobs"));
  EXPECT_FALSE(auth.may_publish("home-hub", "home-hub", "$hubs"));
  // A device never reads its siblings' twins, whatever the rules say.
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "$hubs/alice/#"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "$hubs/alice/twins/phone/patch"));
}

TEST_F(AclTest, DefaultSubscribeRights) {
  auto auth = make();
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "devices/phone/messages/devicebound/#"));
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "devices/phone/#"));
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "users/alice/#"));
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "users/alice/+/x"));
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "$iothub/twin/res/#"));
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "$share/g/users/alice/#"));
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "devices/+/#"));
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "devices/#"));
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "+/phone/#"));
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "$iothub"));  // "$iothub/#" matches its parent
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "$iothubx/#"));
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "$share/g/users/bob/#"));
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "$share/g"));
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "users/alice/#/x"));  // invalid
}

TEST_F(AclTest, CrossUserIsolation) {
  auto auth = make({.rules = {{.pattern = "#"}, {.pattern = "+/+/#"}}});
  for (const char* filter : {"users/bob/x", "users/+/x", "users/#", "#", "+/bob/x", "+/+/x", "+/#",
                             "$share/g/users/+/x", "users/bob"}) {
    EXPECT_FALSE(auth.may_subscribe("phone", "phone", filter)) << filter;
  }
  EXPECT_FALSE(auth.may_publish("phone", "phone", "users/bob/x"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "users/bob"));
  // The broad rules do grant what is not another user's.
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "anything/else"));
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "+/alice/x"));
  EXPECT_TRUE(auth.may_publish("phone", "phone", "users"));
  EXPECT_TRUE(auth.may_publish("phone", "phone", "users/alice/x"));
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "$SYS/#"));  // '#' never covers '$'
}

TEST_F(AclTest, UnknownOrDisabledIdentityDenied) {
  auto auth = make();
  EXPECT_FALSE(auth.may_publish("ghost", "ghost", "devices/ghost/x"));
  EXPECT_FALSE(auth.may_subscribe("ghost", "ghost", "devices/ghost/#"));
  EXPECT_FALSE(auth.may_publish("off", "off", "devices/off/x"));
  EXPECT_TRUE(auth.may_publish("phone", "phone", "devices/phone/x"));
  registry_.set_enabled("phone", false);  // seen at once: the snapshot generation changed
  EXPECT_FALSE(auth.may_publish("phone", "phone", "devices/phone/x"));
  registry_.set_enabled("phone", true);
  EXPECT_TRUE(auth.may_publish("phone", "phone", "devices/phone/x"));
  registry_.remove_device("phone");
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "devices/phone/#"));
}

TEST_F(AclTest, RulesWithPlaceholders) {
  auto auth = make({.rules = {
                        {.pattern = "sensors/{user}/+/temp", .publish = true, .subscribe = false},
                        {.pattern = "broadcast/#", .publish = false, .subscribe = true},
                        {.pattern = "clients/{client_id}/#"},
                        {.pattern = "fleet/dev-{device}/state"},
                    }});
  EXPECT_TRUE(auth.may_publish("phone", "phone", "sensors/alice/kitchen/temp"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "sensors/bob/kitchen/temp"));
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "sensors/alice/kitchen/temp"));
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "broadcast/news"));
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "broadcast/#"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "broadcast/news"));
  EXPECT_TRUE(auth.may_publish("phone", "phone-cli", "clients/phone-cli/x"));
  EXPECT_FALSE(auth.may_publish("phone", "other", "clients/phone-cli/x"));
  EXPECT_FALSE(auth.may_publish("phone", "", "clients//x"));
  EXPECT_TRUE(auth.may_publish("phone", "phone", "fleet/dev-phone/state"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "fleet/dev-phonex/state"));
  EXPECT_FALSE(auth.may_publish("phone", "phone", "fleet/dev-/state"));
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "fleet/+/state"));
}

TEST_F(AclTest, SubstitutedIdsAreNeverWildcards) {
  // Azure ids may contain '+' and '#'; as a topic level they stay literal.
  registry_.add_user("+", "plus");
  registry_.add_device(device("#", "+"));
  auto auth = make({.rules = {{.pattern = "x/{device}/{user}"}}});
  EXPECT_FALSE(auth.may_subscribe("#", "#", "devices/#"));
  EXPECT_FALSE(auth.may_subscribe("#", "#", "devices/+/x"));
  EXPECT_FALSE(auth.may_subscribe("#", "#", "users/+/x"));
  EXPECT_FALSE(auth.may_subscribe("#", "#", "users/alice/x"));
  EXPECT_FALSE(auth.may_subscribe("#", "#", "x/+/+"));
  EXPECT_FALSE(auth.may_subscribe("#", "#", "x/#"));
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "x/+/+"));
}

TEST_F(AclTest, InvalidRulesRefusedAtStartUp) {
  for (const char* pattern :
       {"a/#/b", "{nope}/x", "a/{user", "a/user}", "$share/g/x", "a+b", "", "a/b#"}) {
    EXPECT_THROW(make({.rules = {{.pattern = pattern}}}), std::invalid_argument) << pattern;
  }
}

// SIGHUP: new rules apply to the next check, on every thread; a bad rule
// changes nothing.
TEST_F(AclTest, SetConfigReplacesRulesAndKeepsThemOnABadOne) {
  auto auth = make();
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "lab/x"));
  auth.set_config({.rules = {{.pattern = "lab/#"}}});
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "lab/x"));
  std::thread other([&] { EXPECT_TRUE(auth.may_publish("phone", "phone", "lab/x")); });
  other.join();
  EXPECT_THROW(auth.set_config({.rules = {{.pattern = "lab/#/bad"}}}), std::invalid_argument);
  EXPECT_TRUE(auth.may_subscribe("phone", "phone", "lab/x"));
  auth.set_config({});
  EXPECT_FALSE(auth.may_subscribe("phone", "phone", "lab/x"));
}

TEST_F(AclTest, ReadersOnSeveralThreadsFollowMutations) {
  auto auth = make();
  std::atomic<bool> stop{false};
  std::atomic<int> checks{0};
  auto reader = [&] {
    while (!stop.load()) {
      // bobs is never touched: always allowed; phone flips.
      EXPECT_TRUE(auth.may_publish("bobs", "bobs", "users/bob/x"));
      (void)auth.may_subscribe("phone", "phone", "devices/phone/#");
      checks.fetch_add(1);
    }
    // After the last mutation every thread sees the final state.
    EXPECT_FALSE(auth.may_publish("phone", "phone", "devices/phone/x"));
  };
  std::thread a(reader), b(reader);
  for (int i = 0; i < 200; ++i) registry_.set_enabled("phone", i % 2 == 0);
  while (checks.load() < 100) std::this_thread::yield();
  stop = true;
  a.join();
  b.join();
  EXPECT_FALSE(registry_.snapshot()->device("phone")->enabled);
}

TEST_F(AclTest, AllowedPathDoesNotAllocate) {
  auto auth = make({.rules = {{.pattern = "fleet/{user}/{device}/#"}}});
  const std::string long_id(100, 'x');  // beyond the small-string buffer
  registry_.add_device(device(long_id, "alice"));
  const std::string topic = "devices/" + long_id + "/messages/events/";
  // Warm up: the per-thread snapshot and lookup key.
  ASSERT_TRUE(auth.may_publish(long_id, long_id, topic));
  ASSERT_TRUE(auth.may_publish("phone", "phone", "users/alice/x"));
  start_counting_allocations();
  bool all = true;
  for (int i = 0; i < 1000; ++i) {
    all &= auth.may_publish(long_id, long_id, topic);
    all &= auth.may_publish("phone", "phone", "users/alice/clipboard");
    all &= auth.may_subscribe("phone", "phone", "$share/g/users/alice/#");
    all &= auth.may_subscribe("phone", "phone", "fleet/alice/phone/+/x");
  }
  const std::size_t allocations = stop_counting_allocations();
  EXPECT_TRUE(all);
  EXPECT_EQ(allocations, 0u);
}

TEST_F(AclTest, CountingAllocatorCounts) {
  // The allocation check above would pass vacuously if counting were broken.
  start_counting_allocations();
  auto* p = new std::string(200, 'x');
  const std::size_t allocations = stop_counting_allocations();
  delete p;
  EXPECT_GE(allocations, 1u);
}

}  // namespace
}  // namespace allscene::registry
