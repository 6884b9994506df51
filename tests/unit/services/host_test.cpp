// The service host with a test service whose operations answer at once,
// wait for the test, throw or sleep past their deadline.
#include "services/host.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <thread>

namespace allscene::services {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// "echo" answers its request; "hold" waits until released; "throw"
// throws; "slow" sleeps 300 ms against a 50 ms deadline.
class TestService final : public Service {
 public:
  std::string_view name() const override { return "test"; }
  std::vector<std::string> operations() const override {
    return {"echo", "hold", "throw", "slow", "thread"};
  }
  Reply call(const Caller& caller, std::string_view operation, const json& request) override {
    if (operation == "echo") return Reply::success({{"user", caller.user}, {"request", request}});
    if (operation == "thread") {
      return Reply::success({{"same", std::this_thread::get_id() == test_thread}});
    }
    if (operation == "hold") {
      std::unique_lock lock(mutex);
      ++holding;
      cv.notify_all();
      cv.wait(lock, [&] { return released; });
      return Reply::success({});
    }
    if (operation == "slow") {
      std::this_thread::sleep_for(300ms);
      return Reply::success({{"late", true}});
    }
    throw std::runtime_error("a bug");
  }
  std::chrono::milliseconds deadline(std::string_view operation) const override {
    return operation == "slow" ? 50ms : 5000ms;
  }
  void release() {
    std::lock_guard lock(mutex);
    released = true;
    cv.notify_all();
  }
  void wait_holding(int n) {
    std::unique_lock lock(mutex);
    cv.wait_for(lock, 5s, [&] { return holding >= n; });
  }

  std::thread::id test_thread = std::this_thread::get_id();
  std::mutex mutex;
  std::condition_variable cv;
  int holding = 0;
  bool released = false;
};

class ServiceHostTest : public ::testing::Test {
 protected:
  void make(HostOptions options = {}) {
    auto service = std::make_unique<TestService>();
    service_ = service.get();
    host_ = std::make_unique<ServiceHost>(options);
    host_->add(std::move(service));
  }
  // Calls and waits for the answer.
  Reply call(const std::string& operation, const std::string& user = "ana",
             json request = json::object(), bool admin = false) {
    return start(operation, user, std::move(request), admin).get();
  }
  std::future<Reply> start(const std::string& operation, const std::string& user = "ana",
                           json request = json::object(), bool admin = false) {
    auto promise = std::make_shared<std::promise<Reply>>();
    auto future = promise->get_future();
    host_->call(Caller{user, "phone", admin}, "test", operation, std::move(request),
                [promise](Reply reply) { promise->set_value(std::move(reply)); });
    return future;
  }

  std::unique_ptr<ServiceHost> host_;
  TestService* service_ = nullptr;
};

TEST_F(ServiceHostTest, RunsTheOperationOnAWorkerAndAnswers) {
  make();
  const Reply reply = call("echo", "ana", {{"text", "hi"}});
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["user"], "ana");
  EXPECT_EQ(reply.body["request"]["text"], "hi");
  EXPECT_EQ(call("thread").body["same"], false);
  EXPECT_EQ(host_->describe(), json::parse(R"([{"name":"test","operations":["echo","hold",
      "throw","slow","thread"]}])"));
}

TEST_F(ServiceHostTest, UnknownServicesAndOperationsNameWhatThereIs) {
  make();
  std::promise<Reply> answer;
  host_->call(Caller{"ana", "", false}, "nope", "x", {}, [&](Reply r) { answer.set_value(r); });
  const Reply unknown_service = answer.get_future().get();
  EXPECT_EQ(unknown_service.status, 404);
  EXPECT_EQ(unknown_service.body["code"], "unknown_service");
  EXPECT_NE(unknown_service.body["message"].get<std::string>().find("test"), std::string::npos);
  const Reply unknown_operation = call("nope");
  EXPECT_EQ(unknown_operation.status, 404);
  EXPECT_EQ(unknown_operation.body["code"], "unknown_operation");
  EXPECT_EQ(host_->call_now(Caller{}, "test", "nope", {}).status, 404);
}

TEST_F(ServiceHostTest, AnOperationPastItsDeadlineIsAnswered504Once) {
  make();
  const auto started = std::chrono::steady_clock::now();
  const Reply reply = call("slow");
  EXPECT_EQ(reply.status, 504);
  EXPECT_EQ(reply.body["code"], "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 250ms);
  std::this_thread::sleep_for(400ms);  // the worker finishes: no second answer
  const auto stats = host_->stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].calls, 1u);
  EXPECT_EQ(stats[0].timeouts, 1u);
  // Its place in the user's quota was given back when the worker ended.
  EXPECT_EQ(call("echo").status, 200);
}

TEST_F(ServiceHostTest, AUserOverItsRateIsRefused429AndOthersAreNot) {
  make({.workers = 1, .rate_per_user = 1, .burst_per_user = 2});
  EXPECT_EQ(call("echo").status, 200);
  EXPECT_EQ(call("echo").status, 200);
  const Reply refused = call("echo");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.body["code"], "rate_limited");
  EXPECT_EQ(call("echo", "bob").status, 200);
  EXPECT_EQ(call("echo", "", {}, /*admin=*/true).status, 200);  // admins: the queue only
  std::this_thread::sleep_for(1100ms);                          // one token back
  EXPECT_EQ(call("echo").status, 200);
  EXPECT_EQ(host_->stats()[0].refused, 1u);
}

TEST_F(ServiceHostTest, TooManyOperationsInFlightForOneUserAreRefused) {
  make({.workers = 2, .in_flight_per_user = 1});
  auto held = start("hold");
  service_->wait_holding(1);
  const Reply refused = call("echo");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.body["code"], "too_many_in_flight");
  EXPECT_EQ(call("echo", "bob").status, 200);
  service_->release();
  EXPECT_EQ(held.get().status, 200);
  EXPECT_EQ(call("echo").status, 200);
}

TEST_F(ServiceHostTest, AFullQueueIsRefused503) {
  make({.workers = 1, .max_queued = 1});
  auto held = start("hold");
  service_->wait_holding(1);
  const Reply refused = call("echo", "bob");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.body["code"], "busy");
  service_->release();
  held.get();
}

TEST_F(ServiceHostTest, AServiceThatThrowsIsAnswered500) {
  make();
  const Reply reply = call("throw");
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.body["code"], "internal");
}

TEST_F(ServiceHostTest, StoppingAnswersWhatIsQueued503) {
  make({.workers = 1});
  auto held = start("hold");
  service_->wait_holding(1);
  auto queued = start("echo", "bob");
  std::thread stopper([&] { host_.reset(); });
  std::this_thread::sleep_for(50ms);
  service_->release();
  stopper.join();
  EXPECT_EQ(held.get().status, 200);
  const Reply reply = queued.get();
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body["code"], "stopping");
}

}  // namespace
}  // namespace allscene::services
