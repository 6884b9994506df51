// DocsService through Service::call, as the service host drives it: two
// "devices" of one user syncing binary updates, simple edits, other users,
// persistence across re-opening, bad requests and limits.
#include "services/docs/docs_service.hpp"

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <mutex>
#include <thread>

#include "services/docs/encoding.hpp"

namespace allscene::services::docs {
namespace {

using nlohmann::json;

class FakeHub final : public HubAccess {
 public:
  struct Published {
    std::string topic;
    json payload;
  };
  std::vector<Published> published;  // read only once the calls are over
  std::mutex mutex;

  std::vector<DeviceInfo> devices(const std::string&) override { return {}; }
  void invoke(const std::string&, const std::string&, json, std::chrono::seconds,
              std::function<void(Reply)> done) override {
    done(Reply::error(404, "offline", "no devices in this test"));
  }
  void send_message(const std::string&, std::string,
                    std::vector<std::pair<std::string, std::string>>,
                    std::function<void(Reply)> done) override {
    done(Reply::error(404, "offline", "no devices in this test"));
  }
  void publish(const std::string& topic, std::string payload, bool) override {
    std::lock_guard lock(mutex);
    published.push_back({topic, json::parse(payload)});
  }
  Reply call(const Caller&, std::string_view, std::string_view, const json&) override {
    return Reply::error(404, "unknown_service", "none in this test");
  }
};

std::string base64(const std::string& bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

Update unbase64(const std::string& text) {
  std::string bytes(text.size(), '\0');
  size_t size = 0;
  EXPECT_EQ(
      sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(),
                        text.size(), nullptr, &size, nullptr, sodium_base64_VARIANT_ORIGINAL),
      0);
  bytes.resize(size);
  const DecodeResult decoded = decode(bytes);
  EXPECT_TRUE(decoded.ok()) << decoded.error;
  return decoded.update;
}

json version_of(const TextDoc& doc) {
  json out = json::object();
  for (const auto& [agent, n] : doc.version()) out[agent] = n;
  return out;
}

const Caller kPhone{"alice", "alice-phone", false};
const Caller kLaptop{"alice", "alice-laptop", false};
const Caller kBob{"bob", "bob-phone", false};
const Caller kRest{"alice", "", false};

class DocsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("docs_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    reopen();
  }
  void TearDown() override {
    service_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen(DocsLimits limits = {}) {
    service_.reset();
    service_ = std::make_unique<DocsService>(ServiceContext{dir_, &hub_}, limits);
  }
  Reply call(const Caller& c, std::string_view op, const json& request) {
    return service_->call(c, op, request);
  }
  std::string create(const std::string& title = "Notes") {
    const Reply r = call(kPhone, "create", {{"title", title}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body.value("id", "");
  }
  // One device's sync: sends what the hub lacks, applies what it returns.
  Reply sync(const Caller& c, const std::string& id, TextDoc& device, const Version& hub_has) {
    const Reply r = call(c, "sync",
                         {{"id", id},
                          {"version", version_of(device)},
                          {"update", base64(encode(device.updates_since(hub_has)))}});
    if (r.ok()) {
      EXPECT_TRUE(device.apply(unbase64(r.body.at("update"))).ok());
    }
    return r;
  }

  std::filesystem::path dir_;
  FakeHub hub_;
  std::unique_ptr<DocsService> service_;
};

TEST_F(DocsServiceTest, NameAndOperations) {
  EXPECT_EQ(service_->name(), "docs");
  const auto ops = service_->operations();
  for (const char* op : {"create", "list", "get", "sync", "edit", "delete"}) {
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << op;
  }
}

TEST_F(DocsServiceTest, CreateEditGetList) {
  const std::string id = create("Shopping");
  EXPECT_EQ(id.size(), 32u);
  Reply r = call(
      kRest, "edit",
      {{"id", id}, {"ops", {{{"at", 0}, {"insert", "milk eggs"}}, {{"at", 4}, {"insert", ","}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["length"], 10);
  EXPECT_EQ(r.body["version"], (json{{"hub", 10}}));
  r = call(kRest, "edit", {{"id", id}, {"ops", {{{"at", 0}, {"delete", 6}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = call(kPhone, "get", {{"id", id}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["text"], "eggs");
  EXPECT_EQ(r.body["title"], "Shopping");
  r = call(kLaptop, "list", json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.body.size(), 1u);
  EXPECT_EQ(r.body[0]["id"], id);
  EXPECT_EQ(r.body[0]["length"], 4);
  EXPECT_EQ(r.body[0]["updated"].get<std::string>().size(), 20u);  // 2026-11-24T19:00:00Z
  ASSERT_EQ(hub_.published.size(), 2u);
  EXPECT_EQ(hub_.published[0].topic, "users/alice/docs/" + id);
  EXPECT_EQ(hub_.published[0].payload["from"], "");
}

TEST_F(DocsServiceTest, TwoDevicesEditingAtOnceConverge) {
  const std::string id = create();
  TextDoc phone("alice-phone"), laptop("alice-laptop");
  phone.insert_utf8(0, "Dear team,");
  ASSERT_EQ(sync(kPhone, id, phone, {}).status, 200);
  ASSERT_EQ(sync(kLaptop, id, laptop, {}).status, 200);
  EXPECT_EQ(laptop.text(), "Dear team,");
  // Offline on both, at once.
  const Version phone_synced = phone.version(), laptop_synced = laptop.version();
  phone.insert_utf8(phone.length(), " see you Monday.");
  laptop.remove(5, 4);
  laptop.insert_utf8(5, "friends");
  const Reply r1 = sync(kPhone, id, phone, phone_synced);
  ASSERT_EQ(r1.status, 200) << r1.body;
  // The phone's change went out to the owner's other devices.
  ASSERT_FALSE(hub_.published.empty());
  const auto& note = hub_.published.back();
  EXPECT_EQ(note.topic, "users/alice/docs/" + id);
  EXPECT_EQ(note.payload["from"], "alice-phone");
  TextDoc listener("alice-watch");
  ASSERT_TRUE(listener.apply(unbase64(call(kRest, "sync", {{"id", id}}).body["update"])).ok());
  const Reply r2 = sync(kLaptop, id, laptop, laptop_synced);
  ASSERT_EQ(r2.status, 200) << r2.body;
  ASSERT_EQ(sync(kPhone, id, phone, phone.version()).status, 200);
  EXPECT_EQ(phone.text(), "Dear friends, see you Monday.");
  EXPECT_EQ(laptop.text(), phone.text());
  const Reply got = call(kRest, "get", {{"id", id}});
  EXPECT_EQ(got.body["text"], phone.text());
  EXPECT_EQ(got.body["version"], version_of(phone));
  // Only what is missing: an up-to-date device gets an empty update.
  const Reply idle = call(kPhone, "sync", {{"id", id}, {"version", version_of(phone)}});
  EXPECT_TRUE(unbase64(idle.body["update"]).empty());
}

TEST_F(DocsServiceTest, EditsFromRestReachDevices) {
  const std::string id = create();
  TextDoc phone("alice-phone");
  phone.insert_utf8(0, "abc");
  ASSERT_EQ(sync(kPhone, id, phone, {}).status, 200);
  ASSERT_EQ(call(kRest, "edit", {{"id", id}, {"ops", {{{"at", 3}, {"insert", "d"}}}}}).status, 200);
  ASSERT_EQ(sync(kPhone, id, phone, phone.version()).status, 200);
  EXPECT_EQ(phone.text(), "abcd");
}

// call() from several host threads at once: every device's edits land and
// all devices converge with the hub.
TEST_F(DocsServiceTest, ConcurrentCallsFromSeveralThreads) {
  const std::string id = create();
  constexpr int kDevices = 4;
  std::vector<TextDoc> devices;
  for (int d = 0; d < kDevices; ++d) devices.emplace_back("alice-dev" + std::to_string(d));
  std::vector<std::thread> threads;
  for (int d = 0; d < kDevices; ++d) {
    threads.emplace_back([&, d] {
      TextDoc& doc = devices[d];
      const Caller caller{"alice", doc.local_agent(), false};
      for (int round = 0; round < 25; ++round) {
        const Version before = doc.version();
        doc.insert_utf8(doc.length() / 2, std::to_string(d));
        const Reply r = call(caller, "sync",
                             {{"id", id},
                              {"version", version_of(doc)},
                              {"update", base64(encode(doc.updates_since(before)))}});
        if (r.ok()) doc.apply(unbase64(r.body["update"]));
        if (round % 5 == 0) call(kRest, "list", json::object());
      }
    });
  }
  for (auto& t : threads) t.join();
  for (TextDoc& doc : devices) {
    const Reply r = call(kRest, "sync", {{"id", id}, {"version", version_of(doc)}});
    ASSERT_TRUE(doc.apply(unbase64(r.body["update"])).ok());
  }
  const json hub = call(kRest, "get", {{"id", id}}).body;
  EXPECT_EQ(hub["length"], kDevices * 25);
  for (const TextDoc& doc : devices) EXPECT_EQ(doc.text(), hub["text"]);
}

TEST_F(DocsServiceTest, AnotherUsersDocumentIsNotFound) {
  const std::string id = create();
  const Reply unknown = call(kBob, "get", {{"id", "0123456789abcdef0123456789abcdef"}});
  EXPECT_EQ(unknown.status, 404);
  for (const char* op : {"get", "sync", "delete"}) {
    const Reply r = call(kBob, op, {{"id", id}});
    EXPECT_EQ(r.status, 404) << op;
    EXPECT_EQ(r.body, unknown.body) << op;  // says nothing more than for a missing one
  }
  EXPECT_EQ(call(kBob, "edit", {{"id", id}, {"ops", {{{"at", 0}, {"insert", "x"}}}}}).status, 404);
  EXPECT_TRUE(call(kBob, "list", json::object()).body.empty());
  EXPECT_EQ(call(kPhone, "get", {{"id", id}}).status, 200);
  // An admin caller may act for alice.
  EXPECT_EQ(call(Caller{"ops", "", true}, "get", {{"id", id}, {"user", "alice"}}).status, 200);
}

TEST_F(DocsServiceTest, DocumentsSurviveReopening) {
  const std::string id = create("Diary");
  TextDoc phone("alice-phone");
  phone.insert_utf8(0, "day one");
  ASSERT_EQ(sync(kPhone, id, phone, {}).status, 200);
  ASSERT_EQ(call(kRest, "edit", {{"id", id}, {"ops", {{{"at", 7}, {"insert", "!"}}}}}).status, 200);
  const json before = call(kRest, "get", {{"id", id}}).body;
  reopen();
  const Reply after = call(kRest, "get", {{"id", id}});
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.body, before);
  EXPECT_EQ(after.body["text"], "day one!");
  // The hub continues its own numbering after a restart.
  ASSERT_EQ(call(kRest, "edit", {{"id", id}, {"ops", {{{"at", 0}, {"insert", ">"}}}}}).status, 200);
  EXPECT_EQ(call(kRest, "get", {{"id", id}}).body["version"]["hub"], 2);
}

// The durability contract: once sync has answered, the change is on disk,
// even if the hub is killed at the next instant.
TEST_F(DocsServiceTest, AcknowledgedSyncSurvivesAKill) {
  const std::string id = create();
  service_.reset();
  const pid_t child = ::fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    DocsService hub(ServiceContext{dir_, nullptr});
    TextDoc phone("alice-phone");
    phone.insert_utf8(0, "written just before the crash");
    const Reply r =
        hub.call(kPhone, "sync", {{"id", id}, {"update", base64(encode(phone.updates_since({})))}});
    if (!r.ok()) ::_exit(1);
    std::raise(SIGKILL);  // no destructors, no clean close of the database
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child failed before its sync was answered";
  reopen();
  EXPECT_EQ(call(kRest, "get", {{"id", id}}).body["text"], "written just before the crash");
}

TEST_F(DocsServiceTest, SnapshotsKeepEveryChange) {
  DocsLimits limits;
  limits.compact_every = 3;
  reopen(limits);
  const std::string id = create();
  std::string expected;
  for (int i = 0; i < 10; ++i) {
    const std::string piece = std::to_string(i);
    ASSERT_EQ(
        call(kRest, "edit", {{"id", id}, {"ops", {{{"at", expected.size()}, {"insert", piece}}}}})
            .status,
        200);
    expected += piece;
  }
  reopen(limits);
  EXPECT_EQ(call(kRest, "get", {{"id", id}}).body["text"], expected);
}

TEST_F(DocsServiceTest, DeleteRemovesTheDocument) {
  const std::string id = create();
  const Reply r = call(kPhone, "delete", {{"id", id}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(call(kPhone, "get", {{"id", id}}).status, 404);
  EXPECT_TRUE(call(kPhone, "list", json::object()).body.empty());
  reopen();
  EXPECT_EQ(call(kPhone, "get", {{"id", id}}).status, 404);
  EXPECT_EQ(hub_.published.back().payload["deleted"], true);
}

TEST_F(DocsServiceTest, BadRequestsAre400WithACode) {
  const std::string id = create();
  struct Case {
    const char* op;
    json request;
    const char* code;
  };
  const std::vector<Case> cases{
      {"get", json::object(), "bad_id"},
      {"get", {{"id", 5}}, "bad_id"},
      {"get", json::array(), "bad_request"},
      {"create", {{"title", 5}}, "bad_title"},
      {"create", {{"title", ""}}, "bad_title"},
      {"sync", {{"id", id}, {"version", "all"}}, "bad_version"},
      {"sync", {{"id", id}, {"version", {{"a", -1}}}}, "bad_version"},
      {"sync", {{"id", id}, {"update", 12}}, "bad_update"},
      {"sync", {{"id", id}, {"update", "not base64!"}}, "bad_update"},
      {"sync", {{"id", id}, {"update", base64("\xD1\x05garbage")}}, "bad_update"},
      {"edit", {{"id", id}}, "bad_ops"},
      {"edit", {{"id", id}, {"ops", json::array()}}, "bad_ops"},
      {"edit", {{"id", id}, {"ops", {{{"insert", "x"}}}}}, "bad_ops"},
      {"edit", {{"id", id}, {"ops", {{{"at", 0}, {"insert", "x"}, {"delete", 1}}}}}, "bad_ops"},
      {"edit", {{"id", id}, {"ops", {{{"at", 0}, {"insert", ""}}}}}, "bad_ops"},
      {"edit", {{"id", id}, {"ops", {{{"at", 1}, {"insert", "x"}}}}}, "bad_position"},
      {"edit",
       {{"id", id}, {"ops", {{{"at", 0}, {"insert", "ab"}}, {{"at", 1}, {"delete", 2}}}}},
       "bad_position"},
  };
  for (const Case& c : cases) {
    const Reply r = call(kPhone, c.op, c.request);
    EXPECT_EQ(r.status, 400) << c.op << " " << c.request;
    EXPECT_EQ(r.body.value("code", ""), c.code) << c.op << " " << c.request << " " << r.body;
    EXPECT_FALSE(r.body.value("message", "").empty());
  }
  EXPECT_EQ(call(kPhone, "get", {{"id", id}}).body["text"], "");  // nothing half-applied
  EXPECT_EQ(call(kPhone, "rename", {{"id", id}}).status, 404);
  EXPECT_EQ(call(Caller{}, "list", json::object()).status, 400);
  TextDoc impostor("hub");
  impostor.insert_utf8(0, "x");
  const Reply r =
      call(kPhone, "sync", {{"id", id}, {"update", base64(encode(impostor.updates_since({})))}});
  EXPECT_EQ(r.body.value("code", ""), "reserved_agent");
}

TEST_F(DocsServiceTest, SizeLimitsAre413) {
  DocsLimits limits;
  limits.max_document_chars = 20;
  limits.max_update_bytes = 64;
  reopen(limits);
  const std::string id = create();
  Reply r =
      call(kRest, "edit", {{"id", id}, {"ops", {{{"at", 0}, {"insert", std::string(21, 'x')}}}}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body["code"], "document_too_large");
  TextDoc phone("alice-phone");
  phone.insert_utf8(0, std::string(100, 'y'));
  r = call(kPhone, "sync", {{"id", id}, {"update", base64(encode(phone.updates_since({})))}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body["code"], "update_too_large");
  TextDoc tablet("alice-tablet");
  tablet.insert_utf8(0, std::string(25, 'z'));
  r = call(kPhone, "sync", {{"id", id}, {"update", base64(encode(tablet.updates_since({})))}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body["code"], "document_too_large");
  EXPECT_EQ(call(kRest, "get", {{"id", id}}).body["length"], 0);
}

}  // namespace
}  // namespace allscene::services::docs
