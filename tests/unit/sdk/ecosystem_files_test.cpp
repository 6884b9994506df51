// File transfer between Ecosystems on the fake hub: offer, pull through the
// inboxes, progress, lost chunks, resume after either side drops or the
// receiver restarts, hash check, decline, cancel, send to all.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "ecosystem_node.hpp"
#include "file_transfer.hpp"

namespace allscene::sdk {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::await;
using test::Node;
using testing::eventually;

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct FilesTest : ::testing::Test {
  testing::FakeHub hub;
  test::TempDir dir{"eco-files"};
  std::mutex m;
  std::vector<Transfer> progress;  // what the receiver's on_transfer saw

  std::unique_ptr<Node> node(const std::string& id, bool accept = true,
                             std::chrono::milliseconds retry = std::chrono::milliseconds(300)) {
    auto o = test::ecosystem_options(dir.path / id);
    o.chunk_timeout = retry;
    auto n = std::make_unique<Node>(hub, id, o);
    n->eco.on_file_offer([accept](const FileOffer&) { return accept; });
    return n;
  }
  void watch_progress(Node& n) {
    n.eco.on_transfer([this](const Transfer& t) {
      std::lock_guard lock(m);
      progress.push_back(t);
    });
  }
  fs::path make_file(const std::string& name, std::size_t size, unsigned seed = 7) {
    const fs::path p = dir.path / name;
    std::mt19937 gen(seed);
    std::ofstream out(p, std::ios::binary);
    std::string block(64 * 1024, '\0');
    for (std::size_t done = 0; done < size; done += block.size()) {
      for (auto& c : block) c = static_cast<char>(gen());
      out.write(block.data(), static_cast<std::streamsize>(std::min(block.size(), size - done)));
    }
    return p;
  }
  std::size_t data_messages() const {
    return hub.published_on("users/ana/inbox/watch/file-data/").size();
  }
  std::size_t read_requests() const {
    return hub.published_on("users/ana/inbox/phone/file-read").size();
  }
};

TEST_F(FilesTest, AFileArrivesWithProgressOnBothSidesAndTheWireOfTheProtocol) {
  auto phone = node("phone");
  auto watch = node("watch", true, std::chrono::seconds(5));
  watch_progress(*watch);
  std::vector<std::uint64_t> sent_progress;
  phone->eco.on_transfer([&](const Transfer& t) {
    std::lock_guard lock(m);
    sent_progress.push_back(t.bytes);
  });
  ASSERT_TRUE(phone->start() && watch->start());
  const fs::path source = make_file("report.pdf", 300 * 1024 + 3);
  auto [ec, t] =
      await<Transfer>([&](auto h) { phone->eco.send_file("watch", source, "application/pdf", h); });
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(t.state, TransferState::complete);
  EXPECT_EQ(t.bytes, t.size);
  ASSERT_TRUE(eventually([&] {
    const auto list = watch->eco.transfers();
    return list.size() == 1 && list[0].state == TransferState::complete;
  }));
  const Transfer received = watch->eco.transfers()[0];
  EXPECT_EQ(received.path, dir.path / "watch" / "downloads" / "report.pdf");
  EXPECT_EQ(file_bytes(received.path), file_bytes(source));
  EXPECT_EQ(received.sha256, *detail::sha256_file(source));

  // The wire: offer with size and hash, reads of 64 KiB at QoS 0, data at QoS 0, statuses.
  const auto offer = hub.published_on("$ecosystem/call/watch/file.offer/");
  ASSERT_EQ(offer.size(), 1u);
  const json o = json::parse(offer[0].payload);
  EXPECT_EQ(o["size"], 300 * 1024 + 3);
  EXPECT_EQ(o["name"], "report.pdf");
  EXPECT_EQ(o["mime"], "application/pdf");
  const auto reads = hub.published_on("users/ana/inbox/phone/file-read");
  ASSERT_EQ(reads.size(), 5u);  // 4 whole chunks and the rest
  EXPECT_EQ(reads[0].qos, 0);
  const json r0 = json::parse(reads[0].payload);
  EXPECT_EQ(
      r0, (json{{"transfer", o["transfer"]}, {"from", "watch"}, {"offset", 0}, {"length", 65536}}));
  const auto data =
      hub.published_on("users/ana/inbox/watch/file-data/" + o["transfer"].get<std::string>() + "/");
  ASSERT_EQ(data.size(), 5u);
  EXPECT_EQ(data[0].qos, 0);
  const auto status = hub.published_on("users/ana/inbox/phone/file-status");
  ASSERT_GE(status.size(), 2u);
  EXPECT_EQ(json::parse(status.front().payload)["state"], "receiving");
  EXPECT_EQ(json::parse(status.back().payload)["state"], "complete");
  std::lock_guard lock(m);
  EXPECT_GE(progress.size(), 5u);  // a report per chunk
  EXPECT_TRUE(std::is_sorted(sent_progress.begin(), sent_progress.end()));
  EXPECT_EQ(sent_progress.back(), t.size);
}

TEST_F(FilesTest, SixtyFourMiBWithinTheWindow) {
  auto phone = node("phone");
  auto watch = node("watch", true, std::chrono::seconds(5));  // the protocol's retry time
  std::size_t most_outstanding = 0;
  std::size_t reads = 0, datas = 0;
  hub.set_filter([&](const std::string&, mqtt::Publish& p) {
    // Runs on the hub's thread, one message at a time.
    if (p.topic.ends_with("/file-read")) ++reads;
    if (p.topic.find("/file-data/") != std::string::npos) ++datas;
    most_outstanding = std::max(most_outstanding, reads - datas);
    return true;
  });
  ASSERT_TRUE(phone->start() && watch->start());
  const fs::path source = make_file("big.bin", 64u << 20);
  const auto t0 = std::chrono::steady_clock::now();
  auto [ec, t] = await<Transfer>([&](auto h) { phone->eco.send_file("watch", source, "", h); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(ec) << ec.message();
  std::cout << "[ measure  ] 64 MiB over loopback (fake hub): " << seconds << " s, "
            << 64.0 / seconds << " MiB/s (hash included)\n";
  ASSERT_TRUE(eventually([&] {
    const auto list = watch->eco.transfers();
    return list.size() == 1 && list[0].state == TransferState::complete;
  }));
  EXPECT_EQ(*detail::sha256_file(watch->eco.transfers()[0].path), t.sha256);
  EXPECT_EQ(reads, 1024u);  // 64 KiB chunks, none asked twice
  hub.set_filter(nullptr);
  EXPECT_LE(most_outstanding, 8u);
}

TEST_F(FilesTest, LostChunksAreAskedAgain) {
  auto phone = node("phone");
  auto watch = node("watch");
  std::set<std::string> dropped_once;
  hub.set_filter([&](const std::string&, mqtt::Publish& p) {
    // Every third chunk is lost the first time it is sent.
    if (p.topic.find("/file-data/") == std::string::npos) return true;
    const auto offset = std::stoull(p.topic.substr(p.topic.rfind('/') + 1));
    if ((offset / 65536) % 3 != 1) return true;
    return !dropped_once.insert(p.topic).second;
  });
  ASSERT_TRUE(phone->start() && watch->start());
  const fs::path source = make_file("lossy.bin", 1 << 20);
  auto [ec, t] = await<Transfer>([&](auto h) { phone->eco.send_file("watch", source, "", h); });
  ASSERT_FALSE(ec) << ec.message();
  hub.set_filter(nullptr);
  // 16 chunks, 5 of them (1, 4, 7, 10, 13) asked again (a slow run may ask once more).
  EXPECT_GE(read_requests(), 16u + 5u);
  EXPECT_LE(read_requests(), 16u + 8u);
  ASSERT_TRUE(eventually([&] {
    return !watch->eco.transfers().empty() &&
           watch->eco.transfers()[0].state == TransferState::complete;
  }));
  EXPECT_EQ(file_bytes(watch->eco.transfers()[0].path), file_bytes(source));
}

TEST_F(FilesTest, DeclinedOfferEndsTheSendersTransfer) {
  auto phone = node("phone");
  auto watch = node("watch", false);
  ASSERT_TRUE(phone->start() && watch->start());
  auto [ec, t] = await<Transfer>(
      [&](auto h) { phone->eco.send_file("watch", make_file("no.txt", 10), "", h); });
  EXPECT_EQ(ec, EcosystemErrc::declined);
  EXPECT_EQ(t.state, TransferState::declined);
  EXPECT_EQ(read_requests(), 0u);
  ASSERT_EQ(watch->eco.transfers().size(), 1u);
  EXPECT_EQ(watch->eco.transfers()[0].state, TransferState::declined);
}

TEST_F(FilesTest, HashMismatchFailsAndRemovesThePart) {
  auto phone = node("phone");
  auto watch = node("watch");
  hub.set_filter([&](const std::string&, mqtt::Publish& p) {
    if (p.topic.find("/file-data/") != std::string::npos && p.topic.ends_with("/0")) {
      p.payload[100] ^= 0x55;  // corrupted in transit
    }
    return true;
  });
  ASSERT_TRUE(phone->start() && watch->start());
  auto [ec, t] = await<Transfer>(
      [&](auto h) { phone->eco.send_file("watch", make_file("c.bin", 200000), "", h); });
  EXPECT_EQ(ec, EcosystemErrc::transfer_failed);
  ASSERT_TRUE(eventually([&] {
    return !watch->eco.transfers().empty() &&
           watch->eco.transfers()[0].state == TransferState::failed;
  }));
  EXPECT_EQ(watch->eco.transfers()[0].error, EcosystemErrc::hash_mismatch);
  EXPECT_FALSE(
      fs::exists(dir.path / "watch" / "state" / ".allscene-transfers" / ("phone-" + t.id)));
  EXPECT_FALSE(fs::exists(dir.path / "watch" / "downloads" / "c.bin"));
}

TEST_F(FilesTest, TheReceiverResumesAfterARestart) {
  auto phone = node("phone");
  auto watch = node("watch");
  std::atomic<int> data_allowed{40};  // then the receiver "crashes"
  hub.set_filter([&](const std::string&, mqtt::Publish& p) {
    if (p.topic.find("/file-data/") == std::string::npos) return true;
    return data_allowed.fetch_sub(1) > 0;
  });
  ASSERT_TRUE(phone->start() && watch->start());
  const fs::path source = make_file("movie.mp4", 8 << 20);
  auto sent = std::make_shared<std::promise<std::pair<std::error_code, Transfer>>>();
  phone->eco.send_file("watch", source, "video/mp4", [sent](std::error_code ec, Transfer t) {
    sent->set_value({ec, t});
  });
  ASSERT_TRUE(eventually([&] { return data_allowed.load() <= 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  watch.reset();  // the process ends mid-transfer
  const fs::path folder = dir.path / "watch" / "state" / ".allscene-transfers";
  ASSERT_TRUE(fs::exists(folder));
  const auto reads_before = hub.published_on("users/ana/inbox/phone/file-read").size();

  hub.set_filter(nullptr);
  watch = node("watch");  // a new process on the same folders
  watch_progress(*watch);
  ASSERT_TRUE(watch->start());
  auto f = sent->get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  const auto [ec, t] = f.get();
  ASSERT_FALSE(ec) << ec.message();
  const auto reads = hub.published_on("users/ana/inbox/phone/file-read");
  std::uint64_t first_offset_after = ~0ull;
  for (std::size_t i = reads_before; i < reads.size(); ++i) {
    first_offset_after =
        std::min<std::uint64_t>(first_offset_after, json::parse(reads[i].payload)["offset"]);
  }
  EXPECT_GE(first_offset_after, 1u << 20);       // the saved part was kept (state saved every MiB)
  EXPECT_LT(reads.size() - reads_before, 128u);  // fewer than the whole file again
  ASSERT_TRUE(eventually([&] {
    return !watch->eco.transfers().empty() &&
           watch->eco.transfers()[0].state == TransferState::complete;
  }));
  EXPECT_EQ(file_bytes(watch->eco.transfers()[0].path), file_bytes(source));
  EXPECT_FALSE(fs::exists(folder / ("phone-" + t.id)));
}

TEST_F(FilesTest, TheSendersDisconnectionOnlyDelaysTheTransfer) {
  auto phone = node("phone");
  auto watch = node("watch");
  std::atomic<int> seen{0};
  hub.set_filter([&](const std::string&, mqtt::Publish& p) {
    if (p.topic.find("/file-data/") != std::string::npos) ++seen;
    return true;
  });
  ASSERT_TRUE(phone->start() && watch->start());
  const fs::path source = make_file("s.bin", 4 << 20);
  auto sent = std::make_shared<std::promise<std::error_code>>();
  phone->eco.send_file("watch", source, "",
                       [sent](std::error_code ec, Transfer) { sent->set_value(ec); });
  ASSERT_TRUE(eventually([&] { return seen.load() >= 10; }));
  hub.cut("phone");
  hub.cut("watch");
  auto f = sent->get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_FALSE(f.get());
  hub.set_filter(nullptr);
  ASSERT_TRUE(eventually([&] {
    return !watch->eco.transfers().empty() &&
           watch->eco.transfers()[0].state == TransferState::complete;
  }));
  EXPECT_EQ(file_bytes(watch->eco.transfers()[0].path), file_bytes(source));
}

TEST_F(FilesTest, AReconnectedReceiverAsksAgainAtOnce) {
  auto phone = node("phone");
  auto watch = node("watch", true, std::chrono::seconds(60));  // no timer-driven retries here
  std::atomic<bool> lose_data{false};
  hub.set_filter([&](const std::string&, mqtt::Publish& p) {
    return !lose_data || p.topic.find("/file-data/") == std::string::npos;
  });
  ASSERT_TRUE(phone->start() && watch->start());
  const fs::path source = make_file("r.bin", 2 << 20);
  auto sent = std::make_shared<std::promise<std::error_code>>();
  lose_data = true;  // every answer to the first requests is lost
  phone->eco.send_file("watch", source, "",
                       [sent](std::error_code ec, Transfer) { sent->set_value(ec); });
  ASSERT_TRUE(eventually([&] { return read_requests() >= 8; }));
  lose_data = false;
  hub.cut("watch");  // the new connection re-asks without waiting the 60 s
  auto f = sent->get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_FALSE(f.get());
  hub.set_filter(nullptr);
}

TEST_F(FilesTest, CancelBySenderEndsTheReceiversTransfer) {
  auto phone = node("phone");
  auto watch = node("watch");
  hub.set_filter([&](const std::string&, mqtt::Publish& p) {
    return p.topic.find("/file-data/") == std::string::npos;  // nothing gets through
  });
  ASSERT_TRUE(phone->start() && watch->start());
  auto sent = std::make_shared<std::promise<std::pair<std::error_code, Transfer>>>();
  phone->eco.send_file("watch", make_file("x.bin", 1 << 20), "",
                       [sent](std::error_code ec, Transfer t) {
                         sent->set_value({ec, t});
                       });
  ASSERT_TRUE(eventually([&] { return read_requests() > 0; }));
  const std::string id = phone->eco.transfers().at(0).id;
  phone->eco.cancel_transfer(id);
  auto f = sent->get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(f.get().first, EcosystemErrc::cancelled);
  ASSERT_TRUE(eventually([&] {
    return !watch->eco.transfers().empty() &&
           watch->eco.transfers()[0].state == TransferState::failed;
  }));
  EXPECT_EQ(watch->eco.transfers()[0].error, EcosystemErrc::transfer_failed);
  EXPECT_FALSE(fs::exists(dir.path / "watch" / "state" / ".allscene-transfers" / ("phone-" + id)));
}

TEST_F(FilesTest, SendToAllOnlineDevices) {
  test::put_card(hub, "phone", true);
  test::put_card(hub, "watch", true);
  test::put_card(hub, "laptop", true);
  test::put_card(hub, "tv", false);
  auto phone = node("phone");
  auto watch = node("watch");
  auto laptop = node("laptop");
  ASSERT_TRUE(phone->start() && watch->start() && laptop->start());
  ASSERT_TRUE(eventually([&] { return phone->eco.devices().size() == 4; }));
  auto [ec, list] = await<std::vector<Transfer>>(
      [&](auto h) { phone->eco.send_file_to_all(make_file("all.txt", 100000), "text/plain", h); });
  EXPECT_FALSE(ec);
  ASSERT_EQ(list.size(), 2u);
  std::set<std::string> peers;
  for (const auto& t : list) {
    peers.insert(t.peer);
    EXPECT_EQ(t.state, TransferState::complete);
  }
  EXPECT_EQ(peers, (std::set<std::string>{"laptop", "watch"}));
  EXPECT_TRUE(hub.published_on("$ecosystem/call/tv/").empty());
}

TEST_F(FilesTest, UnknownTransferReadsGetAFileError) {
  auto phone = node("phone");
  ASSERT_TRUE(phone->start());
  hub.inject("users/ana/inbox/phone/file-read",
             R"({"transfer":"nope","from":"watch","offset":0,"length":10})");
  ASSERT_TRUE(eventually(
      [&] { return !hub.published_on("users/ana/inbox/watch/file-error/nope").empty(); }));
  EXPECT_EQ(
      json::parse(hub.published_on("users/ana/inbox/watch/file-error/nope")[0].payload)["error"],
      "unknown transfer");
}

}  // namespace
}  // namespace allscene::sdk
