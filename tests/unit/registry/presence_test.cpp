// Presence: sign-ins and their ends become "connected" and "last seen",
// written in one batch per flush; a crash's leftovers are cleared at start.
#include "registry/presence.hpp"

#include <gtest/gtest.h>

#include <tuple>

#include "fake_storage.hpp"

namespace allscene::registry::registry_testing {
namespace {

class PresenceTest : public ::testing::Test {
 protected:
  std::int64_t now_ = 1'000;
  FakeStorage storage_;
  Presence presence_{storage_, [this] { return now_; }};
};

TEST_F(PresenceTest, ConnectedWhileAnyConnectionLastsAndLastSeenAtEachChange) {
  presence_.signed_in("phone", "phone");
  presence_.flush();
  auto state = Presence::read(storage_);
  EXPECT_TRUE(state["phone"].connected);
  EXPECT_EQ(state["phone"].last_seen_ms, 1'000);

  now_ = 2'000;
  presence_.signed_in("phone", "phone");  // a takeover: the new one signs in first
  now_ = 3'000;
  presence_.signed_out("phone", "phone");
  presence_.flush();
  state = Presence::read(storage_);
  EXPECT_TRUE(state["phone"].connected);
  EXPECT_EQ(state["phone"].last_seen_ms, 3'000);

  now_ = 4'000;
  presence_.signed_out("phone", "phone");
  presence_.flush();
  state = Presence::read(storage_);
  EXPECT_FALSE(state["phone"].connected);
  EXPECT_EQ(state["phone"].last_seen_ms, 4'000);
}

TEST_F(PresenceTest, ListenerHearsOnlineAndOfflineOnceEachAndCurrentIsLive) {
  std::vector<std::tuple<std::string, bool, std::int64_t>> heard;
  std::vector<std::string> reasons;
  presence_.set_listener(
      [&](const std::string& id, bool connected, std::int64_t at, std::string_view reason) {
        heard.emplace_back(id, connected, at);
        reasons.emplace_back(reason);
      });
  presence_.signed_in("phone", "phone");
  now_ = 2'000;
  presence_.signed_in("phone", "phone");  // a takeover: no second "online"
  presence_.signed_out("phone", "phone");
  EXPECT_TRUE(presence_.current("phone").connected);
  now_ = 3'000;
  presence_.signed_out("phone", "phone", "keep alive timeout");
  EXPECT_EQ(reasons, (std::vector<std::string>{"", "keep alive timeout"}));
  EXPECT_EQ(heard, (std::vector<std::tuple<std::string, bool, std::int64_t>>{
                       {"phone", true, 1'000}, {"phone", false, 3'000}}));
  EXPECT_FALSE(presence_.current("phone").connected);
  EXPECT_EQ(presence_.current("phone").last_seen_ms, 3'000);
  EXPECT_EQ(presence_.current("watch").last_seen_ms, 0);
}

TEST_F(PresenceTest, FlushWritesOnlyWhatChanged) {
  presence_.signed_in("a", "a");
  presence_.signed_in("b", "b");
  presence_.flush();
  EXPECT_EQ(storage_.writes, 2);
  presence_.flush();
  EXPECT_EQ(storage_.writes, 2);
  presence_.signed_out("a", "a");
  presence_.flush();
  EXPECT_EQ(storage_.writes, 3);
}

TEST_F(PresenceTest, AFailedFlushKeepsTheChangesForTheNextOne) {
  presence_.signed_in("a", "a");
  storage_.fail_writes = true;
  EXPECT_THROW(presence_.flush(), std::runtime_error);
  storage_.fail_writes = false;
  presence_.flush();
  EXPECT_TRUE(Presence::read(storage_)["a"].connected);
}

TEST_F(PresenceTest, ResetClearsWhatACrashLeftConnected) {
  presence_.signed_in("a", "a");
  presence_.flush();
  Presence after_restart(storage_, [] { return std::int64_t{9'000}; });
  after_restart.reset();
  const auto state = Presence::read(storage_);
  EXPECT_FALSE(state.at("a").connected);
  EXPECT_EQ(state.at("a").last_seen_ms, 1'000) << "last seen is kept";
}

TEST_F(PresenceTest, DocumentsThatAreNotPresenceAreSkipped) {
  storage_.docs["presence"]["x"] = "not json";
  storage_.docs["presence"]["y"] = R"({"id": 5})";
  storage_.docs["presence"]["z"] = R"({"id": "z", "connected": "yes", "last_seen_ms": "soon"})";
  const auto state = Presence::read(storage_);
  ASSERT_EQ(state.size(), 1u);
  EXPECT_FALSE(state.at("z").connected);
  EXPECT_EQ(state.at("z").last_seen_ms, 0);
}

}  // namespace
}  // namespace allscene::registry::registry_testing
