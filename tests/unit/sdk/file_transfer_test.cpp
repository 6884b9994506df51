// The receiver's pull engine without a network: window, chunking, retries,
// out-of-order chunks, resume in a new process (a new Receiving on the same
// folder), hash check.
#include "file_transfer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

namespace allscene::sdk::detail {
namespace {

namespace fs = std::filesystem;
using Clock = TransferClock;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("allscene-ft-" + random_id());
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen());
  return s;
}

fs::path write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

struct ReceiverEngine : ::testing::Test {
  TempDir dir;
  std::string content = random_bytes(300 * 1024 + 7, 1);  // not a multiple of the chunk
  FileOffer offer;
  ReceiverConfig config;

  void SetUp() override {
    const fs::path source = write_file(dir.path / "source.bin", content);
    offer = {"t1", "laptop", "photo.bin", content.size(), *sha256_file(source), "x/y"};
    config.state_dir = dir.path / "state";
    config.downloads_dir = dir.path / "downloads";
    config.chunk_size = 64 * 1024;
    config.window = 3;
    config.retry_after = std::chrono::seconds(5);
  }
  std::string chunk(const ChunkRequest& r) const { return content.substr(r.offset, r.length); }
};

TEST(FileTransfer, Sha256OfAKnownFile) {
  TempDir dir;
  // FIPS 180-2 example: SHA-256("abc").
  EXPECT_EQ(sha256_file(write_file(dir.path / "abc", "abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_FALSE(sha256_file(dir.path / "missing"));
  EXPECT_EQ(random_id().size(), 16u);
  EXPECT_NE(random_id(), random_id());
}

TEST_F(ReceiverEngine, RequestsStayWithinTheWindowAndCoverTheFileOnce) {
  Receiving r(offer, config);
  ASSERT_FALSE(r.open());
  const auto now = Clock::now();
  auto first = r.due(now, "phone");
  ASSERT_EQ(first.size(), 3u);  // the window
  EXPECT_EQ(first[0].offset, 0u);
  EXPECT_EQ(first[1].offset, 65536u);
  EXPECT_EQ(first[0].from, "phone");
  EXPECT_TRUE(r.due(now, "phone").empty());  // nothing more while all are out
  std::uint64_t covered = 0;
  std::error_code ec;
  std::vector<ChunkRequest> pending = first;
  while (!pending.empty()) {
    const ChunkRequest req = pending.front();
    pending.erase(pending.begin());
    EXPECT_EQ(req.offset, covered);
    covered += req.length;
    const auto result = r.on_data(req.offset, chunk(req), ec);
    ASSERT_FALSE(ec);
    if (result == Receiving::Chunk::complete) break;
    EXPECT_EQ(result, Receiving::Chunk::accepted);
    for (auto& next : r.due(now, "phone")) pending.push_back(next);
    EXPECT_LE(r.outstanding(), 3u);
  }
  EXPECT_EQ(covered, content.size());
  EXPECT_EQ(r.received(), content.size());
  fs::path final_path;
  ASSERT_FALSE(r.finish(final_path));
  EXPECT_EQ(final_path, config.downloads_dir / "photo.bin");
  std::ifstream in(final_path, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), content);
  EXPECT_FALSE(fs::exists(config.state_dir / ".allscene-transfers" / "laptop-t1"));
}

TEST_F(ReceiverEngine, OutOfOrderDuplicateAndWrongLengthChunks) {
  Receiving r(offer, config);
  ASSERT_FALSE(r.open());
  const auto reqs = r.due(Clock::now(), "phone");
  std::error_code ec;
  EXPECT_EQ(r.on_data(reqs[2].offset, chunk(reqs[2]), ec), Receiving::Chunk::accepted);
  EXPECT_EQ(r.received(), 0u);  // held until the gap is filled
  EXPECT_EQ(r.on_data(reqs[2].offset, chunk(reqs[2]), ec), Receiving::Chunk::ignored);  // again
  EXPECT_EQ(r.on_data(reqs[0].offset, "short", ec), Receiving::Chunk::ignored);
  EXPECT_EQ(r.on_data(12345, "never asked", ec), Receiving::Chunk::ignored);
  EXPECT_EQ(r.on_data(reqs[0].offset, chunk(reqs[0]), ec), Receiving::Chunk::accepted);
  EXPECT_EQ(r.received(), 65536u);
  EXPECT_EQ(r.on_data(reqs[1].offset, chunk(reqs[1]), ec), Receiving::Chunk::accepted);
  EXPECT_EQ(r.received(), 3u * 65536u);  // the early third chunk followed
}

TEST_F(ReceiverEngine, UnansweredRequestsAreAskedAgainAfterTheTimeout) {
  Receiving r(offer, config);
  ASSERT_FALSE(r.open());
  const auto t0 = Clock::now();
  const auto first = r.due(t0, "phone");
  std::error_code ec;
  r.on_data(first[1].offset, chunk(first[1]), ec);  // the other two are lost
  const auto refill = r.due(t0 + std::chrono::seconds(1), "phone");
  ASSERT_EQ(refill.size(), 1u);  // only the window's free slot
  EXPECT_EQ(refill[0].offset, 3u * 65536u);
  const auto retried = r.due(t0 + std::chrono::seconds(5), "phone");
  ASSERT_EQ(retried.size(), 2u);
  EXPECT_EQ(retried[0].offset, 0u);
  EXPECT_EQ(retried[1].offset, 2u * 65536u);
  r.retry_all();  // a new connection: everything outstanding goes again at once
  EXPECT_EQ(r.due(t0 + std::chrono::seconds(5), "phone").size(), 3u);
}

TEST_F(ReceiverEngine, AnotherProcessResumesFromThePartFile) {
  {
    Receiving r(offer, config);
    ASSERT_FALSE(r.open());
    std::error_code ec;
    for (const auto& req : r.due(Clock::now(), "phone")) r.on_data(req.offset, chunk(req), ec);
    ASSERT_EQ(r.received(), 3u * 65536u);
  }  // the process ends with the .part and the state file on disk
  const auto saved = Receiving::saved(config.state_dir);
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].transfer, "t1");
  EXPECT_EQ(saved[0].from, "laptop");
  EXPECT_EQ(saved[0].sha256, offer.sha256);

  Receiving again(saved[0], config);
  ASSERT_FALSE(again.open());
  EXPECT_EQ(again.received(), 3u * 65536u);
  std::error_code ec;
  Receiving::Chunk last = Receiving::Chunk::ignored;
  std::vector<ChunkRequest> reqs = again.due(Clock::now(), "phone");
  EXPECT_EQ(reqs.front().offset, 3u * 65536u);  // nothing asked twice
  while (!reqs.empty()) {
    for (const auto& req : reqs) last = again.on_data(req.offset, chunk(req), ec);
    reqs = again.due(Clock::now(), "phone");
  }
  ASSERT_EQ(last, Receiving::Chunk::complete);
  fs::path final_path;
  EXPECT_FALSE(again.finish(final_path));
  EXPECT_EQ(*sha256_file(final_path), offer.sha256);
}

TEST_F(ReceiverEngine, HashMismatchRemovesThePartAndFails) {
  Receiving r(offer, config);
  ASSERT_FALSE(r.open());
  std::error_code ec;
  Receiving::Chunk last = Receiving::Chunk::ignored;
  std::vector<ChunkRequest> reqs = r.due(Clock::now(), "phone");
  while (!reqs.empty()) {
    for (const auto& req : reqs) {
      std::string bytes = chunk(req);
      if (req.offset == 0) bytes[0] ^= 1;  // corrupted on the way
      last = r.on_data(req.offset, bytes, ec);
    }
    reqs = r.due(Clock::now(), "phone");
  }
  ASSERT_EQ(last, Receiving::Chunk::complete);
  fs::path final_path;
  EXPECT_EQ(r.finish(final_path), EcosystemErrc::hash_mismatch);
  EXPECT_FALSE(fs::exists(config.state_dir / ".allscene-transfers" / "laptop-t1"));
  EXPECT_FALSE(fs::exists(config.downloads_dir / "photo.bin"));
  EXPECT_TRUE(Receiving::saved(config.state_dir).empty());
}

TEST_F(ReceiverEngine, AnExistingDownloadIsNotOverwritten) {
  fs::create_directories(config.downloads_dir);
  write_file(config.downloads_dir / "photo.bin", "older");
  offer.size = 0;
  offer.sha256 = *sha256_file(write_file(dir.path / "empty", ""));
  Receiving r(offer, config);
  ASSERT_FALSE(r.open());
  EXPECT_TRUE(r.due(Clock::now(), "phone").empty());  // nothing to ask for
  fs::path final_path;
  ASSERT_FALSE(r.finish(final_path));
  EXPECT_EQ(final_path, config.downloads_dir / "photo (1).bin");
}

}  // namespace
}  // namespace allscene::sdk::detail
