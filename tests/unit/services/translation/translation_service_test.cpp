// The "translation" service's operations as the service host calls them.
#include "services/translation/translation_service.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace allscene::services::translation {
namespace {

using Json = nlohmann::json;

class Service : public ::testing::Test {
 protected:
  Reply call(std::string_view operation, const Json& request) {
    return service_->call(caller_, operation, request);
  }
  static void expect_error(const Reply& reply, int status, const char* code) {
    EXPECT_EQ(reply.status, status) << reply.body.dump();
    EXPECT_EQ(reply.body.value("code", ""), code) << reply.body.dump();
    EXPECT_FALSE(reply.body.value("message", "").empty());
  }

  // One service for the suite: its engine's warm pipelines serve every test.
  static void SetUpTestSuite() { service_ = std::make_unique<TranslationService>(); }
  static void TearDownTestSuite() { service_.reset(); }

  Caller caller_{"alice", "phone-1", false};
  static std::unique_ptr<TranslationService> service_;
};
std::unique_ptr<TranslationService> Service::service_;

TEST_F(Service, NamesItsOperations) {
  EXPECT_EQ(service_->name(), "translation");
  EXPECT_EQ(service_->operations(), (std::vector<std::string>{"pairs", "translate", "batch"}));
  EXPECT_GT(service_->deadline("translate"), service_->engine().options().request_timeout);
}

TEST_F(Service, ListsTheInstalledPairs) {
  auto reply = call("pairs", Json::object());
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(reply.body.is_array());
  Json eng_spa;
  for (const auto& pair : reply.body) {
    if (pair["pair"] == "eng-spa") eng_spa = pair;
  }
  EXPECT_EQ(eng_spa, (Json{{"pair", "eng-spa"},
                           {"from", "en"},
                           {"to", "es"},
                           {"from_iso639_3", "eng"},
                           {"to_iso639_3", "spa"},
                           {"variant", ""}}));
}

TEST_F(Service, TranslatesByLanguages) {
  auto reply = call("translate", {{"from", "en"}, {"to", "es"}, {"text", "I have a black dog."}});
  ASSERT_TRUE(reply.ok()) << reply.body.dump();
  EXPECT_EQ(reply.body["text"], "Tengo un perro negro.");
  EXPECT_EQ(reply.body["pair"], "eng-spa");
  EXPECT_EQ(reply.body["from"], "en");
  EXPECT_EQ(reply.body["to"], "es");
  EXPECT_EQ(reply.body["unknown"], Json::array());
  EXPECT_TRUE(reply.body["ms"].is_number());
}

TEST_F(Service, TranslatesByPairNameOrLanguagePair) {
  auto by_mode = call("translate", {{"pair", "fr-es"}, {"text", "Le chat est noir."}});
  ASSERT_TRUE(by_mode.ok()) << by_mode.body.dump();
  EXPECT_EQ(by_mode.body["text"], "El gato es negro.");
  auto by_codes = call("translate", {{"pair", "en-ca"}, {"text", "The cat is black."}});
  ASSERT_TRUE(by_codes.ok()) << by_codes.body.dump();
  EXPECT_EQ(by_codes.body["pair"], "eng-cat");
  EXPECT_EQ(by_codes.body["text"], "El gat és negre.");
}

TEST_F(Service, ReportsUnknownWords) {
  auto reply = call(
      "translate",
      {{"from", "eng"}, {"to", "spa"}, {"text", "Xyzzy plorks the cat."}, {"mark_unknown", true}});
  ASSERT_TRUE(reply.ok()) << reply.body.dump();
  EXPECT_EQ(reply.body["text"], "*Xyzzy *plorks El gato.");
  EXPECT_EQ(reply.body["unknown"], (Json{"Xyzzy", "plorks"}));
}

TEST_F(Service, Batch) {
  auto reply = call(
      "batch", {{"from", "en"}, {"to", "es"}, {"texts", {"The house is big.", "Xyzzy is black."}}});
  ASSERT_TRUE(reply.ok()) << reply.body.dump();
  EXPECT_EQ(reply.body["texts"],
            (Json{"La casa es grande.",
                  "Xyzzy Es negro."}));  // sic: Apertium capitalises after the unknown word
  EXPECT_EQ(reply.body["unknown"], (Json{Json::array(), Json{"Xyzzy"}}));
  EXPECT_EQ(reply.body["pair"], "eng-spa");
}

TEST_F(Service, AnUnknownPairListsTheInstalledOnes) {
  auto reply = call("translate", {{"from", "en"}, {"to", "de"}, {"text", "Hello"}});
  expect_error(reply, 404, "unknown_pair");
  const std::string message = reply.body["message"];
  EXPECT_NE(message.find("en -> de"), std::string::npos) << message;
  EXPECT_NE(message.find("eng-spa"), std::string::npos) << message;
  EXPECT_NE(message.find("apt-get install"), std::string::npos) << message;
  expect_error(call("translate", {{"pair", "klingon"}, {"text", "Hello"}}), 404, "unknown_pair");
}

TEST_F(Service, RefusesBadText) {
  const auto starts = service_->engine().pipeline_starts();
  expect_error(call("translate", {{"from", "en"}, {"to", "es"}, {"text", ""}}), 400, "empty_text");
  expect_error(call("translate", {{"from", "en"}, {"to", "es"}, {"text", std::string(70000, 'a')}}),
               413, "text_too_long");
  expect_error(call("batch", {{"from", "en"}, {"to", "es"}, {"texts", {"a", " "}}}), 400,
               "empty_text");
  expect_error(call("translate", {{"from", "en"}, {"to", "es"}, {"text", std::string("a\0b", 3)}}),
               400, "bad_request");
  EXPECT_EQ(service_->engine().pipeline_starts(), starts);
}

TEST_F(Service, RefusesBadFields) {
  expect_error(call("translate", Json::array()), 400, "bad_request");
  expect_error(call("translate", {{"from", "en"}, {"to", "es"}}), 400, "bad_request");
  expect_error(call("translate", {{"from", "en"}, {"to", "es"}, {"text", 5}}), 400, "bad_request");
  expect_error(call("translate", {{"to", "es"}, {"text", "Hi"}}), 400, "bad_request");
  expect_error(call("translate", {{"from", 1}, {"to", "es"}, {"text", "Hi"}}), 400, "bad_request");
  expect_error(
      call("translate", {{"from", "en"}, {"to", "es"}, {"text", "Hi"}, {"mark_unknown", "yes"}}),
      400, "bad_request");
  expect_error(call("batch", {{"from", "en"}, {"to", "es"}, {"texts", "Hi"}}), 400, "bad_request");
  expect_error(call("batch", {{"from", "en"}, {"to", "es"}, {"texts", {"Hi", 3}}}), 400,
               "bad_request");
}

TEST_F(Service, AnUnknownOperationIs404) {
  expect_error(call("detect", {{"text", "Hola"}}), 404, "unknown_operation");
}

}  // namespace
}  // namespace allscene::services::translation
