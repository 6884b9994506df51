#include "bench/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <thread>

#include "bench/proc_stats.hpp"
#include "bench/worker.hpp"

namespace allscene::bench {
namespace {

using std::chrono::duration;
using Clock = std::chrono::steady_clock;

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

std::string make_run_id() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

struct Totals {
  std::uint64_t ready = 0, finished = 0, subscribers = 0, sent = 0, completed = 0, received = 0,
                unique = 0, duplicates = 0;
  Errors errors;
};

Totals sum(const std::vector<std::unique_ptr<Worker>>& workers) {
  Totals t;
  for (const auto& w : workers) {
    auto& s = w->stats();
    t.ready += s.ready.get();
    t.finished += s.finished.get();
    t.subscribers += s.subscribers_ready.get();
    t.sent += s.sent.get();
    t.completed += s.completed.get();
    t.received += s.received.get();
    t.unique += s.unique.get();
    t.duplicates += s.duplicates.get();
    t.errors.connect += s.err_connect.get();
    t.errors.refused += s.err_refused.get();
    t.errors.closed += s.err_closed.get();
    t.errors.protocol += s.err_protocol.get();
    t.errors.timeouts += s.err_timeouts.get();
  }
  return t;
}

// Lays the scenario's clients out over the workers. Returns the number of
// publisher ids.
std::uint32_t plan_clients(const Options& o, const std::string& run_id,
                           std::vector<std::unique_ptr<Worker>>& workers) {
  const auto topic_of = [&](std::uint32_t i) {
    return replace_all(replace_all(o.topic, "{run}", run_id), "{i}", std::to_string(i));
  };
  const auto n = o.connections;
  const auto t = static_cast<std::uint32_t>(workers.size());
  std::uint32_t source = 0;
  auto add = [&](std::uint32_t worker, ClientPlan p) {
    p.source_index = source++;
    workers[worker % t]->add(std::move(p));
  };
  const auto id = [&](const char* role, std::uint32_t i) {
    return fmt::format("asb-{}-{}{}", run_id, role, i);
  };
  switch (o.scenario) {
    case Scenario::pairs:
    case Scenario::durable:
      // A pair's two ends sit on different loops when there are several.
      for (std::uint32_t i = 0; i < n; ++i) {
        ClientPlan s{
            Role::subscriber, id("s", i), topic_of(i), 0, i, 1, o.scenario == Scenario::durable, 0};
        add(i + 1, std::move(s));
      }
      for (std::uint32_t i = 0; i < n; ++i) {
        add(i, ClientPlan{Role::publisher, id("p", i), topic_of(i), i, 0, 1, false, 0});
      }
      return n;
    case Scenario::fan_out:
      for (std::uint32_t i = 0; i < n; ++i) {
        add(i + 1, ClientPlan{Role::subscriber, id("s", i), topic_of(0), 0, 0, 1, false, 0});
      }
      add(0, ClientPlan{Role::publisher, id("p", 0), topic_of(0), 0, 0, 1, false, 0});
      return 1;
    case Scenario::fan_in: {
      const auto filter =
          fmt::format("$share/asb{}/{}", run_id,
                      replace_all(replace_all(o.topic, "{run}", run_id), "{i}", "+"));
      for (std::uint32_t i = 0; i < o.consumers; ++i) {
        add(i + 1, ClientPlan{Role::subscriber, id("c", i), filter, 0, 0, n, false, 0});
      }
      for (std::uint32_t i = 0; i < n; ++i) {
        add(i, ClientPlan{Role::publisher, id("p", i), topic_of(i), i, 0, 1, false, 0});
      }
      return n;
    }
    case Scenario::idle:
      for (std::uint32_t i = 0; i < n; ++i) {
        add(i, ClientPlan{Role::idle, id("i", i), "", 0, 0, 1, false, 0});
      }
      return 0;
  }
  return 0;
}

// Sleeps until `done()` or `deadline`, checking every 20 ms; prints a
// progress line each second. Returns done().
template <typename Done, typename Line>
bool wait_until(Clock::time_point deadline, Done done, Line line, const Options& o,
                std::ostream& progress) {
  auto next_line = Clock::now() + std::chrono::seconds(1);
  for (;;) {
    if (done()) return true;
    const auto now = Clock::now();
    if (now >= deadline) return done();
    if (o.progress && now >= next_line) {
      progress << line() << std::endl;
      next_line += std::chrono::seconds(1);
    }
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(20), deadline - now));
  }
}

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(duration<double>(s));
}

}  // namespace

Report run(const Options& o, std::ostream& progress) {
  validate(o);
  Report r;
  r.options = o;
  if (o.scenario == Scenario::durable && r.options.qos == 0) r.options.qos = 1;
  r.run_id = make_run_id();

  Shared shared(r.options);
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < o.threads; ++i) {
    workers.push_back(std::make_unique<Worker>(shared));
    shared.workers.push_back(workers.back().get());
  }
  shared.publishers = plan_clients(r.options, r.run_id, workers);
  for (auto& w : workers) w->set_publishers(shared.publishers);
  const auto planned = o.scenario == Scenario::fan_out  ? o.connections + 1
                       : o.scenario == Scenario::fan_in ? o.connections + o.consumers
                       : o.scenario == Scenario::idle   ? o.connections
                                                        : 2 * o.connections;
  r.connections_planned = planned;
  for (auto& w : workers) w->start();

  const auto start = Clock::now();
  const auto elapsed = [&] { return duration<double>(Clock::now() - start).count(); };
  Totals last;
  auto last_time = Clock::now();
  const auto line = [&] {
    const auto t = sum(workers);
    const auto now = Clock::now();
    const double dt = std::max(1e-3, duration<double>(now - last_time).count());
    auto s = fmt::format(
        "[{:6.1f}s] conn {}/{}  sent {:.0f}/s  recv {:.0f}/s  lost-so-far {}  "
        "dup {}  errors {}",
        elapsed(), t.ready, planned, (t.sent - last.sent) / dt, (t.received - last.received) / dt,
        t.sent > t.unique ? t.sent - t.unique : 0, t.duplicates, t.errors.total());
    last = t;
    last_time = now;
    return s;
  };

  // Connect.
  if (o.broker_pid > 0) r.broker_rss_before_kib = process_rss_kib(o.broker_pid);
  const double cpu0_connect = self_cpu_seconds();
  const auto broker_cpu0_connect =
      o.broker_pid > 0 ? process_cpu_seconds(o.broker_pid) : std::nullopt;
  const auto connect_start = Clock::now();
  for (auto& w : workers) w->begin_connect();
  const bool all_finished = wait_until(
      connect_start + seconds(o.connect_timeout), [&] { return sum(workers).finished >= planned; },
      line, o, progress);
  r.connect_seconds = duration<double>(Clock::now() - connect_start).count();
  auto totals = sum(workers);
  r.connections_ok = static_cast<std::uint32_t>(totals.ready);
  r.connect_rate = r.connect_seconds > 0 ? totals.ready / r.connect_seconds : 0;
  Errors extra;
  if (!all_finished) ++extra.timeouts;

  std::uint64_t subscribers = totals.subscribers;
  const auto fanout = [&]() -> std::uint64_t {
    if (o.scenario == Scenario::fan_out) return subscribers;
    return totals.subscribers > 0 ? 1 : 0;
  };

  if (o.scenario == Scenario::idle) {
    std::this_thread::sleep_for(seconds(o.settle));
    if (o.broker_pid > 0) {
      r.broker_rss_after_kib = process_rss_kib(o.broker_pid);
      if (r.broker_rss_before_kib && r.broker_rss_after_kib && r.connections_ok > 0) {
        r.broker_rss_per_connection =
            (static_cast<double>(*r.broker_rss_after_kib) - *r.broker_rss_before_kib) * 1024.0 /
            r.connections_ok;
      }
      const auto b1 = process_cpu_seconds(o.broker_pid);
      if (broker_cpu0_connect && b1) r.broker_cpu_seconds = *b1 - *broker_cpu0_connect;
    }
    r.generator_cpu_seconds = self_cpu_seconds() - cpu0_connect;
    r.window_seconds = duration<double>(Clock::now() - connect_start).count();
  } else if (totals.ready > 0) {
    // Publish: warm-up, then the measured window.
    shared.fanout = std::max<std::uint64_t>(1, fanout());
    shared.phase = Phase::publishing;
    for (auto& w : workers) w->begin_publishing();
    const auto never = [] { return false; };
    wait_until(Clock::now() + seconds(o.warmup), never, line, o, progress);

    const auto w0 = Clock::now();
    shared.window_start_ns = now_ns();
    const auto t0 = sum(workers);
    const double cpu0 = self_cpu_seconds();
    const auto bcpu0 = o.broker_pid > 0 ? process_cpu_seconds(o.broker_pid) : std::nullopt;
    wait_until(w0 + seconds(o.duration), never, line, o, progress);
    shared.window_end_ns = now_ns();
    const auto t1 = sum(workers);
    const auto w1 = Clock::now();
    r.generator_cpu_seconds = self_cpu_seconds() - cpu0;
    if (bcpu0) {
      if (const auto b1 = process_cpu_seconds(o.broker_pid)) r.broker_cpu_seconds = *b1 - *bcpu0;
    }
    r.window_seconds = duration<double>(w1 - w0).count();
    r.sent_rate = (t1.sent - t0.sent) / r.window_seconds;
    r.received_rate = (t1.received - t0.received) / r.window_seconds;

    // Drain: no new messages; wait for deliveries and acknowledgements.
    shared.phase = Phase::draining;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // lets in-progress pumps end
    const bool drained = wait_until(
        Clock::now() + seconds(o.drain_timeout),
        [&] {
          const auto t = sum(workers);
          const bool acked = r.options.qos == 0 || t.completed >= t.sent;
          return acked && t.unique >= t.sent * fanout();
        },
        line, o, progress);
    (void)drained;  // what did not arrive is reported as lost
  }

  // Close: DISCONNECT everyone, give the writes a moment, then stop.
  shared.phase = Phase::closing;
  for (auto& w : workers) w->begin_closing();
  std::this_thread::sleep_for(std::chrono::milliseconds(o.scenario == Scenario::idle ? 500 : 200));
  for (auto& w : workers) w->stop();

  totals = sum(workers);
  Histogram latency;
  for (auto& w : workers) latency.merge(w->latency());
  r.sent = totals.sent;
  r.received = totals.received;
  r.duplicates = totals.duplicates;
  r.expected = totals.sent * fanout();
  r.lost = r.expected > totals.unique ? r.expected - totals.unique : 0;
  r.errors = totals.errors;
  r.errors.timeouts += extra.timeouts;
  r.latency.count = latency.count();
  r.latency.p50 = latency.quantile(0.50) / 1e3;
  r.latency.p99 = latency.quantile(0.99) / 1e3;
  r.latency.p999 = latency.quantile(0.999) / 1e3;
  r.latency.max = latency.max() / 1e3;
  r.latency.mean = latency.mean() / 1e3;
  return r;
}

}  // namespace allscene::bench
