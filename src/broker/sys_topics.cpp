#include "broker/sys_topics.hpp"

#include <cmath>

#include <fmt/format.h>

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
  const double seconds =
      last_publish_ == TimePoint{} ? interval : std::chrono::duration<double>(now - last_publish_).count();
  last_publish_ = now;
  const BrokerTotals t = broker.totals();
  const std::string b = "$SYS/broker/";
  auto num = [](std::uint64_t v) { return std::to_string(v); };
  publish(shard, b + "version", "allscene " + version_, now);
  publish(shard, b + "uptime",
          fmt::format("{} seconds",
                      std::chrono::duration_cast<std::chrono::seconds>(now - started_).count()),
          now);
  publish(shard, b + "clients/connected", num(t.connections_current), now);
  publish(shard, b + "clients/total", num(t.sessions), now);
  publish(shard, b + "connections/total", num(t.connections_total), now);
  publish(shard, b + "messages/received", num(t.messages_received), now);
  publish(shard, b + "messages/sent", num(t.messages_sent), now);
  publish(shard, b + "bytes/received", num(t.bytes_received), now);
  publish(shard, b + "bytes/sent", num(t.bytes_sent), now);
  publish(shard, b + "subscriptions/count", num(t.subscriptions), now);
  publish(shard, b + "retained messages/count", num(t.retained), now);
  publish(shard, b + "messages/dropped", num(t.dropped()), now);
  publish(shard, b + "messages/dropped/queue_full", num(t.dropped_queue_full), now);
  publish(shard, b + "messages/dropped/expired", num(t.dropped_expired), now);
  publish(shard, b + "messages/dropped/too_large", num(t.dropped_too_large), now);
  publish(shard, b + "messages/dropped/qos0_offline", num(t.dropped_qos0_offline), now);
  publish(shard, b + "messages/dropped/slow_consumer", num(t.dropped_slow_consumer), now);
  publish(shard, b + "messages/dropped/no_session", num(t.dropped_no_session), now);
  publish(shard, b + "protocol_errors", num(t.protocol_errors), now);
  publish(shard, b + "memory/buffered_bytes", num(t.queued_bytes + t.outbound_bytes + t.crossing_bytes), now);
  publish(shard, b + "memory/paused_reads", num(t.paused_reads), now);
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
