// The console's files under /console/: files by path, the index for the
// console's own routes, nothing outside its folder.
#include "api/console_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace allscene::api {
namespace {

namespace fs = std::filesystem;

class ConsoleFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("console-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_ / "dist" / "assets");
    write(root_ / "dist" / "index.html", "<html>console</html>");
    write(root_ / "dist" / "assets" / "app-1a2b.js", "console.log(1)");
    write(root_ / "secret.txt", "do not serve");
  }
  void TearDown() override { fs::remove_all(root_); }
  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  Response get(std::vector<std::string> segments) { return console_file(root_ / "dist", segments); }

  fs::path root_;
};

TEST_F(ConsoleFilesTest, ServesFilesWithTypesAndCaching) {
  const auto js = get({"assets", "app-1a2b.js"});
  EXPECT_EQ(js.status, 200u);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(js.header("Cache-Control").find("immutable"), std::string::npos);
  const auto index = get({});
  EXPECT_EQ(index.body, "<html>console</html>");
  EXPECT_EQ(index.header("Cache-Control"), "no-cache");
  EXPECT_NE(index.header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
}

TEST_F(ConsoleFilesTest, ConsoleRoutesGetTheIndexMissingFilesDoNot) {
  EXPECT_EQ(get({"devices", "lamp-1"}).body, "<html>console</html>");
  EXPECT_EQ(get({"assets", "missing.js"}).status, 404u);
}

TEST_F(ConsoleFilesTest, NeverLeavesItsFolder) {
  for (const auto& path : std::vector<std::vector<std::string>>{
           {"..", "secret.txt"}, {"assets", "..", "..", "secret.txt"}, {"../secret.txt"}}) {
    const auto r = get(path);
    EXPECT_EQ(r.status, 404u);
    EXPECT_EQ(r.body.find("do not serve"), std::string::npos);
  }
}

TEST_F(ConsoleFilesTest, AnUnbuiltConsoleSaysHowToBuildIt) {
  const auto r = console_file(root_ / "nowhere", {});
  EXPECT_EQ(r.status, 404u);
  EXPECT_NE(r.body.find("scripts/console"), std::string::npos);
}

}  // namespace
}  // namespace allscene::api
