#include "store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/fault_vfs.hpp"
#include "store_test_util.hpp"

namespace allscene::store {
namespace {

namespace fs = std::filesystem;
namespace op = broker::store_op;
using broker::Message;
using broker::MessagePtr;
using broker::StoredState;
using broker::StoreOp;
using namespace std::chrono_literals;

// ---- raw SQLite access, to look at what the store wrote ----------------------

using testing::Db;
using testing::TempDir;

Db open_raw(const fs::path& path) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  Db owned(db);
  if (rc != SQLITE_OK) throw std::runtime_error(sqlite3_errstr(rc));
  return owned;
}

void raw_exec(const Db& db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string what = error ? error : "?";
    sqlite3_free(error);
    throw std::runtime_error(sql + ": " + what);
  }
}

// First column of the first row (0 if there is none).
std::int64_t raw_int(const Db& db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    throw std::runtime_error(sql + ": " + sqlite3_errmsg(db.get()));
  }
  std::int64_t v = 0;
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw std::runtime_error(sql + ": step failed");
  return v;
}

std::int64_t raw_int(const fs::path& path, const std::string& sql) {
  return raw_int(open_raw(path), sql);
}

// Descriptors this process holds on `file` (a connection left open holds one).
int open_descriptors_on(const fs::path& file) {
  const fs::path target = fs::weakly_canonical(file);
  int n = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd", ec)) {
    std::error_code ignored;
    if (fs::read_symlink(entry.path(), ignored) == target) ++n;
  }
  return n;
}

// ---- building ops and waiting for them ----------------------------------------

std::int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<Message> make_message(std::uint64_t id, std::string topic, std::string payload,
                                      std::uint8_t qos = 1) {
  auto m = std::make_shared<Message>();
  m->topic = std::move(topic);
  m->payload = std::move(payload);
  m->qos = qos;
  m->origin_client_id = "publisher";
  m->id = id;
  return m;
}

// A message that uses every stored field and forwarded property.
std::shared_ptr<Message> rich_message(std::uint64_t id, std::string topic, std::uint8_t qos,
                                      bool retain) {
  auto m = make_message(id, std::move(topic), std::string("bin\0ary\xff", 8), qos);
  m->retain = retain;
  m->properties.payload_format_indicator = 0;
  m->properties.content_type = "application/json";
  m->properties.response_topic = "reply/" + std::to_string(id);
  m->properties.correlation_data = std::string("\x01\x00\x02", 3);
  m->properties.user_properties = {{"k", "v1"}, {"k", "v2"}, {"empty", ""}};
  m->expires_at = broker::Clock::now() + 1h;
  m->origin_client_id = "origin-" + std::to_string(id);
  return m;
}

op::SaveDelivery delivery(std::string client, std::uint64_t seq, MessagePtr m, std::uint8_t qos = 1,
                          bool retain = false, std::vector<std::uint32_t> ids = {}) {
  return {std::move(client), seq, std::move(m), qos, retain, std::move(ids)};
}

op::SaveSession session(std::string client, std::uint32_t expiry = 3600) {
  op::SaveSession s;
  s.client_id = std::move(client);
  s.expiry_interval = expiry;
  return s;
}

// Submits one batch and waits (bounded) for its outcome; nullopt: no answer in time.
std::optional<bool> submit_and_wait(SqliteStore& store, std::vector<StoreOp> ops,
                                    std::chrono::milliseconds timeout = 10s) {
  auto promise = std::make_shared<std::promise<bool>>();
  auto future = promise->get_future();
  store.submit(std::move(ops), [promise](bool ok) { promise->set_value(ok); });
  if (future.wait_for(timeout) != std::future_status::ready) return std::nullopt;
  return future.get();
}

// The writer counts a commit just after calling its batches' done: waits
// (bounded) until `batches` batches are counted.
StoreStats counted_stats(const SqliteStore& store, std::uint64_t batches) {
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  StoreStats stats = store.stats();
  while (stats.batches < batches && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
    stats = store.stats();
  }
  return stats;
}

// The StoreError message of constructing a store with `options`, "" if it opened.
std::string open_error(StoreOptions options) {
  try {
    SqliteStore store(std::move(options));
  } catch (const StoreError& e) {
    return e.what();
  }
  return "";
}

void expect_same_message(const Message& got, const Message& want) {
  EXPECT_EQ(got.topic, want.topic);
  EXPECT_EQ(got.payload, want.payload);
  EXPECT_EQ(got.qos, want.qos);
  EXPECT_EQ(got.retain, want.retain);
  EXPECT_EQ(got.properties, want.properties);
  EXPECT_EQ(got.properties.content_type, want.properties.content_type);
  EXPECT_EQ(got.properties.response_topic, want.properties.response_topic);
  EXPECT_EQ(got.properties.correlation_data, want.properties.correlation_data);
  EXPECT_EQ(got.properties.user_properties, want.properties.user_properties);
  EXPECT_EQ(got.origin_client_id, want.origin_client_id);
  EXPECT_EQ(got.id, want.id);
  ASSERT_EQ(got.expires_at.has_value(), want.expires_at.has_value());
  if (want.expires_at) {
    const auto diff = std::chrono::abs(*got.expires_at - *want.expires_at);
    EXPECT_LE(diff, 1s) << "expires_at is off by "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(diff).count()
                        << " ms";
  }
}

const broker::StoredSession* find_session(const StoredState& state, const std::string& id) {
  for (const auto& s : state.sessions) {
    if (s.session.client_id == id) return &s;
  }
  return nullptr;
}

std::vector<std::uint64_t> seqs_of(const broker::StoredSession& s) {
  std::vector<std::uint64_t> out;
  for (const auto& d : s.deliveries) out.push_back(d.seq);
  return out;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  StoreOptions options() const {
    StoreOptions o;
    o.path = db_path_;
    return o;
  }
  // Opens the store on db_path_, loads it and starts the writer.
  std::unique_ptr<SqliteStore> open_started(LoadReport* report = nullptr) {
    auto store = std::make_unique<SqliteStore>(options());
    LoadReport ignored;
    store->load(report ? *report : ignored);
    store->start();
    return store;
  }
  StoredState reload(LoadReport* report = nullptr) {
    SqliteStore store(options());
    LoadReport ignored;
    return store.load(report ? *report : ignored);
  }
  std::int64_t count(const std::string& sql) const { return raw_int(db_path_, sql); }

  TempDir dir_{"allscene-sqlite-store"};
  fs::path db_path_ = dir_.file("sessions.db");
};

// ---- 1. round trip -------------------------------------------------------------

TEST_F(SqliteStoreTest, RoundTripKeepsEveryField) {
  const std::int64_t now = wall_now_ms();
  auto will = rich_message(0, "will/topic", 1, true);
  will->expires_at.reset();  // a will's expiry is a property of the session, not stored apart
  will->origin_client_id = "c1";

  op::SaveSession s1;
  s1.client_id = "c1";
  s1.expiry_interval = 7200;
  s1.expires_at = now + 7'200'000;
  s1.will = will;
  s1.will_delay = 30;
  s1.will_at = now + 30'000;
  const op::SaveSession s2 = session("c2", 60);  // no will, no deadlines

  const op::SaveSubscription sub_a{"c1", "a/+/c", {2, true, false, 2}, 7};
  const op::SaveSubscription sub_b{"c1", "b/#", {1, false, true, 1}, 0};
  const op::SaveSubscription sub_c{"c2", "$share/g/x", {0, false, false, 0}, 268'435'455};

  const auto m3 = rich_message(3, "t/one", 1, false);
  const auto m5 = rich_message(5, "t/two", 2, true);
  auto m9 = make_message(9, "t/plain", "");  // empty payload, no properties, no expiry
  m9->qos = 2;
  const auto retained = rich_message(60, "r/1", 1, true);

  {
    SqliteStore store(options());
    LoadReport report;
    const StoredState empty = store.load(report);
    EXPECT_TRUE(empty.sessions.empty());
    EXPECT_TRUE(empty.retained.empty());
    EXPECT_EQ(empty.next_message_id, 1u);
    EXPECT_EQ(report.expired_sessions, 0u);
    EXPECT_EQ(report.expired_messages, 0u);
    EXPECT_EQ(report.unreadable, 0u);
    store.start();

    EXPECT_EQ(submit_and_wait(store, {s1, s2, sub_a, sub_b, sub_c}), true);
    EXPECT_EQ(submit_and_wait(store, {delivery("c1", 1, m3, 1, false, {}),
                                      delivery("c1", 2, m5, 2, true, {1, 268'435'455, 42}),
                                      delivery("c1", 10, m3, 2, false, {5}),
                                      delivery("c2", 4, m9, 2, false, {})}),
              true);
    EXPECT_EQ(submit_and_wait(store, {op::ReleaseDelivery{"c1", 10}, op::SaveInboundQos2{"c1", 7},
                                      op::SaveInboundQos2{"c1", 65535},
                                      op::SaveInboundQos2{"c2", 1}, op::SaveRetained{retained}}),
              true);
    store.stop();
    const StoreStats stats = store.stats();
    EXPECT_EQ(stats.batches, 3u);
    EXPECT_EQ(stats.ops, 14u);
    EXPECT_EQ(stats.failed_commits, 0u);
    EXPECT_TRUE(store.healthy());
  }

  LoadReport report;
  const StoredState state = reload(&report);
  EXPECT_EQ(report.expired_sessions, 0u);
  EXPECT_EQ(report.expired_messages, 0u);
  EXPECT_EQ(report.unreadable, 0u);
  ASSERT_EQ(state.sessions.size(), 2u);

  const auto* c1 = find_session(state, "c1");
  ASSERT_NE(c1, nullptr);
  EXPECT_EQ(c1->session.expiry_interval, 7200u);
  EXPECT_EQ(c1->session.expires_at, s1.expires_at);
  EXPECT_EQ(c1->session.will_delay, 30u);
  EXPECT_EQ(c1->session.will_at, s1.will_at);
  ASSERT_NE(c1->session.will, nullptr);
  expect_same_message(*c1->session.will, *will);

  ASSERT_EQ(c1->subscriptions.size(), 2u);
  for (const auto& want : {sub_a, sub_b}) {
    const auto it = std::find_if(c1->subscriptions.begin(), c1->subscriptions.end(),
                                 [&](const auto& s) { return s.filter == want.filter; });
    ASSERT_NE(it, c1->subscriptions.end()) << want.filter;
    EXPECT_EQ(it->client_id, "c1");
    EXPECT_EQ(it->options, want.options) << want.filter;
    EXPECT_EQ(it->subscription_id, want.subscription_id) << want.filter;
  }

  ASSERT_EQ(seqs_of(*c1), (std::vector<std::uint64_t>{1, 2, 10}));
  const auto& d1 = c1->deliveries[0];
  const auto& d2 = c1->deliveries[1];
  const auto& d10 = c1->deliveries[2];
  EXPECT_EQ(d1.qos, 1);
  EXPECT_FALSE(d1.retain);
  EXPECT_TRUE(d1.subscription_ids.empty());
  EXPECT_FALSE(d1.released);
  EXPECT_EQ(d2.qos, 2);
  EXPECT_TRUE(d2.retain);
  EXPECT_EQ(d2.subscription_ids, (std::vector<std::uint32_t>{1, 268'435'455, 42}));
  EXPECT_FALSE(d2.released);
  EXPECT_EQ(d10.qos, 2);
  EXPECT_EQ(d10.subscription_ids, (std::vector<std::uint32_t>{5}));
  EXPECT_TRUE(d10.released);
  ASSERT_NE(d1.message, nullptr);
  ASSERT_NE(d2.message, nullptr);
  expect_same_message(*d1.message, *m3);
  expect_same_message(*d2.message, *m5);
  EXPECT_EQ(d1.message, d10.message) << "one body, decoded once, shared by its deliveries";
  std::vector<std::uint16_t> qos2 = c1->inbound_qos2;
  std::sort(qos2.begin(), qos2.end());
  EXPECT_EQ(qos2, (std::vector<std::uint16_t>{7, 65535}));

  const auto* c2 = find_session(state, "c2");
  ASSERT_NE(c2, nullptr);
  EXPECT_EQ(c2->session.expiry_interval, 60u);
  EXPECT_FALSE(c2->session.expires_at);
  EXPECT_FALSE(c2->session.will_at);
  EXPECT_EQ(c2->session.will, nullptr);
  EXPECT_EQ(c2->session.will_delay, 0u);
  ASSERT_EQ(c2->subscriptions.size(), 1u);
  EXPECT_EQ(c2->subscriptions[0].filter, "$share/g/x");
  EXPECT_EQ(c2->subscriptions[0].options, sub_c.options);
  EXPECT_EQ(c2->subscriptions[0].subscription_id, 268'435'455u);
  ASSERT_EQ(seqs_of(*c2), (std::vector<std::uint64_t>{4}));
  expect_same_message(*c2->deliveries[0].message, *m9);
  EXPECT_EQ(c2->inbound_qos2, (std::vector<std::uint16_t>{1}));

  ASSERT_EQ(state.retained.size(), 1u);
  expect_same_message(*state.retained[0], *retained);

  EXPECT_EQ(state.next_message_id, 61u) << "above every stored id, retained included";
}

TEST_F(SqliteStoreTest, NextMessageIdIsAboveTheLargestDeliveryBody) {
  {
    auto store = open_started();
    EXPECT_EQ(submit_and_wait(*store, {session("c"), delivery("c", 1, make_message(1000, "t", "x")),
                                       op::SaveRetained{make_message(12, "r", "y")}}),
              true);
  }
  EXPECT_EQ(reload().next_message_id, 1001u);
}

// ---- 2. deletes ------------------------------------------------------------------

TEST_F(SqliteStoreTest, DeleteDeliveryDropsTheBodyOnlyWhenNothingElseUsesIt) {
  auto store = open_started();
  const auto shared = make_message(1, "t/shared", "s");
  const auto own = make_message(2, "t/own", "o");
  ASSERT_EQ(submit_and_wait(*store, {session("a"), session("b"), delivery("a", 1, shared),
                                     delivery("b", 1, shared), delivery("a", 2, own)}),
            true);
  EXPECT_EQ(count("SELECT count(*) FROM messages"), 2);

  ASSERT_EQ(submit_and_wait(*store, {op::DeleteDelivery{"a", 2, 2}}), true);
  EXPECT_EQ(count("SELECT count(*) FROM messages WHERE id = 2"), 0) << "no delivery uses it";
  EXPECT_EQ(count("SELECT count(*) FROM deliveries WHERE client_id = 'a' AND seq = 2"), 0);

  ASSERT_EQ(submit_and_wait(*store, {op::DeleteDelivery{"a", 1, 1}}), true);
  EXPECT_EQ(count("SELECT count(*) FROM messages WHERE id = 1"), 1) << "b's delivery uses it";
  EXPECT_EQ(count("SELECT count(*) FROM deliveries"), 1);

  ASSERT_EQ(submit_and_wait(*store, {op::DeleteDelivery{"a", 99, 1}}), true) << "unknown: no-op";
  ASSERT_EQ(submit_and_wait(*store, {op::DeleteDelivery{"b", 1, 1}}), true);
  EXPECT_EQ(count("SELECT count(*) FROM messages"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM deliveries"), 0);

  // A body dropped earlier is written again when a later delivery needs it.
  ASSERT_EQ(submit_and_wait(*store, {delivery("a", 3, shared)}), true);
  store.reset();
  const StoredState state = reload();
  const auto* a = find_session(state, "a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(seqs_of(*a), (std::vector<std::uint64_t>{3}));
  expect_same_message(*a->deliveries[0].message, *shared);
  const auto* b = find_session(state, "b");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->deliveries.empty());
}

// A delivery saved and completed within one commit leaves no row and no
// body behind; a body another delivery of the commit uses stays.
TEST_F(SqliteStoreTest, DeliverySavedAndDeletedInOneBatchLeavesNothing) {
  const auto alone = make_message(1, "t/alone", "x");
  const auto shared = make_message(2, "t/shared", "y");
  {
    auto store = open_started();
    ASSERT_EQ(submit_and_wait(*store, {session("a"), session("b"), delivery("a", 1, alone, 2),
                                       op::ReleaseDelivery{"a", 1}, op::DeleteDelivery{"a", 1, 1},
                                       delivery("a", 2, shared), delivery("b", 1, shared),
                                       op::DeleteDelivery{"a", 2, 2}}),
              true);
  }
  EXPECT_EQ(count("SELECT count(*) FROM deliveries"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM messages"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM messages WHERE id = 2"), 1);
  const StoredState state = reload();
  const auto* a = find_session(state, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->deliveries.empty());
  const auto* b = find_session(state, "b");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(seqs_of(*b), (std::vector<std::uint64_t>{1}));
  expect_same_message(*b->deliveries[0].message, *shared);
}

// A recoverable message (inbound QoS 2 routed by several loops) is kept
// with its packet id; completed deliveries of it stay as "done" marks, even
// within one commit, so start-up knows who has had it.
TEST_F(SqliteStoreTest, RecoverableMessageKeepsDoneMarksUntilReleased) {
  auto m = make_message(5, "t/q2", "x");
  m->recoverable = true;
  {
    auto store = open_started();
    ASSERT_EQ(
        submit_and_wait(*store, {session("pub"), session("a"), session("b"), session("c"),
                                 op::SaveInboundQos2{"pub", 7, m}, delivery("a", 1, m, 2),
                                 delivery("b", 1, m, 2), op::DeleteDelivery{"b", 1, 5, true}}),
        true);
    ASSERT_EQ(submit_and_wait(*store, {op::DeleteDelivery{"a", 1, 5, true}}), true);
  }
  StoredState state = reload();
  ASSERT_EQ(state.unfinished_routes.size(), 1u);
  EXPECT_TRUE(state.unfinished_routes[0]->recoverable);
  expect_same_message(*state.unfinished_routes[0], *m);
  for (const char* id : {"a", "b"}) {
    const auto* s = find_session(state, id);
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(s->deliveries.empty()) << id;
    EXPECT_EQ(s->done, (std::vector<std::uint64_t>{5})) << id;
  }
  EXPECT_TRUE(find_session(state, "c")->done.empty());
  EXPECT_EQ(find_session(state, "pub")->inbound_qos2, (std::vector<std::uint16_t>{7}));

  // The publisher's PUBREL: the marks and the body go.
  {
    auto store = open_started();
    ASSERT_EQ(submit_and_wait(*store, {op::DeleteInboundQos2{"pub", 7}}), true);
  }
  EXPECT_EQ(count("SELECT count(*) FROM deliveries"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM messages"), 0);
  state = reload();
  EXPECT_TRUE(state.unfinished_routes.empty());
}

// A queued delivery of a recoverable message loads as a delivery marked
// recoverable (its later completion leaves a mark); deleting the publisher's
// session takes the marks of its unreleased messages along.
TEST_F(SqliteStoreTest, RecoverableMessageGoesWithItsPublishersSession) {
  auto m = make_message(6, "t/q2", "x");
  m->recoverable = true;
  {
    auto store = open_started();
    ASSERT_EQ(
        submit_and_wait(*store, {session("pub"), session("a"), session("b"),
                                 op::SaveInboundQos2{"pub", 1, m}, delivery("a", 1, m, 2),
                                 delivery("b", 1, m, 2), op::DeleteDelivery{"b", 1, 6, true}}),
        true);
  }
  StoredState state = reload();
  const auto* a = find_session(state, "a");
  ASSERT_EQ(seqs_of(*a), (std::vector<std::uint64_t>{1}));
  EXPECT_TRUE(a->deliveries[0].message->recoverable);
  {
    auto store = open_started();
    ASSERT_EQ(submit_and_wait(*store, {op::DeleteSession{"pub"}}), true);
  }
  EXPECT_EQ(count("SELECT count(*) FROM deliveries WHERE done = 1"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM deliveries WHERE client_id = 'a'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM messages"), 1) << "a's delivery still uses the body";
  EXPECT_TRUE(reload().unfinished_routes.empty());
}

TEST_F(SqliteStoreTest, DeleteSubscriptionAndInboundQos2RemoveOnlyTheirRow) {
  {
    auto store = open_started();
    ASSERT_EQ(submit_and_wait(*store, {session("a"), op::SaveSubscription{"a", "x", {1}, 0},
                                       op::SaveSubscription{"a", "y", {2}, 3},
                                       op::SaveInboundQos2{"a", 5}, op::SaveInboundQos2{"a", 6}}),
              true);
    ASSERT_EQ(submit_and_wait(
                  *store, {op::DeleteSubscription{"a", "x"}, op::DeleteInboundQos2{"a", 5},
                           op::DeleteSubscription{"a", "missing"}, op::DeleteInboundQos2{"a", 77}}),
              true);
    EXPECT_EQ(count("SELECT count(*) FROM subscriptions"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM inbound_qos2"), 1);
  }
  const StoredState state = reload();
  ASSERT_EQ(state.sessions.size(), 1u);
  ASSERT_EQ(state.sessions[0].subscriptions.size(), 1u);
  EXPECT_EQ(state.sessions[0].subscriptions[0].filter, "y");
  EXPECT_EQ(state.sessions[0].subscriptions[0].subscription_id, 3u);
  EXPECT_EQ(state.sessions[0].inbound_qos2, (std::vector<std::uint16_t>{6}));
}

TEST_F(SqliteStoreTest, DeleteSessionRemovesItsRowsAndOnlyItsOrphanedBodies) {
  const auto only_a = make_message(1, "t/a", "a");
  const auto shared = make_message(2, "t/ab", "ab");
  {
    auto store = open_started();
    ASSERT_EQ(submit_and_wait(*store,
                              {session("a"), session("b"), op::SaveSubscription{"a", "t/#", {1}, 1},
                               op::SaveSubscription{"b", "t/#", {1}, 1}, delivery("a", 1, only_a),
                               delivery("a", 2, shared), delivery("b", 1, shared),
                               op::SaveInboundQos2{"a", 9}, op::SaveInboundQos2{"b", 9}}),
              true);
    ASSERT_EQ(submit_and_wait(*store, {op::DeleteSession{"a"}}), true);
    EXPECT_EQ(count("SELECT count(*) FROM sessions WHERE client_id = 'a'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM subscriptions WHERE client_id = 'a'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM deliveries WHERE client_id = 'a'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM inbound_qos2 WHERE client_id = 'a'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE id = 1"), 0) << "only a used it";
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE id = 2"), 1) << "b still uses it";

    // Deleting a session that does not exist changes nothing.
    ASSERT_EQ(submit_and_wait(*store, {op::DeleteSession{"nobody"}}), true);
  }
  const StoredState state = reload();
  ASSERT_EQ(state.sessions.size(), 1u);
  const auto& b = state.sessions[0];
  EXPECT_EQ(b.session.client_id, "b");
  EXPECT_EQ(b.subscriptions.size(), 1u);
  ASSERT_EQ(seqs_of(b), (std::vector<std::uint64_t>{1}));
  expect_same_message(*b.deliveries[0].message, *shared);
  EXPECT_EQ(b.inbound_qos2, (std::vector<std::uint16_t>{9}));
}

TEST_F(SqliteStoreTest, RetainedWithEmptyPayloadDeletesTheTopic) {
  {
    auto store = open_started();
    ASSERT_EQ(submit_and_wait(*store, {op::SaveRetained{make_message(1, "r/a", "one")},
                                       op::SaveRetained{make_message(2, "r/b", "two")}}),
              true);
    ASSERT_EQ(submit_and_wait(*store, {op::SaveRetained{make_message(3, "r/a", "")},
                                       op::SaveRetained{make_message(4, "r/none", "")}}),
              true);
    // A later retained message replaces the earlier one on its topic.
    ASSERT_EQ(submit_and_wait(*store, {op::SaveRetained{make_message(5, "r/b", "two again")}}),
              true);
  }
  EXPECT_EQ(count("SELECT count(*) FROM retained"), 1);
  const StoredState state = reload();
  ASSERT_EQ(state.retained.size(), 1u);
  EXPECT_EQ(state.retained[0]->topic, "r/b");
  EXPECT_EQ(state.retained[0]->payload, "two again");
  EXPECT_EQ(state.retained[0]->id, 5u);
}

// ---- 3. one body per message ------------------------------------------------------

TEST_F(SqliteStoreTest, FanOutStoresTheBodyOnce) {
  constexpr int kSessions = 1000;
  const auto m = make_message(77, "fan/out", std::string(200, 'p'));
  {
    auto store = open_started();
    std::vector<StoreOp> ops;
    for (int i = 0; i < kSessions; ++i) {
      const std::string id = "c" + std::to_string(i);
      ops.push_back(session(id));
      ops.push_back(delivery(id, 1, m));
    }
    ASSERT_EQ(submit_and_wait(*store, std::move(ops)), true);
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM deliveries"), kSessions);
  }
  const StoredState state = reload();
  ASSERT_EQ(state.sessions.size(), static_cast<std::size_t>(kSessions));
  const Message* body = nullptr;
  for (const auto& s : state.sessions) {
    ASSERT_EQ(s.deliveries.size(), 1u) << s.session.client_id;
    if (!body) body = s.deliveries[0].message.get();
    EXPECT_EQ(s.deliveries[0].message.get(), body) << "decoded once and shared";
  }
  ASSERT_NE(body, nullptr);
  expect_same_message(*body, *m);
}

// ---- 4. clean-up at load -----------------------------------------------------------

TEST_F(SqliteStoreTest, LoadRemovesExpiredAndUnreferencedRows) {
  const std::int64_t now = wall_now_ms();
  auto expired = make_message(1, "t/expired", "x");
  expired->expires_at = broker::Clock::now() - 1s;
  auto fresh = make_message(2, "t/fresh", "y");
  fresh->expires_at = broker::Clock::now() + 1h;
  const auto gone_only = make_message(3, "t/gone", "g");
  const auto ghost_only = make_message(4, "t/ghost", "h");
  auto retained_old = make_message(5, "r/old", "o");
  retained_old->expires_at = broker::Clock::now() - 1s;
  const auto retained_new = make_message(6, "r/new", "n");

  op::SaveSession gone = session("gone");
  gone.expires_at = now - 1000;
  op::SaveSession live = session("live");
  live.expires_at = now + 3'600'000;
  {
    auto store = open_started();
    ASSERT_EQ(
        submit_and_wait(*store, {gone, live, op::SaveSubscription{"gone", "t/#", {1}, 0},
                                 delivery("gone", 1, gone_only), op::SaveInboundQos2{"gone", 1},
                                 delivery("live", 1, expired), delivery("live", 2, fresh),
                                 // Rows of a session that has no sessions row (left by a crash).
                                 op::SaveSubscription{"ghost", "t/#", {1}, 0},
                                 delivery("ghost", 1, ghost_only), op::SaveInboundQos2{"ghost", 2},
                                 op::SaveRetained{retained_old}, op::SaveRetained{retained_new}}),
        true);
  }
  {
    // A body no delivery refers to.
    Db db = open_raw(db_path_);
    raw_exec(db, "INSERT INTO messages VALUES(999, NULL, 'x', x'00')");
  }

  LoadReport report;
  const StoredState state = reload(&report);
  EXPECT_EQ(report.expired_sessions, 1u);
  EXPECT_EQ(report.expired_messages, 1u);
  EXPECT_EQ(report.unreadable, 0u);
  ASSERT_EQ(state.sessions.size(), 1u);
  EXPECT_EQ(state.sessions[0].session.client_id, "live");
  EXPECT_EQ(seqs_of(state.sessions[0]), (std::vector<std::uint64_t>{2}));
  ASSERT_EQ(state.retained.size(), 1u);
  EXPECT_EQ(state.retained[0]->topic, "r/new");

  // And the rows are gone from the file, not only from what load() returned.
  EXPECT_EQ(count("SELECT count(*) FROM sessions"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM subscriptions"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM deliveries"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM inbound_qos2"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM messages"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM messages WHERE id = 2"), 1)
      << "only the fresh body is left";
  EXPECT_EQ(count("SELECT count(*) FROM retained"), 1);
  EXPECT_TRUE(SqliteStore::check(db_path_).empty());
}

// ---- 5. order and group commit --------------------------------------------------------

TEST_F(SqliteStoreTest, ConcurrentBatchesCompleteOnceInSubmissionOrder) {
  constexpr int kThreads = 2;
  constexpr int kBatches = 200;
  auto store = open_started();
  ASSERT_EQ(submit_and_wait(*store, {session("t0"), session("t1")}), true);
  const StoreStats before = counted_stats(*store, 1);

  std::mutex mutex;
  std::condition_variable all_done;
  std::vector<std::vector<int>> order(kThreads);                              // guarded by mutex
  std::vector<std::vector<int>> calls(kThreads, std::vector<int>(kBatches));  // guarded by mutex
  int failures = 0;                                                           // guarded by mutex
  int completed = 0;                                                          // guarded by mutex

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string client = "t" + std::to_string(t);
      for (int i = 0; i < kBatches; ++i) {
        const auto id = static_cast<std::uint64_t>(t * kBatches + i + 1);
        store->submit({delivery(client, static_cast<std::uint64_t>(i + 1),
                                make_message(id, "t", std::to_string(id)))},
                      [&, t, i](bool ok) {
                        std::lock_guard lock(mutex);
                        order[t].push_back(i);
                        ++calls[t][i];
                        if (!ok) ++failures;
                        if (++completed == kThreads * kBatches) all_done.notify_all();
                      });
      }
    });
  }
  for (auto& th : threads) th.join();
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(all_done.wait_for(lock, 10s, [&] { return completed >= kThreads * kBatches; }))
        << completed << " of " << kThreads * kBatches << " batches completed";
  }
  store->stop();  // the writer counts a commit after calling its batches' done

  std::lock_guard lock(mutex);
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(completed, kThreads * kBatches);
  std::vector<int> in_order(kBatches);
  for (int i = 0; i < kBatches; ++i) in_order[static_cast<std::size_t>(i)] = i;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(calls[t], std::vector<int>(kBatches, 1)) << "every done exactly once, thread " << t;
    EXPECT_EQ(order[t], in_order) << "thread " << t;
  }
  const StoreStats stats = store->stats();
  const std::uint64_t commits = stats.commits - before.commits;
  EXPECT_EQ(stats.batches - before.batches, static_cast<std::uint64_t>(kThreads * kBatches));
  EXPECT_EQ(stats.ops - before.ops, static_cast<std::uint64_t>(kThreads * kBatches));
  EXPECT_GE(commits, 1u);
  EXPECT_LE(commits, static_cast<std::uint64_t>(kThreads * kBatches));
  EXPECT_EQ(stats.failed_commits, 0u);
  store.reset();

  const StoredState state = reload();
  ASSERT_EQ(state.sessions.size(), 2u);
  for (const auto& s : state.sessions) EXPECT_EQ(s.deliveries.size(), std::size_t{kBatches});
}

// ---- 6. schema versions and damaged files ----------------------------------------------

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  { SqliteStore store(options()); }
  raw_exec(open_raw(db_path_), "PRAGMA user_version = 99");
  const std::string error = open_error(options());
  EXPECT_NE(error.find(db_path_.string()), std::string::npos) << error;
  EXPECT_NE(error.find("newer"), std::string::npos) << error;
  EXPECT_EQ(open_descriptors_on(db_path_), 0) << "the refused connection is closed";
  EXPECT_EQ(count("PRAGMA user_version"), 99) << "the file is left alone";
}

TEST_F(SqliteStoreTest, OlderSchemaIsBackedUpAndMigrated) {
  {
    auto store = open_started();
    ASSERT_EQ(
        submit_and_wait(*store, {session("old"), delivery("old", 1, make_message(4, "t", "p"))}),
        true);
  }
  const int current = schema_migrations().back().to;
  ASSERT_EQ(count("PRAGMA user_version"), current);

  std::vector<Migration> one_more(schema_migrations().begin(), schema_migrations().end());
  one_more.push_back({current + 1, "ALTER TABLE sessions ADD COLUMN note TEXT"});
  StoreOptions o = options();
  o.migrations = one_more;
  const fs::path backup = db_path_.string() + ".v" + std::to_string(current) + ".bak";
  {
    SqliteStore store(o);
    ASSERT_TRUE(fs::exists(backup));
    LoadReport report;
    const StoredState state = store.load(report);
    ASSERT_EQ(state.sessions.size(), 1u);
    EXPECT_EQ(state.sessions[0].session.client_id, "old");
    EXPECT_EQ(seqs_of(state.sessions[0]), (std::vector<std::uint64_t>{1}));
    store.start();
    EXPECT_EQ(submit_and_wait(store, {session("new")}), true)
        << "the writer works on the new version";
  }
  EXPECT_EQ(count("PRAGMA user_version"), current + 1);
  EXPECT_EQ(count("SELECT count(*) FROM pragma_table_info('sessions') WHERE name = 'note'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM sessions"), 2);

  Db old = open_raw(backup);
  EXPECT_EQ(raw_int(old, "PRAGMA user_version"), current);
  EXPECT_EQ(raw_int(old, "SELECT count(*) FROM sessions WHERE client_id = 'old'"), 1);
  EXPECT_EQ(raw_int(old, "SELECT count(*) FROM deliveries"), 1);
  old.reset();
  EXPECT_TRUE(SqliteStore::check(backup).empty());

  // Opening the migrated file again neither migrates nor backs up again.
  { SqliteStore store(o); }
  EXPECT_FALSE(fs::exists(db_path_.string() + ".v" + std::to_string(current + 1) + ".bak"));
}

// The real first migration: a version 1 file (before recoverable QoS 2
// messages) keeps its sessions, deliveries and packet ids.
TEST_F(SqliteStoreTest, VersionOneFileIsMigratedToTheCurrentSchema) {
  {
    Db raw = open_raw(db_path_);
    raw_exec(raw, schema_migrations()[0].sql);
    raw_exec(raw, "PRAGMA application_id = 1634495603; PRAGMA user_version = 1");
    raw_exec(raw,
             "INSERT INTO sessions VALUES('c', 60, NULL, NULL, 0, NULL);"
             "INSERT INTO inbound_qos2 VALUES('c', 9)");
  }
  {
    auto store = open_started();
    ASSERT_EQ(submit_and_wait(*store, {delivery("c", 1, make_message(4, "t", "p"))}), true);
  }
  EXPECT_TRUE(fs::exists(db_path_.string() + ".v1.bak"));
  EXPECT_EQ(count("PRAGMA user_version"), schema_migrations().back().to);
  SqliteStore store(options());
  LoadReport report;
  const StoredState state = store.load(report);
  ASSERT_EQ(state.sessions.size(), 1u);
  EXPECT_EQ(seqs_of(state.sessions[0]), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(state.sessions[0].inbound_qos2, (std::vector<std::uint16_t>{9}));
  EXPECT_TRUE(state.unfinished_routes.empty());
}

TEST_F(SqliteStoreTest, ForeignDatabaseIsRefused) {
  {
    Db db = open_raw(db_path_);
    raw_exec(db,
             "CREATE TABLE photos(id INTEGER PRIMARY KEY, name TEXT);"
             "INSERT INTO photos(name) VALUES('cat')");
  }
  const std::string error = open_error(options());
  EXPECT_NE(error.find(db_path_.string()), std::string::npos) << error;
  EXPECT_NE(error.find("not an allscene session store"), std::string::npos) << error;
  EXPECT_EQ(open_descriptors_on(db_path_), 0) << "the refused connection is closed";
  EXPECT_EQ(count("SELECT count(*) FROM photos"), 1);
  EXPECT_FALSE(SqliteStore::check(db_path_).empty());
}

TEST_F(SqliteStoreTest, RandomBytesAreReportedDamaged) {
  {
    std::mt19937 random(42);
    std::string bytes(8192, '\0');
    for (auto& c : bytes) c = static_cast<char>(random() & 0xff);
    std::ofstream(db_path_, std::ios::binary) << bytes;
  }
  const std::string error = open_error(options());
  EXPECT_NE(error.find("damaged"), std::string::npos) << error;
  EXPECT_NE(error.find("--check-data"), std::string::npos) << error;
  EXPECT_NE(error.find(db_path_.string()), std::string::npos) << error;
  EXPECT_EQ(open_descriptors_on(db_path_), 0);
  EXPECT_FALSE(SqliteStore::check(db_path_).empty());
}

TEST_F(SqliteStoreTest, TruncatedStoreFailsCleanlyAndCheckReportsIt) {
  {
    auto store = open_started();
    std::vector<StoreOp> ops{session("big")};
    for (int i = 1; i <= 2000; ++i) {
      ops.push_back(delivery("big", static_cast<std::uint64_t>(i),
                             make_message(static_cast<std::uint64_t>(i), "t/" + std::to_string(i),
                                          std::string(300, static_cast<char>('a' + i % 26)))));
    }
    ASSERT_EQ(submit_and_wait(*store, std::move(ops)), true);
  }
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(db_path_.string() + suffix);
  const auto size = fs::file_size(db_path_);
  ASSERT_GT(size, 500'000u);
  fs::resize_file(db_path_, size / 2);

  const auto before = SqliteStore::check(db_path_);
  EXPECT_FALSE(before.empty());

  std::string error;
  try {
    SqliteStore store(options());
    LoadReport report;
    store.load(report);
  } catch (const StoreError& e) {
    error = e.what();
  }
  if (!error.empty()) {
    EXPECT_NE(error.find(db_path_.string()), std::string::npos) << error;
    EXPECT_NE(error.find("damaged"), std::string::npos) << error;
  }
  EXPECT_EQ(open_descriptors_on(db_path_), 0);
  EXPECT_FALSE(SqliteStore::check(db_path_).empty());
}

// ---- 7. check() ---------------------------------------------------------------------------

TEST_F(SqliteStoreTest, CheckFindsNothingWrongWithAHealthyStore) {
  {
    auto store = open_started();
    ASSERT_EQ(
        submit_and_wait(*store, {session("a"), delivery("a", 1, rich_message(1, "t", 2, false)),
                                 op::SaveRetained{rich_message(2, "r", 1, true)}}),
        true);
  }
  EXPECT_EQ(SqliteStore::check(db_path_), std::vector<std::string>{});
}

TEST_F(SqliteStoreTest, CheckNamesAMissingFile) {
  const auto problems = SqliteStore::check(db_path_);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find(db_path_.string()), std::string::npos) << problems[0];
  EXPECT_FALSE(fs::exists(db_path_)) << "check() creates nothing";
}

TEST_F(SqliteStoreTest, CheckReportsABodyThatDoesNotDecode) {
  { SqliteStore store(options()); }
  raw_exec(open_raw(db_path_), "INSERT INTO messages VALUES(5, NULL, 'x', x'0102')");
  const auto problems = SqliteStore::check(db_path_);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("message 5"), std::string::npos) << problems[0];
}

// ---- 8. disk full and I/O errors ------------------------------------------------------------

class SqliteStoreFaultTest : public SqliteStoreTest,
                             public ::testing::WithParamInterface<FaultVfs::Fault> {
 protected:
  void TearDown() override { vfs_.set_fault(FaultVfs::Fault::none); }

  FaultVfs& vfs_ = FaultVfs::install();
};

TEST_P(SqliteStoreFaultTest, FailedCommitMakesUnhealthyUntilTheDiskWorksAgain) {
  StoreOptions o = options();
  o.vfs = vfs_.name();
  const auto kept = make_message(1, "t/kept", "k");
  const auto failed = make_message(2, "t/failed", "f");
  const auto after = make_message(3, "t/after", "a");
  {
    SqliteStore store(o);
    LoadReport report;
    store.load(report);
    store.start();
    ASSERT_EQ(submit_and_wait(store, {session("a"), session("b"), delivery("a", 1, kept)}), true);

    vfs_.set_fault(GetParam());
    EXPECT_EQ(submit_and_wait(store, {delivery("a", 2, failed), session("c")}), false);
    EXPECT_FALSE(store.healthy());
    EXPECT_EQ(submit_and_wait(store, {op::DeleteDelivery{"a", 1, 1}}), false)
        << "the store keeps answering while the fault lasts";
    EXPECT_FALSE(store.healthy());
    const StoreStats before = counted_stats(store, 3);
    EXPECT_EQ(before.batches, 3u);
    EXPECT_EQ(before.failed_commits, 2u);

    vfs_.set_fault(FaultVfs::Fault::none);
    const auto start = std::chrono::steady_clock::now();
    while (!store.healthy() && std::chrono::steady_clock::now() - start < 2500ms) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(store.healthy()) << "the writer probes the disk without a new batch";
    EXPECT_EQ(store.stats().batches, before.batches) << "no batch was needed to recover";

    // The failed batch's body is written by the next batch that needs it
    // (another shard's batch of the same fan-out, say).
    EXPECT_EQ(submit_and_wait(store, {delivery("b", 1, failed), delivery("a", 3, after)}), true);
    EXPECT_TRUE(store.healthy());
  }

  const StoredState state = reload();
  ASSERT_EQ(state.sessions.size(), 2u) << "c was only in a failed batch";
  const auto* a = find_session(state, "a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(seqs_of(*a), (std::vector<std::uint64_t>{1, 3}));
  expect_same_message(*a->deliveries[0].message, *kept);
  expect_same_message(*a->deliveries[1].message, *after);
  const auto* b = find_session(state, "b");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(seqs_of(*b), (std::vector<std::uint64_t>{1}));
  expect_same_message(*b->deliveries[0].message, *failed);
  EXPECT_TRUE(SqliteStore::check(db_path_).empty());
}

INSTANTIATE_TEST_SUITE_P(Faults, SqliteStoreFaultTest,
                         ::testing::Values(FaultVfs::Fault::disk_full, FaultVfs::Fault::io_error),
                         [](const auto& info) {
                           return info.param == FaultVfs::Fault::disk_full ? "DiskFull" : "IoError";
                         });

// ---- 9. power loss ---------------------------------------------------------------------------

struct PowerLossResult {
  int acknowledged = -1;  // -1: the child reported nothing
  StoredState state;
  std::vector<std::string> problems;  // check() right after the "power cut"
};

class SqliteStorePowerLossTest : public SqliteStoreTest {
 protected:
  static constexpr int kDeliveries = 20;

  // A child process opens the store through FaultVfs in power-loss mode,
  // submits kDeliveries batches of one delivery each, waits for each to be
  // acknowledged, reports how many were and dies by SIGKILL. The parent
  // reopens the file with the default VFS.
  PowerLossResult run(Durability durability, std::chrono::milliseconds sync_interval) {
    PowerLossResult result;
    {
      // The schema and the session are durable before the child starts.
      auto store = open_started();
      EXPECT_EQ(submit_and_wait(*store, {session("pl")}), true);
    }
    FaultVfs& vfs = FaultVfs::install();
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    const pid_t pid = ::fork();
    if (pid == -1) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::close(fds[0]);
      int acknowledged = 0;
      try {
        vfs.set_fault(FaultVfs::Fault::none);
        vfs.set_power_loss_mode(true);
        StoreOptions o = options();
        o.vfs = vfs.name();
        o.durability = durability;
        o.sync_interval = sync_interval;
        SqliteStore store(o);
        store.start();
        for (int i = 1; i <= kDeliveries; ++i) {
          const auto id = static_cast<std::uint64_t>(i);
          if (submit_and_wait(store, {delivery("pl", id, make_message(id, "t", "p"))}) != true) {
            break;
          }
          ++acknowledged;
        }
        if (::write(fds[1], &acknowledged, sizeof acknowledged) != sizeof acknowledged) {
          ::_exit(3);
        }
        ::raise(SIGKILL);
      } catch (...) {
        ::_exit(2);
      }
      ::_exit(4);
    }
    ::close(fds[1]);
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 15'000) == 1) {
      int n = 0;
      if (::read(fds[0], &n, sizeof n) == sizeof n) result.acknowledged = n;
    }
    ::close(fds[0]);
    if (result.acknowledged < 0) ::kill(pid, SIGKILL);
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child exited with code " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    result.problems = SqliteStore::check(db_path_);
    result.state = reload();
    return result;
  }
};

TEST_F(SqliteStorePowerLossTest, FsyncModeKeepsEveryAcknowledgedDelivery) {
  const PowerLossResult r = run(Durability::fsync, 100ms);
  ASSERT_EQ(r.acknowledged, kDeliveries);
  EXPECT_EQ(r.problems, std::vector<std::string>{});
  ASSERT_EQ(r.state.sessions.size(), 1u);
  std::vector<std::uint64_t> want;
  for (int i = 1; i <= kDeliveries; ++i) want.push_back(static_cast<std::uint64_t>(i));
  EXPECT_EQ(seqs_of(r.state.sessions[0]), want);
  EXPECT_EQ(SqliteStore::check(db_path_), std::vector<std::string>{});
}

TEST_F(SqliteStorePowerLossTest, BatchModeLosesUnsyncedCommitsButStaysConsistent) {
  const PowerLossResult r = run(Durability::batch, 10s);
  ASSERT_EQ(r.acknowledged, kDeliveries);
  EXPECT_EQ(r.problems, std::vector<std::string>{});
  ASSERT_EQ(r.state.sessions.size(), 1u) << "what was durable before survives";
  EXPECT_LT(r.state.sessions[0].deliveries.size(), static_cast<std::size_t>(kDeliveries))
      << "acknowledged but never synced: lost with the power";
  EXPECT_EQ(SqliteStore::check(db_path_), std::vector<std::string>{});
}

}  // namespace
}  // namespace allscene::store
