// Certificate facts the network layer reports in PeerInfo. Expected
// thumbprints come from `openssl x509 -noout -fingerprint -sha256`, an
// independent computation over the same certificates.
#include "net/tls.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

namespace allscene::net {
namespace {

// openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes
//   -subj "/O=allscene test/CN=device-42" -days 36500
constexpr const char* kDevice42 = R"(-----BEGIN CERTIFICATE-----
MIIBrzCCAVWgAwIBAgIULEhL3Ai/sCh3VS3dMt4WHONqMD0wCgYIKoZIzj0EAwIw
LDEWMBQGA1UECgwNYWxsc2NlbmUgdGVzdDESMBAGA1UEAwwJZGV2aWNlLTQyMCAX
DTI2MTEyNDExMjE1MFoYDzIxMjYxMDMxMTEyMTUwWjAsMRYwFAYDVQQKDA1hbGxz
Y2VuZSB0ZXN0MRIwEAYDVQQDDAlkZXZpY2UtNDIwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASXn/LW1IibgdL2GUeBw8e4G7KJ1eUyPw1kHmhU37SmIAYLrT835Nj9
wYrdVOWVlsGInVYbvATtv8QMJp7CVgKfo1MwUTAdBgNVHQ4EFgQU4/wT8DYQy5lJ
/XQ3D80N1W1jquIwHwYDVR0jBBgwFoAU4/wT8DYQy5lJ/XQ3D80N1W1jquIwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA7yJOB4R/+zIZfsZvh9J9
dvIcllYtc28EU3kfIdVM5AECIAmK5lmjwAeryAJUdZ7t2zveZinfYWUzZ4cRWi1m
UCsz
-----END CERTIFICATE-----
)";
constexpr const char* kDevice42Sha256 =
    "A384B9DA09ED596D844A1A07DA5A1A919112EEBB99AB01CCFF90E6EF52815819";

// Same, with -subj "/O=no common name".
constexpr const char* kNoCommonName = R"(-----BEGIN CERTIFICATE-----
MIIBiDCCAS+gAwIBAgIUYPo6y6VQelENqzDjMrGHaBTdtVowCgYIKoZIzj0EAwIw
GTEXMBUGA1UECgwObm8gY29tbW9uIG5hbWUwIBcNMjYxMTI0MTEyMTUwWhgPMjEy
NjEwMzExMTIxNTBaMBkxFzAVBgNVBAoMDm5vIGNvbW1vbiBuYW1lMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEuO5eAai2lKgGqpHUj5DnCSJWG/oWL6zoQ+N138x3
3Yf1r7RWsImmHXhTVLj60KdlFg+J0EX/kxI/Bc697IDvVKNTMFEwHQYDVR0OBBYE
FAfxTKObrBKDNkuggRC8jblCQokeMB8GA1UdIwQYMBaAFAfxTKObrBKDNkuggRC8
jblCQokeMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgPAob+Nbj
z4F9HtY/dujGdT16KX3fwRyDMvQDX/n62rsCIAkQTvr2u+3EscOlSGhsmoc18PPH
1X9LkPxV92zaNhrR
-----END CERTIFICATE-----
)";
constexpr const char* kNoCommonNameSha256 =
    "D5F66D2506A53E57B4BC23EB330869FBC88F1514BD0727692CCA2384448DAB1D";

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr parse(const char* pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem, -1), BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
}

TEST(HexUpper, TwoUpperCaseDigitsPerByte) {
  const std::uint8_t bytes[] = {0x00, 0x0a, 0xf0, 0x9B, 0xff};
  EXPECT_EQ(hex_upper(bytes), "000AF09BFF");
  EXPECT_EQ(hex_upper({}), "");
}

TEST(CertThumbprint, Sha256OverDerAsOpensslPrintsIt) {
  const auto cert = parse(kDevice42);
  ASSERT_TRUE(cert);
  const auto thumbprint = cert_thumbprint(cert.get());
  EXPECT_EQ(thumbprint.size(), 64u);
  EXPECT_EQ(thumbprint, kDevice42Sha256);
  const auto other = parse(kNoCommonName);
  ASSERT_TRUE(other);
  EXPECT_EQ(cert_thumbprint(other.get()), kNoCommonNameSha256);
}

TEST(CertCommonName, SubjectCommonNameOrEmpty) {
  const auto cert = parse(kDevice42);
  ASSERT_TRUE(cert);
  EXPECT_EQ(cert_common_name(cert.get()), "device-42");
  const auto none = parse(kNoCommonName);
  ASSERT_TRUE(none);
  EXPECT_EQ(cert_common_name(none.get()), "");
}

}  // namespace
}  // namespace allscene::net
