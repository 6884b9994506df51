#include "bench/options.hpp"

#include <stdexcept>

namespace allscene::bench {

Scenario parse_scenario(const std::string& name) {
  if (name == "pairs") return Scenario::pairs;
  if (name == "fan-in") return Scenario::fan_in;
  if (name == "fan-out") return Scenario::fan_out;
  if (name == "idle") return Scenario::idle;
  if (name == "durable") return Scenario::durable;
  throw std::invalid_argument("unknown scenario '" + name +
                              "': use pairs, fan-in, fan-out, idle or durable");
}

const char* scenario_name(Scenario s) {
  switch (s) {
    case Scenario::pairs:
      return "pairs";
    case Scenario::fan_in:
      return "fan-in";
    case Scenario::fan_out:
      return "fan-out";
    case Scenario::idle:
      return "idle";
    case Scenario::durable:
      return "durable";
  }
  return "?";
}

void validate(const Options& o) {
  if (o.connections == 0) throw std::invalid_argument("--connections must be at least 1");
  if (o.payload < 16) throw std::invalid_argument("--payload must be at least 16 bytes");
  if (o.payload > 1024 * 1024) throw std::invalid_argument("--payload must be at most 1 MiB");
  if (o.qos > 2) throw std::invalid_argument("--qos must be 0, 1 or 2");
  if (o.rate < 0) throw std::invalid_argument("--rate must not be negative");
  if (o.duration <= 0) throw std::invalid_argument("--duration must be positive");
  if (o.warmup < 0) throw std::invalid_argument("--warmup must not be negative");
  if (o.threads == 0 || o.threads > 64) throw std::invalid_argument("--threads must be 1..64");
  if (o.inflight == 0) throw std::invalid_argument("--inflight must be at least 1");
  if (o.source_ips > 254) throw std::invalid_argument("--source-ips must be at most 254");
  if (o.consumers == 0) throw std::invalid_argument("--consumers must be at least 1");
  if (o.scenario == Scenario::fan_in && o.topic.find("{i}") == std::string::npos) {
    throw std::invalid_argument("fan-in needs {i} as a whole level of --topic");
  }
  if ((o.scenario == Scenario::pairs || o.scenario == Scenario::durable) &&
      o.topic.find("{i}") == std::string::npos) {
    throw std::invalid_argument("--topic needs {i} so each pair has its own topic");
  }
}

}  // namespace allscene::bench
