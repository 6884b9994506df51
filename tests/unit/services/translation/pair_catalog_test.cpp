// Pair discovery from the real Apertium modes directory, and mode-name
// parsing from a directory of our own.
#include "services/translation/pair_catalog.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace allscene::services::translation {
namespace {

const PairCatalog& installed() {
  static const PairCatalog catalog(kDefaultModesDir, kDefaultIsoCodesFile);
  return catalog;
}

TEST(PairCatalog, FindsTheInstalledPairs) {
  for (const char* name : {"eng-spa", "spa-eng", "eng-cat", "cat-eng", "fr-es", "es-fr"}) {
    EXPECT_NE(installed().by_name(name), nullptr) << name;
  }
  const auto* pair = installed().by_name("eng-spa");
  ASSERT_NE(pair, nullptr);
  EXPECT_EQ(pair->from, "eng");
  EXPECT_EQ(pair->to, "spa");
  EXPECT_EQ(pair->from_label, "en");
  EXPECT_EQ(pair->to_label, "es");
  EXPECT_EQ(pair->variant, "");
  EXPECT_EQ(pair->mode_file, std::filesystem::path(kDefaultModesDir) / "eng-spa.mode");
}

TEST(PairCatalog, ReadsVariantsFromTheModeName) {
  const auto* valencia = installed().by_name("eng-cat_valencia");
  ASSERT_NE(valencia, nullptr);
  EXPECT_EQ(valencia->from_label, "en");
  EXPECT_EQ(valencia->to_label, "ca");
  EXPECT_EQ(valencia->variant, "valencia");
  const auto* eco = installed().by_name("eco-fr-es");
  ASSERT_NE(eco, nullptr);
  EXPECT_EQ(eco->from, "fra");
  EXPECT_EQ(eco->variant, "eco");
}

TEST(PairCatalog, AcceptsIso639OneAndThreeForTheSameLanguage) {
  ASSERT_TRUE(installed().codes().loaded()) << "install the Debian package iso-codes";
  for (auto [from, to] : {std::pair{"en", "es"}, {"eng", "spa"}, {"EN", "spa"}}) {
    const auto* pair = installed().find(from, to);
    ASSERT_NE(pair, nullptr) << from << "->" << to;
    EXPECT_EQ(pair->name, "eng-spa");
  }
  for (auto [from, to] : {std::pair{"fr", "es"}, {"fra", "spa"}, {"fre", "es"}}) {
    const auto* pair = installed().find(from, to);
    ASSERT_NE(pair, nullptr) << from << "->" << to;
    EXPECT_EQ(pair->name, "fr-es");
  }
}

TEST(PairCatalog, PrefersThePairsDefaultUnlessAVariantIsAsked) {
  EXPECT_EQ(installed().find("en", "ca")->name, "eng-cat");
  EXPECT_EQ(installed().find("en", "ca", "valencia")->name, "eng-cat_valencia");
  EXPECT_EQ(installed().find("en", "ca", "klingon"), nullptr);
  EXPECT_EQ(installed().find("en", "de"), nullptr);
}

class ModesDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("allscene_modes_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void add(const std::string& file) { std::ofstream(dir_ / file) << "lt-proc x\n"; }
  std::filesystem::path dir_;
};

TEST_F(ModesDirectory, SkipsFilesThatAreNotTranslationModes) {
  add("oci-cat.mode");
  add("eng-spa-morph.mode");
  add("README");
  add("nodash.mode");
  PairCatalog catalog(dir_, kDefaultIsoCodesFile);
  ASSERT_EQ(catalog.pairs().size(), 1u);
  EXPECT_EQ(catalog.pairs()[0].name, "oci-cat");
  EXPECT_EQ(catalog.names(), "oci-cat");
}

TEST_F(ModesDirectory, TakesAVariantWhenThePairHasNoDefault) {
  add("spa-eng_US.mode");
  PairCatalog catalog(dir_, kDefaultIsoCodesFile);
  ASSERT_NE(catalog.find("es", "en"), nullptr);
  EXPECT_EQ(catalog.find("es", "en")->variant, "US");
}

TEST(PairCatalogMissing, AMissingDirectoryGivesNoPairs) {
  PairCatalog catalog("/nonexistent/apertium/modes", kDefaultIsoCodesFile);
  EXPECT_TRUE(catalog.pairs().empty());
  EXPECT_EQ(catalog.find("en", "es"), nullptr);
}

}  // namespace
}  // namespace allscene::services::translation
