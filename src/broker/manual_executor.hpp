// An Executor whose tasks run only when drain() is called, on the calling
// thread: drives a multi-shard broker deterministically in tests and
// benchmarks, without event loops or sockets.
#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "broker/interfaces.hpp"

namespace allscene::broker {

class ManualExecutor final : public Executor {
 public:
  explicit ManualExecutor(std::size_t shards) : queues_(shards) {}
  std::size_t shard_count() const override { return queues_.size(); }
  void post(std::size_t shard, std::function<void()> task) override {
    queues_[shard].push_back(std::move(task));
  }
  // Runs queued tasks shard by shard until none are left; false if they
  // were still coming after `max_rounds` rounds (a livelock).
  bool drain(int max_rounds = 1000) {
    for (int round = 0; round < max_rounds; ++round) {
      bool ran = false;
      for (auto& q : queues_) {
        while (!q.empty()) {
          auto task = std::move(q.front());
          q.pop_front();
          task();
          ran = true;
        }
      }
      if (!ran) return true;
    }
    return false;
  }

 private:
  std::vector<std::deque<std::function<void()>>> queues_;
};

}  // namespace allscene::broker
