// A travel service on a fresh state directory, a fake hub and a fake clock.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>

#include "fake_hub.hpp"
#include "services/travel/travel_service.hpp"

namespace allscene::services::travel::testing {

class TravelFixture : public ::testing::Test {
 protected:
  TravelFixture() {
    std::random_device random;
    dir_ = std::filesystem::temp_directory_path() /
           ("travel-test-" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(dir_);
    start();
  }
  ~TravelFixture() override {
    service_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // (Re)creates the service on the same state directory: a hub restart.
  void start() {
    service_.reset();
    SchedulerOptions options;
    options.send_timeout = std::chrono::seconds(5);
    options.retry_interval = std::chrono::milliseconds(50);
    options.max_sleep = std::chrono::milliseconds(200);
    service_ = std::make_unique<TravelService>(ServiceContext{dir_, &hub_}, clock_, options);
  }
  void stop() { service_.reset(); }

  Reply call(const std::string& user, std::string_view operation, nlohmann::json request = {}) {
    return service_->call(Caller{user, "", false}, operation, request);
  }
  // Calls and expects success; returns the body.
  nlohmann::json ok(const std::string& user, std::string_view operation,
                    nlohmann::json request = nlohmann::json::object()) {
    const Reply reply = call(user, operation, std::move(request));
    EXPECT_TRUE(reply.ok()) << operation << ": " << reply.status << " " << reply.body.dump();
    return reply.body;
  }
  std::string add(const std::string& user, nlohmann::json item) {
    return ok(user, "add", {{"item", std::move(item)}}).value("id", std::string());
  }

  static Instant at(const char* iso) { return *parse_instant(iso); }
  void set_time(const char* iso) { clock_->set(at(iso)); }

  static nlohmann::json paris_dubai_flight() {
    return {{"kind", "flight"},
            {"airline", "AF"},
            {"number", "662"},
            {"from", "CDG"},
            {"to", "DXB"},
            {"depart", "2026-03-29T03:15"},
            {"arrive", "2026-03-29T13:05"},
            {"booking", "K7QZ2P"}};
  }

  std::filesystem::path dir_;
  FakeHub hub_;
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(at("2026-03-01T00:00:00Z"));
  std::unique_ptr<TravelService> service_;
};

}  // namespace allscene::services::travel::testing
