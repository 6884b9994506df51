#include "broker/sys_topics.hpp"

#include <fmt/format.h>

#include <cmath>

#include "broker/broker.hpp"

namespace allscene::broker {

void SysTopics::Load::update(std::uint64_t total, double seconds) {
  static constexpr double kWindows[3] = {60.0, 300.0, 900.0};
  const double rate = static_cast<double>(total - last) / seconds;
  last = total;
  for (int i = 0; i < 3; ++i) {
    const double keep = std::exp(-seconds / kWindows[i]);
    avg[i] = avg[i] * keep + rate * (1.0 - keep);
  }
}

void SysTopics::publish(Shard& shard, std::string topic, std::string value, TimePoint now) {
  auto m = std::make_shared<Message>();
  m->topic = std::move(topic);
  m->payload = std::move(value);
  m->retain = true;
  shard.route(m, now);
}

void SysTopics::tick(Broker& broker, Shard& shard, TimePoint now) {
  const auto interval = broker.limits().sys_interval;
  if (interval == 0 || now - last_publish_ < std::chrono::seconds(interval)) return;
  const double seconds = last_publish_ == TimePoint{}
                             ? interval
                             : std::chrono::duration<double>(now - last_publish_).count();
  last_publish_ = now;
  const BrokerTotals t = broker.totals();
  const std::string b = "$SYS/broker/";
  publish(shard, b + "version", "allscene " + version_, now);
  publish(shard, b + "uptime",
          fmt::format("{} seconds",
                      std::chrono::duration_cast<std::chrono::seconds>(now - started_).count()),
          now);
  const std::pair<const char*, std::uint64_t> counters[] = {
      {"clients/connected", t.connections_current},
      {"clients/total", t.sessions},
      {"connections/total", t.connections_total},
      {"messages/received", t.messages_received},
      {"messages/sent", t.messages_sent},
      {"bytes/received", t.bytes_received},
      {"bytes/sent", t.bytes_sent},
      {"subscriptions/count", t.subscriptions},
      {"retained messages/count", t.retained},
      {"messages/dropped", t.dropped()},
      {"messages/dropped/queue_full", t.dropped_queue_full},
      {"messages/dropped/expired", t.dropped_expired},
      {"messages/dropped/too_large", t.dropped_too_large},
      {"messages/dropped/qos0_offline", t.dropped_qos0_offline},
      {"messages/dropped/slow_consumer", t.dropped_slow_consumer},
      {"messages/dropped/no_session", t.dropped_no_session},
      {"protocol_errors", t.protocol_errors},
      {"memory/buffered_bytes", t.queued_bytes + t.outbound_bytes + t.crossing_bytes},
      {"memory/paused_reads", t.paused_reads},
      {"clients/quota_refused", t.quota_refused},
      {"clients/access_denied", t.access_denied},
  };
  for (const auto& [name, value] : counters) publish(shard, b + name, std::to_string(value), now);
  struct Named {
    const char* name;
    Load& load;
    std::uint64_t total;
  };
  const Named loads[] = {{"messages/received", received_, t.messages_received},
                         {"messages/sent", sent_, t.messages_sent},
                         {"bytes/received", bytes_received_, t.bytes_received},
                         {"bytes/sent", bytes_sent_, t.bytes_sent},
                         {"connections", connections_, t.connections_total}};
  static constexpr const char* kWindowNames[3] = {"1min", "5min", "15min"};
  for (const auto& l : loads) {
    l.load.update(l.total, seconds);
    for (int i = 0; i < 3; ++i) {
      publish(shard, fmt::format("{}load/{}/{}", b, l.name, kWindowNames[i]),
              fmt::format("{:.2f}", l.load.avg[i]), now);
    }
  }
}

}  // namespace allscene::broker
