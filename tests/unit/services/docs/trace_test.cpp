// The friendsforever concurrent editing trace (shared/data/editing-traces):
// replayed with fork and merge, it must end with its endContent.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "services/docs/editing_trace.hpp"
#include "services/docs/encoding.hpp"

namespace allscene::services::docs {
namespace {

std::filesystem::path data_dir() {
  if (const char* env = std::getenv("ALLSCENE_DATA_DIR")) return env;
  return ALLSCENE_SHARED_DATA;
}

TEST(EditingTrace, FriendsForeverConvergesToItsEndContent) {
  const auto path = data_dir() / "editing-traces" / "friendsforever.json.gz";
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << path << " is absent (set ALLSCENE_DATA_DIR to the shared data folder)";
  }
  const EditingTrace trace = load_trace(path);
  ASSERT_TRUE(trace.concurrent);
  const TextDoc merged = replay_concurrent(trace);
  EXPECT_EQ(merged.text(), trace.end_content);
  // The whole document through the encoding gives the same text.
  TextDoc loaded("loader");
  const DecodeResult decoded = decode(encode_document(merged));
  ASSERT_TRUE(decoded.ok()) << decoded.error;
  ASSERT_TRUE(loaded.apply(decoded.update).ok());
  EXPECT_EQ(loaded.text(), trace.end_content);
}

}  // namespace
}  // namespace allscene::services::docs
