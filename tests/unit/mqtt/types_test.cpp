// Reason codes (§2.4), the 3.1.1 CONNACK mapping and the error category.
#include <gtest/gtest.h>

#include "mqtt/codec.hpp"
#include "mqtt/types.hpp"

namespace allscene::mqtt {
namespace {

TEST(ReasonCodes, Names_2_4) {
  EXPECT_EQ(reason_code_name(ReasonCode::success), "success");
  EXPECT_EQ(reason_code_name(ReasonCode::malformed_packet), "malformed packet");
  EXPECT_EQ(reason_code_name(ReasonCode::packet_too_large), "packet too large");
  EXPECT_EQ(reason_code_name(ReasonCode::wildcard_subscriptions_not_supported),
            "wildcard subscriptions not supported");
  EXPECT_EQ(reason_code_name(static_cast<ReasonCode>(0x7F)), "unknown reason code");
  for (int v = 0; v < 256; ++v) EXPECT_FALSE(reason_code_name(static_cast<ReasonCode>(v)).empty());
}

TEST(ReasonCodes, IsError) {
  EXPECT_FALSE(is_error(ReasonCode::success));
  EXPECT_FALSE(is_error(ReasonCode::reauthenticate));
  EXPECT_TRUE(is_error(ReasonCode::unspecified_error));
  EXPECT_TRUE(is_error(ReasonCode::wildcard_subscriptions_not_supported));
}

// MQTT 3.1.1 §3.2.2.3 return codes from MQTT 5 §3.2.2.2 reason codes.
TEST(ReasonCodes, ToV311ReturnCode) {
  using R = ReasonCode;
  using C = ConnectReturnCode;
  EXPECT_EQ(to_v311_return_code(R::success), C::accepted);
  EXPECT_EQ(to_v311_return_code(R::unsupported_protocol_version), C::unacceptable_protocol_version);
  EXPECT_EQ(to_v311_return_code(R::client_identifier_not_valid), C::identifier_rejected);
  EXPECT_EQ(to_v311_return_code(R::bad_user_name_or_password), C::bad_user_name_or_password);
  EXPECT_EQ(to_v311_return_code(R::not_authorized), C::not_authorized);
  EXPECT_EQ(to_v311_return_code(R::server_unavailable), C::server_unavailable);
  EXPECT_EQ(to_v311_return_code(R::server_busy), C::server_unavailable);
  EXPECT_EQ(to_v311_return_code(R::banned), C::not_authorized);
  EXPECT_EQ(to_v311_return_code(R::bad_authentication_method), C::bad_user_name_or_password);
  EXPECT_EQ(to_v311_return_code(R::unspecified_error), C::server_unavailable);
  EXPECT_EQ(to_v311_return_code(R::malformed_packet), C::server_unavailable);
  EXPECT_EQ(to_v311_return_code(R::use_another_server), C::server_unavailable);
}

TEST(ReasonCodes, ErrorCategory) {
  const std::error_code ec = ReasonCode::not_authorized;  // is_error_code_enum
  EXPECT_STREQ(ec.category().name(), "mqtt");
  EXPECT_EQ(ec.value(), 0x87);
  EXPECT_EQ(ec.message(), "not authorized");
  EXPECT_EQ(ec, make_error_code(ReasonCode::not_authorized));
  EXPECT_EQ(&reason_code_category(), &ec.category());
  EXPECT_EQ(reason_code_category().message(1000), "unknown reason code");
}

// §1.5.4 directly.
// [MQTT-1.5.4-1] [MQTT-1.5.4-2] [v3.1.1 MQTT-1.5.3-1] [v3.1.1 MQTT-1.5.3-2]
TEST(Utf8, Valid_1_5_4) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii that is longer than eight bytes"));
  EXPECT_TRUE(valid_utf8("\x7F"));
  EXPECT_TRUE(valid_utf8("\xC2\x80"));          // U+0080
  EXPECT_TRUE(valid_utf8("\xDF\xBF"));          // U+07FF
  EXPECT_TRUE(valid_utf8("\xE0\xA0\x80"));      // U+0800
  EXPECT_TRUE(valid_utf8("\xED\x9F\xBF"));      // U+D7FF
  EXPECT_TRUE(valid_utf8("\xEE\x80\x80"));      // U+E000
  EXPECT_TRUE(valid_utf8("\xEF\xBB\xBF"));      // U+FEFF is not stripped
  EXPECT_TRUE(valid_utf8("\xF0\x90\x80\x80"));  // U+10000
  EXPECT_TRUE(valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  EXPECT_TRUE(valid_utf8("12345678\xC3\xA9""12345678"));
  EXPECT_FALSE(valid_utf8(std::string_view("\0", 1)));
  EXPECT_FALSE(valid_utf8(std::string_view("12345678\0", 9)));
  EXPECT_FALSE(valid_utf8("\x80"));
  EXPECT_FALSE(valid_utf8("\xC2"));
  EXPECT_FALSE(valid_utf8("\xC2\x41"));
  EXPECT_FALSE(valid_utf8("\xE0\x9F\xBF"));      // overlong U+07FF
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // U+D800
  EXPECT_FALSE(valid_utf8("\xED\xBF\xBF"));      // U+DFFF
  EXPECT_FALSE(valid_utf8("\xF0\x8F\xBF\xBF"));  // overlong U+FFFF
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(valid_utf8("\xF8\x88\x80\x80\x80"));
  EXPECT_FALSE(valid_utf8("\xFF"));
  EXPECT_FALSE(valid_utf8("\xE2\x82"));
  EXPECT_FALSE(valid_utf8("\xF0\x9F\x98"));
}

}  // namespace
}  // namespace allscene::mqtt
