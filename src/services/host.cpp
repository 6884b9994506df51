#include "services/host.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <stdexcept>

#include "log/module_log.hpp"

namespace allscene::services {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// One operation on its way: whoever answers first (the worker or the
// deadline) takes `done`.
struct ServiceHost::Pending {
  Pending(boost::asio::io_context& timers, Done d) : deadline(timers), done(std::move(d)) {}
  std::string user;
  bool counted = false;  // holds a place in the user's in-flight count
  std::string service;
  std::string operation;
  Clock::time_point started = Clock::now();
  boost::asio::steady_timer deadline;
  std::atomic<bool> answered{false};
  Done done;
};

ServiceHost::ServiceHost(HostOptions options)
    : options_(options),
      work_(boost::asio::make_work_guard(timers_)),
      timer_thread_([this] { timers_.run(); }),
      workers_(std::max(1u, options.workers)) {}

ServiceHost::~ServiceHost() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  workers_.join();  // queued operations see stopping_ and answer 503
  work_.reset();
  timers_.stop();
  timer_thread_.join();
}

void ServiceHost::add(std::unique_ptr<Service> service) {
  std::string name(service->name());
  if (!services_.emplace(name, std::move(service)).second) {
    throw std::invalid_argument(fmt::format("two services are named '{}'", name));
  }
}

Service* ServiceHost::find(std::string_view name) const {
  const auto it = services_.find(name);
  return it == services_.end() ? nullptr : it->second.get();
}

std::optional<Reply> ServiceHost::refuse_unknown(const Service* service, std::string_view name,
                                                 std::string_view operation) const {
  if (!service) {
    json names = json::array();
    for (const auto& [known, s] : services_) names.push_back(known);
    return Reply::error(
        404, "unknown_service",
        fmt::format("there is no service '{}'; the hub has {}", name, names.dump()));
  }
  const auto ops = service->operations();
  if (std::find(ops.begin(), ops.end(), operation) == ops.end()) {
    return Reply::error(404, "unknown_operation",
                        fmt::format("service '{}' has no operation '{}'; it has {}", name,
                                    operation, json(ops).dump()));
  }
  return std::nullopt;
}

std::optional<Reply> ServiceHost::admit(const std::string& user) {
  std::lock_guard lock(mutex_);
  if (stopping_) return Reply::error(503, "stopping", "the hub is shutting down; try again later");
  if (queued_ >= options_.max_queued) {
    return Reply::error(
        503, "busy",
        fmt::format("the hub has {} service requests waiting; try again shortly", queued_));
  }
  Bucket& bucket = buckets_[user];
  const auto now = Clock::now();
  const double burst = options_.burst_per_user;
  if (bucket.refilled == Clock::time_point{}) bucket.tokens = burst;
  const double elapsed = std::chrono::duration<double>(now - bucket.refilled).count();
  bucket.tokens = std::min(burst, bucket.tokens + elapsed * options_.rate_per_user);
  bucket.refilled = now;
  if (bucket.tokens < 1) {
    return Reply::error(429, "rate_limited",
                        fmt::format("user {} sends more than {} service requests per second; "
                                    "slow down",
                                    user, options_.rate_per_user));
  }
  if (bucket.in_flight >= options_.in_flight_per_user) {
    return Reply::error(429, "too_many_in_flight",
                        fmt::format("user {} has {} service requests running; wait for their "
                                    "answers",
                                    user, bucket.in_flight));
  }
  bucket.tokens -= 1;
  ++bucket.in_flight;
  ++queued_;
  return std::nullopt;
}

void ServiceHost::release(const std::string& user) {
  std::lock_guard lock(mutex_);
  --queued_;
  if (auto it = buckets_.find(user); it != buckets_.end() && it->second.in_flight > 0) {
    --it->second.in_flight;
  }
}

void ServiceHost::call(Caller caller, std::string service_name, std::string operation, json request,
                       Done done) {
  Service* service = find(service_name);
  if (auto refused = refuse_unknown(service, service_name, operation)) {
    return done(std::move(*refused));
  }
  // Admins (REST with a service token) are limited only by the queue.
  const std::string quota_key = caller.admin ? std::string() : caller.user;
  if (auto refused = admit(quota_key)) {
    record(service_name, operation, *refused, 0, false, true);
    return done(std::move(*refused));
  }
  auto pending = std::make_shared<Pending>(timers_, std::move(done));
  pending->user = quota_key;
  pending->counted = true;
  pending->service = std::move(service_name);
  pending->operation = std::move(operation);
  pending->deadline.expires_after(service->deadline(pending->operation));
  pending->deadline.async_wait([this, pending](const boost::system::error_code& ec) {
    if (ec) return;
    finish(pending,
           Reply::error(504, "timeout",
                        fmt::format("{}/{} did not answer within its deadline; try again, or "
                                    "with less input",
                                    pending->service, pending->operation)),
           true);
  });
  boost::asio::post(
      workers_, [this, pending, service, caller = std::move(caller), request = std::move(request)] {
        bool stopping = false;
        {
          std::lock_guard lock(mutex_);
          stopping = stopping_;
        }
        if (stopping || pending->answered.load()) {
          return finish(pending,
                        Reply::error(503, "stopping", "the hub is shutting down; try again later"),
                        false);
        }
        finish(pending, call_now(caller, pending->service, pending->operation, request), false);
      });
}

Reply ServiceHost::call_now(const Caller& caller, std::string_view service_name,
                            std::string_view operation, const json& request) {
  Service* service = find(service_name);
  if (auto refused = refuse_unknown(service, service_name, operation)) return *refused;
  try {
    return service->call(caller, operation, request);
  } catch (const std::exception& e) {
    module_log().error("services: {}/{} failed: {}", service_name, operation, e.what());
    return Reply::error(500, "internal",
                        fmt::format("{}/{} failed inside the hub; the hub's log has the details",
                                    service_name, operation));
  }
}

void ServiceHost::finish(const std::shared_ptr<Pending>& pending, Reply reply, bool timed_out) {
  // The worker finishing after the deadline frees its quota place; only
  // the first to finish answers.
  if (!timed_out) {
    pending->deadline.cancel();
    if (std::exchange(pending->counted, false)) release(pending->user);
  }
  if (pending->answered.exchange(true)) return;
  const double seconds = std::chrono::duration<double>(Clock::now() - pending->started).count();
  record(pending->service, pending->operation, reply, seconds, timed_out, false);
  Done done = std::move(pending->done);
  done(std::move(reply));
}

void ServiceHost::record(const std::string& service, const std::string& operation,
                         const Reply& reply, double seconds, bool timed_out, bool refused) {
  std::lock_guard lock(mutex_);
  OperationStats& s = stats_[{service, operation}];
  if (s.buckets.empty()) {
    s.service = service;
    s.operation = operation;
    s.buckets.assign(std::size(kLatencyBounds), 0);
  }
  if (refused) {
    ++s.refused;
    return;
  }
  ++s.calls;
  if (!reply.ok()) ++s.errors;
  if (timed_out) ++s.timeouts;
  s.seconds_total += seconds;
  for (std::size_t i = 0; i < std::size(kLatencyBounds); ++i) {
    if (seconds <= kLatencyBounds[i]) ++s.buckets[i];
  }
}

json ServiceHost::describe() const {
  json out = json::array();
  for (const auto& [name, service] : services_) {
    out.push_back({{"name", name}, {"operations", service->operations()}});
  }
  return out;
}

std::vector<OperationStats> ServiceHost::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<OperationStats> out;
  out.reserve(stats_.size());
  for (const auto& [key, s] : stats_) out.push_back(s);
  return out;
}

}  // namespace allscene::services
