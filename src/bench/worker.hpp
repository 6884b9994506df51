// One event loop of the load generator: an io_context run by one thread and
// the clients that live on it for their whole life. The runner drives the
// phases by posting to each worker; figures are read from any thread through
// single-writer counters.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "bench/client.hpp"
#include "bench/histogram.hpp"
#include "bench/options.hpp"

namespace allscene::bench {

enum class Phase : int { connecting, publishing, draining, closing };

// Nanoseconds on the monotonic clock, which every process on the machine
// shares; the publisher writes it into the payload.
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Written by one thread (its worker), read by any.
class Counter {
 public:
  void add(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

struct WorkerStats {
  Counter ready;     // connections through CONNACK (and SUBACK for subscribers)
  Counter finished;  // connections whose connect phase ended, ready or not
  Counter subscribers_ready;
  Counter sent;
  Counter completed;  // QoS 1/2 publishes acknowledged (PUBACK / PUBCOMP)
  Counter received;
  Counter unique;
  Counter duplicates;
  Counter err_connect, err_refused, err_closed, err_protocol, err_timeouts;
};

// State every worker reads; the runner writes it.
struct Shared {
  explicit Shared(const Options& o) : options(o) {}
  const Options& options;
  std::atomic<Phase> phase{Phase::connecting};
  // Latencies are recorded for messages received inside [start, end).
  std::atomic<std::int64_t> window_start_ns{INT64_MAX};
  std::atomic<std::int64_t> window_end_ns{INT64_MAX};
  std::uint32_t publishers = 0;  // publisher ids are 0 .. publishers-1
  // Deliveries each message of a publisher should cause; set before publishing.
  std::atomic<std::uint64_t> fanout{1};
  std::vector<class Worker*> workers;
  // Distinct deliveries of publisher `pub`'s messages so far, all loops.
  std::uint64_t delivered(std::uint32_t pub) const;
};

class Worker {
 public:
  explicit Worker(Shared& shared);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Before start(): the clients this loop owns, and how many publisher ids
  // there are.
  void add(ClientPlan plan);
  void set_publishers(std::uint32_t count) { delivered_ = std::vector<Counter>(count); }
  // Deliveries of publisher `pub` seen on this loop.
  Counter& delivered(std::uint32_t pub) { return delivered_[pub]; }
  void start();  // runs the loop on a new thread
  // Thread-safe: each runs its work on the loop.
  void begin_connect();
  void begin_publishing();
  void begin_closing();
  // Stops the loop and joins its thread; clients are destroyed after.
  void stop();

  // Merged by the runner after stop().
  const Histogram& latency() const { return latency_; }
  WorkerStats& stats() { return stats_; }

  // For the clients on this loop.
  boost::asio::io_context& io() { return io_; }
  const Shared& shared() const { return shared_; }
  void record_latency(std::int64_t sent_ns, std::int64_t now);
  void connect_finished();  // a client is ready or has failed to connect

 private:
  void launch_connects();
  void schedule_sweep();
  void schedule_tick();

  Shared& shared_;
  boost::asio::io_context io_{1};
  boost::asio::steady_timer sweep_timer_{io_};
  boost::asio::steady_timer tick_timer_{io_};
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<Client*> publishers_;
  std::vector<Counter> delivered_;
  std::size_t next_connect_ = 0;
  std::size_t connecting_ = 0;
  bool connecting_started_ = false;
  WorkerStats stats_;
  Histogram latency_;
  std::thread thread_;
};

}  // namespace allscene::bench
