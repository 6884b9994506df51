#include "bench/worker.hpp"

#include <boost/asio/post.hpp>

namespace allscene::bench {
namespace {

constexpr std::size_t kConnectsInFlight = 64;  // per loop; mosquitto's listen backlog is 100
constexpr auto kSweepEvery = std::chrono::milliseconds(100);
constexpr auto kTickEvery = std::chrono::microseconds(250);

}  // namespace

std::uint64_t Shared::delivered(std::uint32_t pub) const {
  std::uint64_t n = 0;
  for (auto* w : workers) n += w->delivered(pub).get();
  return n;
}

Worker::Worker(Shared& shared) : shared_(shared) {}

Worker::~Worker() { stop(); }

void Worker::add(ClientPlan plan) {
  clients_.push_back(std::make_unique<Client>(*this, std::move(plan)));
  if (clients_.back()->is_publisher()) publishers_.push_back(clients_.back().get());
}

void Worker::start() {
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(io_);
    schedule_sweep();
    io_.run();
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

void Worker::begin_connect() {
  boost::asio::post(io_, [this] {
    connecting_started_ = true;
    launch_connects();
  });
}

void Worker::launch_connects() {
  while (connecting_ < kConnectsInFlight && next_connect_ < clients_.size()) {
    ++connecting_;
    clients_[next_connect_++]->connect();
  }
}

void Worker::connect_finished() {
  stats_.finished.add();
  if (connecting_ > 0) --connecting_;
  if (connecting_started_) launch_connects();
}

void Worker::begin_publishing() {
  boost::asio::post(io_, [this] {
    const auto now = now_ns();
    for (auto* p : publishers_) p->start_publishing(now);
    if (!publishers_.empty()) schedule_tick();
  });
}

void Worker::begin_closing() {
  boost::asio::post(io_, [this] {
    for (auto& c : clients_) c->close_gracefully();
  });
}

void Worker::record_latency(std::int64_t sent_ns, std::int64_t now) {
  if (now < shared_.window_start_ns.load(std::memory_order_relaxed) ||
      now >= shared_.window_end_ns.load(std::memory_order_relaxed)) {
    return;
  }
  latency_.record(static_cast<std::uint64_t>(std::max<std::int64_t>(now - sent_ns, 0)));
}

void Worker::schedule_sweep() {
  sweep_timer_.expires_after(kSweepEvery);
  sweep_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    const auto now = now_ns();
    for (auto& c : clients_) c->sweep(now);
    schedule_sweep();
  });
}

void Worker::schedule_tick() {
  tick_timer_.expires_after(kTickEvery);
  tick_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || shared_.phase.load(std::memory_order_relaxed) != Phase::publishing) return;
    const auto now = now_ns();
    for (auto* p : publishers_) p->tick(now);
    schedule_tick();
  });
}

}  // namespace allscene::bench
