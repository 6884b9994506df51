#include "azure/azure.hpp"

#include <gtest/gtest.h>

namespace allscene::azure {
namespace {

// 32 bytes 0x00..0x1f, base64:
//   python3 -c 'import base64; print(base64.b64encode(bytes(range(32))).decode())'
constexpr std::string_view kKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr std::string_view kOtherKey =
    "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";  // 0x20..0x3f

// Known answers computed once, outside this code base:
//   python3 -c 'import hmac,hashlib,base64,urllib.parse;
//     k=base64.b64decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
//     s=urllib.parse.quote("myhub.example/devices/dev1",safe="")+"\n1700000000";
//     print(base64.b64encode(hmac.new(k,s.encode(),hashlib.sha256).digest()).decode())'
// and confirmed with
//   printf 'myhub.example%%2Fdevices%%2Fdev1\n1700000000' |
//     openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1e1f -binary | base64
constexpr std::string_view kDev1Signature = "g9mvEu2qZqHy+PXEpEz0vTqqTvQTig6LgWedL3jt4hI=";
// Same python, resource "Hub.Example/devices/a b+c", expiry 4102444800.
constexpr std::string_view kSpacedSignature = "vu+tI7U5jIyjmMTAEZOUvazNZyEtW2Ngf84PQRQ+cjs=";
// Same python, but signing the lower-case escape form "myhub.example%2fdevices%2fdev1"
// (as .NET's WebUtility.UrlEncode writes it), expiry 1700000000.
constexpr std::string_view kLowerHexSignature = "Q+wQJTluKRnEoc+rNNOk1kgn2mSdwyovltgourh6NSU=";

TEST(AzureUrl, EncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(url_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(url_encode("a/b c+d=e&f%"), "a%2Fb%20c%2Bd%3De%26f%25");
  EXPECT_EQ(url_encode(std::string_view("\x00\xff", 2)), "%00%FF");
  EXPECT_EQ(url_encode(""), "");
}

TEST(AzureUrl, DecodeAcceptsBothCasesAndKeepsPlus) {
  EXPECT_EQ(url_decode("a%2Fb%2fc+d"), "a/b/c+d");
  EXPECT_EQ(url_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(url_decode(""), "");
}

TEST(AzureUrl, DecodeRejectsMalformedEscapes) {
  EXPECT_EQ(url_decode("%"), std::nullopt);
  EXPECT_EQ(url_decode("abc%2"), std::nullopt);
  EXPECT_EQ(url_decode("%G0"), std::nullopt);
  EXPECT_EQ(url_decode("%0G"), std::nullopt);
  EXPECT_EQ(url_decode("x%%41"), std::nullopt);
}

TEST(AzureUrl, RoundTripOfEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(url_decode(url_encode(all)), all);
}

TEST(AzureBase64, StrictOriginalAlphabet) {
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("aGVsbG8"), std::nullopt);    // padding missing
  EXPECT_EQ(base64_decode("aGV sbG8="), std::nullopt);  // space
  EXPECT_EQ(base64_decode("_-8="), std::nullopt);       // URL-safe alphabet
  EXPECT_EQ(base64_decode(kKey)->size(), 32u);
}

TEST(AzureUsername, ParsesCurrentForm) {
  const auto name = parse_device_username(
      "myhub.example/dev1/?api-version=2021-04-12&DeviceClientType=azsdk-c%2F1.5.0&model-id=dtmi:"
      "x;1");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->host, "myhub.example");
  EXPECT_EQ(name->device_id, "dev1");
  EXPECT_EQ(name->api_version, "2021-04-12");
  ASSERT_EQ(name->params.size(), 3u);
  EXPECT_EQ(name->params[0], (std::pair<std::string, std::string>{"api-version", "2021-04-12"}));
  EXPECT_EQ(name->params[1],
            (std::pair<std::string, std::string>{"DeviceClientType", "azsdk-c/1.5.0"}));
  EXPECT_EQ(name->params[2], (std::pair<std::string, std::string>{"model-id", "dtmi:x;1"}));
}

TEST(AzureUsername, ParsesLegacyAndEmptyQuery) {
  const auto legacy = parse_device_username("hub/dev/api-version=2016-11-14");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->device_id, "dev");
  EXPECT_EQ(legacy->api_version, "2016-11-14");

  const auto bare = parse_device_username("hub/dev/");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->api_version, "");
  EXPECT_TRUE(bare->params.empty());

  const auto flag = parse_device_username("hub/dev/?flag&api-version=1");
  ASSERT_TRUE(flag);
  EXPECT_EQ(flag->params[0], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(flag->api_version, "1");
}

TEST(AzureUsername, RejectsOtherForms) {
  EXPECT_EQ(parse_device_username("dev1"), std::nullopt);
  EXPECT_EQ(parse_device_username("hub/dev1"), std::nullopt);                    // no trailing '/'
  EXPECT_EQ(parse_device_username("/dev1/?a=b"), std::nullopt);                  // no host
  EXPECT_EQ(parse_device_username("hub//?a=b"), std::nullopt);                   // no device
  EXPECT_EQ(parse_device_username("hub/dev/mod/?api-version=1"), std::nullopt);  // module
  EXPECT_EQ(parse_device_username("hub/dev/junk"), std::nullopt);
  EXPECT_EQ(parse_device_username("hub/dev/?api-version=%zz"), std::nullopt);
  EXPECT_EQ(parse_device_username(""), std::nullopt);
}

TEST(AzureSas, KnownAnswerSignature) {
  EXPECT_EQ(sas_signature("myhub.example/devices/dev1", 1700000000, kKey), kDev1Signature);
  EXPECT_EQ(sas_signature("Hub.Example/devices/a b+c", 4102444800, kKey), kSpacedSignature);
}

TEST(AzureSas, InvalidKeyGivesNoSignature) {
  EXPECT_EQ(sas_signature("r", 1, "not base64!"), std::nullopt);
  EXPECT_EQ(sas_signature("r", 1, ""), std::nullopt);
}

TEST(AzureSas, MakeTokenHasAzureLayout) {
  EXPECT_EQ(make_sas_token("myhub.example/devices/dev1", kKey, 1700000000),
            "SharedAccessSignature sr=myhub.example%2Fdevices%2Fdev1"
            "&sig=g9mvEu2qZqHy%2BPXEpEz0vTqqTvQTig6LgWedL3jt4hI%3D&se=1700000000");
  EXPECT_TRUE(make_sas_token("h/devices/d", kKey, 5, "device policy")
                  .ends_with("&se=5&skn=device%20policy"));
}

TEST(AzureSas, ParseRoundTrip) {
  const auto token =
      parse_sas_token(make_sas_token("Hub.Example/devices/a b+c", kKey, 4102444800, "reg"));
  ASSERT_TRUE(token);
  EXPECT_EQ(token->resource, "Hub.Example/devices/a b+c");
  EXPECT_EQ(token->resource_raw, "Hub.Example%2Fdevices%2Fa%20b%2Bc");
  EXPECT_EQ(token->signature, kSpacedSignature);
  EXPECT_EQ(token->expiry, 4102444800);
  EXPECT_EQ(token->key_name, "reg");
}

TEST(AzureSas, ParseFieldsInAnyOrder) {
  const auto token =
      parse_sas_token("SharedAccessSignature se=10&skn=k&sig=YWJj&sr=h%2Fdevices%2Fd");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->resource, "h/devices/d");
  EXPECT_EQ(token->signature, "YWJj");
  EXPECT_EQ(token->expiry, 10);
  EXPECT_EQ(token->key_name, "k");
}

TEST(AzureSas, ParseRejectsMalformed) {
  for (const char* text : {
           "", "SharedAccessSignature", "sharedaccesssignature sr=a&sig=b&se=1",
           "SharedAccessSignature sig=YWJj&se=1",                          // no sr
           "SharedAccessSignature sr=a&se=1",                              // no sig
           "SharedAccessSignature sr=a&sig=YWJj",                          // no se
           "SharedAccessSignature sr=a&sig=YWJj&se=",                      // empty se
           "SharedAccessSignature sr=a&sig=YWJj&se=-5",                    // negative
           "SharedAccessSignature sr=a&sig=YWJj&se=1x",                    // not a number
           "SharedAccessSignature sr=a&sig=YWJj&se=99999999999999999999",  // overflow
           "SharedAccessSignature sr=a&sig=YWJj&se=1&se=2",                // repeated
           "SharedAccessSignature sr=a&sig=YWJj&se=1&foo=2",               // unknown
           "SharedAccessSignature sr=a&sig=YWJj&se=1&",                    // empty field
           "SharedAccessSignature sr=%zz&sig=YWJj&se=1",                   // bad escape
           "SharedAccessSignature sr=&sig=YWJj&se=1",                      // empty resource
           "SharedAccessSignature sr=a&sig&se=1",                          // no '='
       }) {
    EXPECT_EQ(parse_sas_token(text), std::nullopt) << text;
  }
}

TEST(AzureSas, SignedByTheRightKeyOnly) {
  const auto token =
      parse_sas_token(make_sas_token("myhub.example/devices/dev1", kKey, 1700000000));
  ASSERT_TRUE(token);
  EXPECT_TRUE(sas_signed_by(*token, kKey));
  EXPECT_FALSE(sas_signed_by(*token, kOtherKey));
  EXPECT_FALSE(sas_signed_by(*token, "not base64"));
  EXPECT_FALSE(sas_signed_by(*token, ""));
}

TEST(AzureSas, SignatureCoversResourceAndExpiry) {
  auto token = parse_sas_token(make_sas_token("myhub.example/devices/dev1", kKey, 1700000000));
  ASSERT_TRUE(token);
  auto later = *token;
  later.expiry += 1;
  EXPECT_FALSE(sas_signed_by(later, kKey));
  auto other = *token;
  other.resource = "myhub.example/devices/dev2";
  other.resource_raw = url_encode(other.resource);
  EXPECT_FALSE(sas_signed_by(other, kKey));
}

TEST(AzureSas, TamperedSignatureFailsTheConstantTimeCompare) {
  auto token = parse_sas_token(make_sas_token("myhub.example/devices/dev1", kKey, 1700000000));
  ASSERT_TRUE(token);
  // Flip the last significant base64 digit: same length, one byte differs.
  auto tampered = *token;
  tampered.signature[42] = tampered.signature[42] == 'I' ? 'J' : 'I';
  ASSERT_EQ(tampered.signature.size(), token->signature.size());
  EXPECT_FALSE(sas_signed_by(tampered, kKey));
  auto truncated = *token;
  truncated.signature = base64_encode(base64_decode(token->signature)->substr(0, 31));
  EXPECT_FALSE(sas_signed_by(truncated, kKey));
  auto garbage = *token;
  garbage.signature = "%%%";
  EXPECT_FALSE(sas_signed_by(garbage, kKey));
}

TEST(AzureSas, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(AzureSas, AcceptsResourceSignedAsSent) {
  // A client that escaped the resource with lower-case hex signed that text.
  const std::string text = "SharedAccessSignature sr=myhub.example%2fdevices%2fdev1&sig=" +
                           url_encode(kLowerHexSignature) + "&se=1700000000";
  const auto token = parse_sas_token(text);
  ASSERT_TRUE(token);
  EXPECT_EQ(token->resource, "myhub.example/devices/dev1");
  EXPECT_TRUE(sas_signed_by(*token, kKey));
  EXPECT_FALSE(sas_signed_by(*token, kOtherKey));
  // The canonical signature verifies for the same token text too.
  auto canonical = *token;
  canonical.signature = std::string(kDev1Signature);
  EXPECT_TRUE(sas_signed_by(canonical, kKey));
}

TEST(AzureSas, AcceptsUnescapedResourceSignedAsSent) {
  // Signed over the raw resource, as some hand-written clients do:
  //   python3 -c 'import hmac,hashlib,base64;
  //     k=base64.b64decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
  //     print(base64.b64encode(hmac.new(k,b"myhub.example/devices/dev1\n1700000000",
  //                                     hashlib.sha256).digest()).decode())'
  constexpr std::string_view kRawSignature = "CjYZ97QYYALZf5/vyeaJnREw5/27zAV4a+Tjtl1TRXQ=";
  const std::string text =
      "SharedAccessSignature sr=myhub.example/devices/dev1&sig=" + url_encode(kRawSignature) +
      "&se=1700000000";
  const auto token = parse_sas_token(text);
  ASSERT_TRUE(token);
  EXPECT_TRUE(sas_signed_by(*token, kKey));
  EXPECT_FALSE(sas_signed_by(*token, kOtherKey));
  // The raw form is only accepted for the resource the token itself carries.
  auto moved = *token;
  moved.resource_raw = "myhub.example/devices/dev2";
  EXPECT_FALSE(sas_signed_by(moved, kKey));
}

SasToken token_for(std::string resource) {
  SasToken token;
  token.resource = std::move(resource);
  token.signature = "x";
  token.expiry = 1;
  return token;
}

TEST(AzureSas, ResourceScopedToTheDevice) {
  EXPECT_TRUE(sas_resource_is_device(token_for("myhub.example/devices/dev1"), "dev1"));
  EXPECT_FALSE(sas_resource_is_device(token_for("myhub.example/devices/dev1/"), "dev1"));
  EXPECT_FALSE(sas_resource_is_device(token_for("myhub.example/devices/dev1/modules/m"), "dev1"));
  EXPECT_FALSE(sas_resource_is_device(token_for("myhub.example/devices/dev10"), "dev1"));
  EXPECT_FALSE(sas_resource_is_device(token_for("myhub.example/devices/Dev1"), "dev1"));
  EXPECT_FALSE(sas_resource_is_device(token_for("myhub.example"), "dev1"));
  EXPECT_FALSE(sas_resource_is_device(token_for("/devices/dev1"), "dev1"));
  EXPECT_FALSE(sas_resource_is_device(token_for("myhub.example/x/devices/dev1"), "dev1"));
  EXPECT_FALSE(sas_resource_is_device(token_for("myhub.example/devices/"), ""));
}

TEST(AzureSas, ResourceHostComparedCaseInsensitively) {
  EXPECT_TRUE(
      sas_resource_is_device(token_for("MyHub.Example/devices/dev1"), "dev1", "myhub.example"));
  EXPECT_FALSE(
      sas_resource_is_device(token_for("otherhub.example/devices/dev1"), "dev1", "myhub.example"));
  EXPECT_FALSE(
      sas_resource_is_device(token_for("myhub.example/devices/dev1/"), "dev1", "myhub.example"));
}

TEST(AzureTopics, DevicePrefixes) {
  EXPECT_EQ(device_events_prefix("dev1"), "devices/dev1/messages/events/");
  EXPECT_EQ(device_bound_prefix("dev1"), "devices/dev1/messages/devicebound/");
}

}  // namespace
}  // namespace allscene::azure
