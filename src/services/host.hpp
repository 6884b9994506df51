// The service host: the one place requests for cloud services go through,
// whether they come over MQTT ($services/…, service_topics.hpp) or REST
// (/api/v1/services/…). It finds the service, applies the caller's quota,
// runs the operation on its own worker threads (never on a network loop)
// and answers 504 when the operation's deadline passes first.
//
// Refusals: 404 unknown service or operation, 429 the caller's user is over
// its rate or has too many requests in flight, 503 the host is full or
// stopping, 504 deadline passed, 500 a service threw (a bug: logged).
//
// Threading: every member may be called from any thread; `done` is called
// exactly once, on a worker thread or on the host's timer thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "services/service.hpp"

namespace allscene::services {

struct HostOptions {
  unsigned workers = 2;             // threads running operations
  unsigned rate_per_user = 20;      // requests per second, sustained, per user
  unsigned burst_per_user = 40;     // requests a user may send at once
  unsigned in_flight_per_user = 8;  // operations of one user running or queued
  unsigned max_queued = 512;        // operations running or queued in all
};

// Counts for /metrics and the console, per service and operation.
struct OperationStats {
  std::string service;
  std::string operation;
  std::uint64_t calls = 0;
  std::uint64_t errors = 0;    // answered with a status >= 400 (504 included)
  std::uint64_t timeouts = 0;  // answered 504 by the host
  std::uint64_t refused = 0;   // 429/503 before running
  double seconds_total = 0;    // time to answer, summed
  std::vector<std::uint64_t>
      buckets;  // by kLatencyBounds, cumulative counts as Prometheus has them
};
inline constexpr double kLatencyBounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                            0.5,   1,    2.5,   5,    10};

class ServiceHost {
 public:
  using Done = std::function<void(Reply)>;

  explicit ServiceHost(HostOptions options = {});
  // Stops the workers once the running operations return; queued ones and
  // those still running are answered 503.
  ~ServiceHost();
  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  // Before the first call; the name must be new.
  void add(std::unique_ptr<Service> service);

  // Runs `operation` of `service` for `caller` on a worker; see above.
  void call(Caller caller, std::string service, std::string operation, nlohmann::json request,
            Done done);
  // Runs it on the calling thread, without quota or deadline: a service
  // calling another (HubAccess::call), already on a worker.
  Reply call_now(const Caller& caller, std::string_view service, std::string_view operation,
                 const nlohmann::json& request);

  // [{"name", "operations": […]}] in name order.
  nlohmann::json describe() const;
  std::vector<OperationStats> stats() const;

 private:
  struct Pending;
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled{};
    unsigned in_flight = 0;
  };
  Service* find(std::string_view name) const;
  // 404 for an unknown service or operation, naming what there is.
  std::optional<Reply> refuse_unknown(const Service* service, std::string_view name,
                                      std::string_view operation) const;
  // Why `caller` may not start another operation now, or nullopt (then
  // counted in flight until release()).
  std::optional<Reply> admit(const std::string& user);
  void release(const std::string& user);
  void finish(const std::shared_ptr<Pending>& pending, Reply reply, bool timed_out);
  void record(const std::string& service, const std::string& operation, const Reply& reply,
              double seconds, bool timed_out, bool refused);

  const HostOptions options_;
  std::map<std::string, std::unique_ptr<Service>, std::less<>> services_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;  // by user; guarded by mutex_
  std::map<std::pair<std::string, std::string>, OperationStats> stats_;  // guarded by mutex_
  std::size_t queued_ = 0;                                               // guarded by mutex_
  bool stopping_ = false;                                                // guarded by mutex_

  boost::asio::io_context timers_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread timer_thread_;
  boost::asio::thread_pool workers_;
};

}  // namespace allscene::services
