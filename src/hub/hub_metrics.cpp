#include "hub/hub_metrics.hpp"

#include <array>

#include "api/metrics.hpp"

namespace allscene::hub {
namespace {

using api::MetricsText;

void latency(MetricsText& out, const std::string& name, const std::string& help,
             const broker::LatencySnapshot& h) {
  constexpr auto& bounds = broker::LatencyHistogram::kBounds;
  std::array<std::uint64_t, bounds.size()> cumulative{};
  std::uint64_t running = 0;
  for (std::size_t i = 0; i < bounds.size(); ++i) cumulative[i] = running += h.buckets[i];
  out.histogram(name, help, bounds, cumulative, h.count(), static_cast<double>(h.sum_ns) / 1e9);
}

void broker_metrics(MetricsText& out, const broker::BrokerTotals& t) {
  out.gauge("allscene_connections", "Open MQTT connections", t.connections_current);
  out.counter("allscene_connections_total", "MQTT connections accepted", t.connections_total);
  out.gauge("allscene_sessions", "Sessions, connected or not", t.sessions);
  out.gauge("allscene_subscriptions", "Subscriptions of all sessions", t.subscriptions);
  out.gauge("allscene_retained_messages", "Retained messages", t.retained);
  for (std::size_t q = 0; q < 3; ++q) {
    const api::MetricLabels qos{{"qos", std::to_string(q)}};
    out.counter("allscene_messages_received_total", "PUBLISH packets from clients",
                t.received_by_qos[q], qos);
    out.counter("allscene_messages_sent_total", "PUBLISH packets to clients", t.sent_by_qos[q],
                qos);
  }
  out.counter("allscene_bytes_received_total", "Bytes from clients", t.bytes_received);
  out.counter("allscene_bytes_sent_total", "Bytes to clients", t.bytes_sent);
  const std::pair<const char*, std::uint64_t> drops[] = {
      {"queue_full", t.dropped_queue_full},       {"expired", t.dropped_expired},
      {"too_large", t.dropped_too_large},         {"qos0_offline", t.dropped_qos0_offline},
      {"slow_consumer", t.dropped_slow_consumer}, {"no_session", t.dropped_no_session}};
  for (const auto& [reason, n] : drops) {
    out.counter("allscene_messages_dropped_total", "Messages dropped, by reason", n,
                {{"reason", reason}});
  }
  out.gauge("allscene_queued_messages", "Messages in session queues", t.queued_messages);
  out.gauge("allscene_queued_bytes", "Bytes in session queues", t.queued_bytes);
  out.gauge("allscene_inflight_messages", "QoS 1/2 messages sent, not yet acknowledged",
            t.inflight);
  out.gauge("allscene_outbound_bytes", "Bytes in connection write buffers", t.outbound_bytes);
  out.gauge("allscene_paused_reads", "Connections not read because memory is high", t.paused_reads);
  out.counter("allscene_auth_failures_total", "CONNECTs refused for their credentials",
              t.auth_failures);
  out.counter("allscene_access_denied_total", "Publishes and subscriptions refused by access rules",
              t.access_denied);
  out.counter("allscene_quota_refused_total", "Connects and publishes refused by a quota",
              t.quota_refused);
  out.counter("allscene_protocol_errors_total", "Connections closed for a protocol violation",
              t.protocol_errors);
  latency(out, "allscene_publish_ack_seconds",
          "QoS 1/2 PUBLISH arrival to its PUBACK/PUBREC, when the ack waited for the store",
          t.ack_latency);
}

void store_metrics(MetricsText& out, const store::SqliteStore& store) {
  const auto s = store.stats();
  out.counter("allscene_store_commits_total", "Group commits of the session store", s.commits);
  out.counter("allscene_store_failed_commits_total", "Group commits that failed", s.failed_commits);
  out.gauge("allscene_store_healthy", "1 while the session store can write", store.healthy());
  latency(out, "allscene_store_commit_seconds", "One group commit, fsync included",
          s.commit_latency);
}

void service_metrics(MetricsText& out, const services::ServiceHost& host) {
  for (const auto& s : host.stats()) {
    const auto ok = s.calls - s.errors;
    const std::pair<const char*, std::uint64_t> outcomes[] = {{"ok", ok},
                                                              {"error", s.errors - s.timeouts},
                                                              {"timeout", s.timeouts},
                                                              {"refused", s.refused}};
    for (const auto& [status, n] : outcomes) {
      out.counter("allscene_service_requests_total", "Cloud service requests, by outcome", n,
                  {{"service", s.service}, {"operation", s.operation}, {"status", status}});
    }
    out.histogram("allscene_service_request_seconds", "Cloud service requests, time to answer",
                  services::kLatencyBounds, s.buckets, s.calls, s.seconds_total,
                  {{"service", s.service}, {"operation", s.operation}});
  }
}

void registry_metrics(MetricsText& out, const registry::Registry& registry,
                      const registry::Presence& presence) {
  const auto snap = registry.snapshot();
  std::size_t connected = 0;
  for (const auto& [id, device] : snap->devices) connected += presence.current(id).connected;
  out.gauge("allscene_users", "Registered users", snap->users.size());
  out.gauge("allscene_devices", "Registered devices", snap->devices.size());
  out.gauge("allscene_devices_connected", "Registered devices online", connected);
}

}  // namespace

std::string hub_metrics(const MetricSources& sources) {
  MetricsText out;
  out.gauge(
      "allscene_uptime_seconds", "Seconds since the hub started",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sources.started).count());
  broker_metrics(out, sources.broker.totals());
  if (sources.store) store_metrics(out, *sources.store);
  registry_metrics(out, sources.registry, sources.presence);
  service_metrics(out, sources.services);
  return out.text();
}

}  // namespace allscene::hub
