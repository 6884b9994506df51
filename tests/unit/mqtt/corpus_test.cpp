// The fuzzer's seed corpus (tests/fuzz/corpus/decode, written by
// tests/fuzz/make_corpus.py) must hold valid packets only: each seed frames
// and decodes with the version its name starts with, and survives a round trip.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "codec_test_util.hpp"

namespace allscene::mqtt::test {
namespace {

TEST(FuzzCorpus, EverySeedDecodes) {
  namespace fs = std::filesystem;
  const fs::path dir = ALLSCENE_FUZZ_CORPUS_DIR;
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  int seeds = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    ASSERT_TRUE(name.starts_with("v5-") || name.starts_with("v311-"));
    const Version v = name.starts_with("v5-") ? Version::v5 : Version::v311;
    std::ifstream in(entry.path(), std::ios::binary);
    const Bytes data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::span<const std::uint8_t> rest(data);
    ASSERT_FALSE(rest.empty());
    while (!rest.empty()) {
      const Frame f = frame(rest, 1 << 16);
      ASSERT_EQ(f.status, FrameStatus::complete);
      const DecodeResult r = decode(rest.first(f.size), v);
      ASSERT_TRUE(r.ok()) << r.error->what;
      const DecodeResult again = decode(encoded(r.packet, v), v);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(again.packet, r.packet);
      rest = rest.subspan(f.size);
    }
    ++seeds;
  }
  EXPECT_GE(seeds, 20);
}

}  // namespace
}  // namespace allscene::mqtt::test
