// Settings of one `allscene bench` run. See docs/benchmarks.md.
#pragma once

#include <cstdint>
#include <string>

#include "mqtt/types.hpp"

namespace allscene::bench {

enum class Scenario {
  pairs,    // N publishers -> N subscribers, one topic per pair
  fan_in,   // N publishers -> `consumers` members of one $share group
  fan_out,  // 1 publisher -> N subscribers of one topic
  idle,     // N connections that only keep alive; measures broker RSS
  durable,  // as pairs, QoS >= 1, subscribers hold persistent sessions
};

// Parses "pairs", "fan-in", "fan-out", "idle", "durable"; throws
// std::invalid_argument on anything else.
Scenario parse_scenario(const std::string& name);
const char* scenario_name(Scenario s);

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  Scenario scenario = Scenario::pairs;
  std::uint32_t connections = 10;  // pairs, publishers (fan-in), subscribers (fan-out), idle
  std::uint32_t consumers = 1;     // fan-in: members of the shared group
  double rate = 0;                 // messages/s per publisher; 0: as fast as the window allows
  std::uint8_t qos = 0;
  std::uint32_t payload = 64;             // bytes, >= 16 (timestamp + publisher + sequence)
  double duration = 10;                   // seconds measured
  double warmup = 1;                      // seconds run before measuring
  std::string topic = "bench/{run}/{i}";  // {run}: run id, {i}: pair/publisher index
  mqtt::Version version = mqtt::Version::v5;
  std::uint32_t source_ips = 0;  // >0: bind connects to 127.0.0.1 .. 127.0.0.N
  int broker_pid = 0;            // >0: read RSS and CPU of the broker from /proc
  unsigned threads = 2;          // event loops of the load generator
  std::uint16_t inflight = 64;   // QoS 1/2 window per publisher (capped by Receive Maximum)
  double connect_timeout = 60;   // seconds for the whole connect phase
  double drain_timeout = 5;      // seconds to wait for stragglers after publishing stops
  double settle = 2;             // idle: seconds between the last CONNACK and the RSS reading
  bool progress = true;          // one line a second on stderr
};

// Throws std::invalid_argument naming the option that cannot work.
void validate(const Options& options);

}  // namespace allscene::bench
