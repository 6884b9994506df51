// Documents (the registry's records): round trips, a version that tells
// other processes about changes, and writes beside a running session
// store, as the CLI does while the hub runs.
#include "store/document_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include "store/sqlite_store.hpp"
#include "store_test_util.hpp"

namespace allscene::store::testing {
namespace {

class DocumentStoreTest : public ::testing::Test {
 protected:
  StoreOptions options() const {
    StoreOptions o;
    o.path = path_;
    return o;
  }
  TempDir dir_{"allscene-documents"};
  std::filesystem::path path_ = dir_.file("allscene.db");
};

TEST_F(DocumentStoreTest, PutLoadRemoveByCollection) {
  DocumentStore docs(options());
  docs.put("devices", "b", R"({"id":"b"})");
  docs.put("devices", "a", R"({"id":"a"})");
  docs.put("users", "a", R"({"id":"user-a"})");
  EXPECT_EQ(docs.load("devices"), (std::vector<std::string>{R"({"id":"a"})", R"({"id":"b"})"}));
  EXPECT_EQ(docs.load("users"), (std::vector<std::string>{R"({"id":"user-a"})"}));
  docs.put("devices", "a", R"({"id":"a","v":2})");
  docs.remove("devices", "b");
  docs.remove("devices", "never-there");
  EXPECT_EQ(docs.load("devices"), (std::vector<std::string>{R"({"id":"a","v":2})"}));
  EXPECT_TRUE(docs.load("twins").empty());
}

TEST_F(DocumentStoreTest, WritesAreDurableAndVisibleToAnotherConnection) {
  DocumentStore writer(options());
  DocumentStore reader(options());
  const auto before = reader.version();
  writer.put("users", "u1", "{}");
  const auto after_put = reader.version();
  EXPECT_GT(after_put, before);
  EXPECT_EQ(reader.load("users").size(), 1u);
  writer.remove("users", "u1");
  EXPECT_GT(reader.version(), after_put);
  writer.put("users", "u2", R"({"n":2})");
  EXPECT_EQ(DocumentStore(options()).load("users"), (std::vector<std::string>{R"({"n":2})"}));
}

// Status documents (presence) are written in one commit and do not move
// the version that tells readers to reload the registry.
TEST_F(DocumentStoreTest, PutManyWritesTogetherAndMayStayUnannounced) {
  DocumentStore docs(options());
  const auto before = docs.version();
  docs.put_many("presence", {{"a", "1"}, {"b", "2"}}, /*announce=*/false);
  EXPECT_EQ(docs.version(), before);
  EXPECT_EQ(docs.load("presence"), (std::vector<std::string>{"1", "2"}));
  docs.put_many("devices", {{"c", "3"}});
  EXPECT_GT(docs.version(), before);
}

// The hub's writer commits all the time; a CLI writing the registry at the
// same moment waits its turn instead of failing, and so does the hub.
TEST_F(DocumentStoreTest, WritesBesideARunningSessionStore) {
  SqliteStore sessions(options());
  broker::StoredState ignored_state;
  LoadReport ignored;
  ignored_state = sessions.load(ignored);
  sessions.start();
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0};
  std::thread hub([&] {
    for (int i = 0; !stop; ++i) {
      std::promise<bool> done;
      auto f = done.get_future();
      broker::store_op::SaveSession save;
      save.client_id = "s" + std::to_string(i % 50);
      save.expiry_interval = 60;
      sessions.submit({std::move(save)}, [&done](bool ok) { done.set_value(ok); });
      if (!f.get()) ++failed;
    }
  });
  DocumentStore docs(options());
  for (int i = 0; i < 50; ++i) docs.put("devices", std::to_string(i), "{}");
  stop = true;
  hub.join();
  sessions.stop();
  EXPECT_EQ(failed, 0) << "a session commit failed while documents were written";
  EXPECT_EQ(docs.load("devices").size(), 50u);
  EXPECT_TRUE(sessions.healthy());
}

TEST_F(DocumentStoreTest, AFileThatIsNotAStoreIsRefusedWithItsName) {
  std::ofstream(path_) << "not a database, just text that is long enough to matter........";
  try {
    DocumentStore docs(options());
    FAIL() << "opened a file that is not a store";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(path_.string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace allscene::store::testing
