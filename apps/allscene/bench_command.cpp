#include "bench_command.hpp"

#include <iostream>

#include "bench/runner.hpp"

namespace allscene::app {

BenchCommand::BenchCommand(CLI::App& app) {
  auto& o = options_;
  auto* b = app.add_subcommand("bench",
                               "MQTT load generator: throughput, latency, connections "
                               "and broker memory (see docs/benchmarks.md)");
  b->add_option("--host", o.host, "Broker address")->default_str(o.host);
  b->add_option("--port", o.port, "Broker port")->default_str(std::to_string(o.port));
  b->add_option("--scenario", scenario_, "pairs, fan-in, fan-out, idle or durable")
      ->default_str(scenario_);
  b->add_option("--connections", o.connections,
                "pairs/durable: pairs; fan-in: publishers; fan-out: subscribers; idle: connections")
      ->default_str(std::to_string(o.connections));
  b->add_option("--consumers", o.consumers, "fan-in: members of the $share group")
      ->default_str(std::to_string(o.consumers));
  b->add_option("--rate", o.rate, "Messages/s per publisher; 0: as fast as the window allows")
      ->default_str("0");
  b->add_option("--qos", o.qos, "0, 1 or 2 (durable uses at least 1)")->default_str("0");
  b->add_option("--payload", o.payload, "Payload bytes, at least 16 (timestamp and sequence)")
      ->default_str(std::to_string(o.payload));
  b->add_option("--duration", o.duration, "Seconds measured")->default_str("10");
  b->add_option("--warmup", o.warmup, "Seconds run before measuring")->default_str("1");
  b->add_option("--topic", o.topic, "Topic pattern: {run} run id, {i} pair/publisher index")
      ->default_str(o.topic);
  b->add_option("--mqtt-version", version_, "3.1.1 or 5")->default_str(version_);
  b->add_option("--source-ips", o.source_ips,
                "Spread connects over 127.0.0.1..127.0.0.N (past 64k connections)")
      ->default_str("0");
  b->add_option("--broker-pid", o.broker_pid, "Broker process: its CPU and RSS from /proc");
  b->add_option("--threads", o.threads, "Event loops of the generator")
      ->default_str(std::to_string(o.threads));
  b->add_option("--inflight", o.inflight, "QoS 1/2 window per publisher")
      ->default_str(std::to_string(o.inflight));
  b->add_option("--connect-timeout", o.connect_timeout, "Seconds for the connect phase")
      ->default_str("60");
  b->add_option("--drain-timeout", o.drain_timeout, "Seconds to wait for stragglers at the end")
      ->default_str("5");
  b->add_option("--settle", o.settle, "idle: seconds between connecting and reading RSS")
      ->default_str("2");
  b->add_flag("--json", json_, "Print one JSON object at the end instead of the text report");
  b->add_flag("-q,--quiet", quiet_, "No progress lines on stderr");
  command_ = b;
}

int BenchCommand::run() {
  auto& o = options_;
  try {
    o.scenario = bench::parse_scenario(scenario_);
    if (version_ == "5") {
      o.version = mqtt::Version::v5;
    } else if (version_ == "3.1.1") {
      o.version = mqtt::Version::v311;
    } else {
      throw std::invalid_argument("--mqtt-version must be 3.1.1 or 5");
    }
    o.progress = !quiet_;
    const auto report = bench::run(o, std::cerr);
    if (json_) {
      bench::print_json(report, std::cout);
    } else {
      bench::print_text(report, std::cout);
    }
    return report.connections_ok > 0 ? 0 : 1;
  } catch (const std::invalid_argument& e) {
    std::cerr << "allscene bench: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace allscene::app
