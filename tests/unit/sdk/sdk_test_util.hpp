// Helpers of the SDK tests that use the fake hub: client options for it,
// waiting for a client's subscriptions, and waiting for a completion.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <memory>
#include <tuple>

#include "allscene/device_client.hpp"
#include "fake_hub.hpp"

namespace allscene::sdk::test {

inline ClientOptions client_options(const testing::FakeHub& hub, std::string device) {
  ClientOptions o;
  o.host_name = "localhost";
  o.connect_host = "127.0.0.1";
  o.port = hub.port();
  o.device_id = std::move(device);
  o.sas_token = "SharedAccessSignature sr=x&sig=y&se=1";  // the fake hub takes anyone
  o.reconnect.initial_delay = std::chrono::milliseconds(50);
  o.reconnect.max_delay = std::chrono::milliseconds(200);
  o.request_timeout = std::chrono::seconds(5);
  return o;
}

// Connected and `filter` subscribed on the current connection (the SDK
// subscribes all its filters in one SUBSCRIBE, this one last or so).
inline bool wait_connected(const testing::FakeHub& hub, const std::string& device,
                           const std::string& filter) {
  return testing::eventually([&] {
    const auto subs = hub.subscriptions(device);
    return hub.connected(device) && std::find(subs.begin(), subs.end(), filter) != subs.end();
  });
}

// Runs `start(handler)` and waits for the handler: (error, values…).
// A handler that never comes fails the test and gives errc::timed_out.
template <class... Args, class Start>
std::tuple<std::error_code, Args...> await(Start start,
                                           std::chrono::seconds limit = std::chrono::seconds(60)) {
  using Result = std::tuple<std::error_code, Args...>;
  auto promise = std::make_shared<std::promise<Result>>();
  start(std::function<void(std::error_code, Args...)>([promise](std::error_code ec, Args... a) {
    promise->set_value(Result{ec, std::move(a)...});
  }));
  auto f = promise->get_future();
  if (f.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "no completion within " << limit.count() << " s";
    return Result{std::make_error_code(std::errc::timed_out), Args{}...};
  }
  return f.get();
}

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("allscene-" + name + "-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace allscene::sdk::test
