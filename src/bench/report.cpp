#include "bench/report.hpp"

#include <fmt/format.h>

#include <iomanip>
#include <nlohmann/json.hpp>

namespace allscene::bench {

void print_text(const Report& r, std::ostream& out) {
  const auto& o = r.options;
  out << fmt::format("scenario {}  connections {}/{}  qos {}  payload {} B  mqtt {}  rate {}\n",
                     scenario_name(o.scenario), r.connections_ok, r.connections_planned, o.qos,
                     o.payload, o.version == mqtt::Version::v5 ? "5" : "3.1.1",
                     o.rate > 0 ? fmt::format("{}/s per publisher", o.rate) : "max");
  out << fmt::format("connect    {:.2f} s, {:.0f} connections/s\n", r.connect_seconds,
                     r.connect_rate);
  if (o.scenario != Scenario::idle) {
    out << fmt::format("throughput sent {:.0f} msg/s, received {:.0f} msg/s over {:.1f} s\n",
                       r.sent_rate, r.received_rate, r.window_seconds);
    out << fmt::format(
        "latency    p50 {:.1f} us, p99 {:.1f} us, p99.9 {:.1f} us, max {:.1f} us "
        "({} samples)\n",
        r.latency.p50, r.latency.p99, r.latency.p999, r.latency.max, r.latency.count);
    out << fmt::format("messages   sent {}, received {}, expected {}, lost {}, duplicates {}\n",
                       r.sent, r.received, r.expected, r.lost, r.duplicates);
  }
  const auto& e = r.errors;
  out << fmt::format(
      "errors     {} (connect {}, refused {}, closed {}, protocol {}, timeouts {})\n", e.total(),
      e.connect, e.refused, e.closed, e.protocol, e.timeouts);
  out << fmt::format("cpu        generator {:.2f} s", r.generator_cpu_seconds);
  if (r.broker_cpu_seconds) out << fmt::format(", broker {:.2f} s", *r.broker_cpu_seconds);
  out << "\n";
  if (r.broker_rss_before_kib && r.broker_rss_after_kib) {
    out << fmt::format("broker rss {} KiB -> {} KiB", *r.broker_rss_before_kib,
                       *r.broker_rss_after_kib);
    if (r.broker_rss_per_connection) {
      out << fmt::format(", {:.0f} bytes per connection", *r.broker_rss_per_connection);
    }
    out << "\n";
  }
}

void print_json(const Report& r, std::ostream& out) {
  const auto& o = r.options;
  nlohmann::json j;
  j["scenario"] = scenario_name(o.scenario);
  j["run_id"] = r.run_id;
  j["settings"] = {{"host", o.host},
                   {"port", o.port},
                   {"connections", o.connections},
                   {"consumers", o.consumers},
                   {"rate", o.rate},
                   {"qos", o.qos},
                   {"payload", o.payload},
                   {"duration", o.duration},
                   {"warmup", o.warmup},
                   {"topic", o.topic},
                   {"mqtt_version", o.version == mqtt::Version::v5 ? "5" : "3.1.1"},
                   {"threads", o.threads},
                   {"inflight", o.inflight},
                   {"source_ips", o.source_ips}};
  j["connections"] = {{"planned", r.connections_planned},
                      {"ok", r.connections_ok},
                      {"seconds", r.connect_seconds},
                      {"rate", r.connect_rate}};
  j["sent"] = r.sent;
  j["received"] = r.received;
  j["expected"] = r.expected;
  j["lost"] = r.lost;
  j["duplicates"] = r.duplicates;
  j["window_seconds"] = r.window_seconds;
  j["sent_rate"] = r.sent_rate;
  j["received_rate"] = r.received_rate;
  j["latency_us"] = {{"count", r.latency.count}, {"p50", r.latency.p50}, {"p99", r.latency.p99},
                     {"p999", r.latency.p999},   {"max", r.latency.max}, {"mean", r.latency.mean}};
  const auto& e = r.errors;
  j["errors"] = {{"total", e.total()}, {"connect", e.connect},   {"refused", e.refused},
                 {"closed", e.closed}, {"protocol", e.protocol}, {"timeouts", e.timeouts}};
  j["cpu_seconds"] = {{"generator", r.generator_cpu_seconds}};
  j["cpu_seconds"]["broker"] =
      r.broker_cpu_seconds ? nlohmann::json(*r.broker_cpu_seconds) : nlohmann::json(nullptr);
  auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  j["broker_rss"] = {{"before_kib", opt(r.broker_rss_before_kib)},
                     {"after_kib", opt(r.broker_rss_after_kib)},
                     {"per_connection_bytes", opt(r.broker_rss_per_connection)}};
  out << j.dump() << "\n";
}

}  // namespace allscene::bench
