// $SYS/broker/... topics: the broker's counters published as retained
// messages every Limits::sys_interval seconds, under the names mosquitto
// users know (docs/operations.md lists them).
#pragma once

#include <string>

#include "broker/message.hpp"

namespace allscene::broker {

class Broker;
class Shard;

class SysTopics {
 public:
  SysTopics(std::string version, TimePoint started)
      : version_(std::move(version)), started_(started) {}
  // Publishes through `shard` when the interval has passed; call on tick.
  void tick(Broker& broker, Shard& shard, TimePoint now);

 private:
  // Exponential moving averages of a per-second rate over 1, 5, 15 minutes.
  struct Load {
    double avg[3] = {0, 0, 0};
    std::uint64_t last = 0;
    void update(std::uint64_t total, double seconds);
  };
  void publish(Shard& shard, std::string topic, std::string value, TimePoint now);

  std::string version_;
  TimePoint started_;
  TimePoint last_publish_{};
  Load received_, sent_, bytes_received_, bytes_sent_, connections_;
};

}  // namespace allscene::broker
