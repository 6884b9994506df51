// What one `allscene bench` run measured, and its two renderings.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "bench/options.hpp"

namespace allscene::bench {

struct Errors {
  std::uint64_t connect = 0;   // TCP connect failed or timed out
  std::uint64_t refused = 0;   // CONNACK or SUBACK refused
  std::uint64_t closed = 0;    // connection lost while the run was going
  std::uint64_t protocol = 0;  // undecodable or unexpected packet, error ack
  std::uint64_t timeouts = 0;  // a phase did not finish in its time bound
  std::uint64_t total() const { return connect + refused + closed + protocol + timeouts; }
};

struct Latency {  // microseconds, from the send timestamp in the payload
  std::uint64_t count = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};

struct Report {
  Options options;
  std::string run_id;
  std::uint32_t connections_planned = 0;
  std::uint32_t connections_ok = 0;
  double connect_seconds = 0;
  double connect_rate = 0;  // CONNACKs per second over the connect phase
  // Whole run (warm-up and drain included): what loss is judged on.
  std::uint64_t sent = 0;
  std::uint64_t received = 0;  // every PUBLISH that arrived, duplicates included
  std::uint64_t expected = 0;  // deliveries the sent messages should cause
  std::uint64_t lost = 0;      // expected minus distinct deliveries
  std::uint64_t duplicates = 0;
  // The measured window only.
  double window_seconds = 0;
  double sent_rate = 0;      // messages/s
  double received_rate = 0;  // messages/s
  Latency latency;
  Errors errors;
  double generator_cpu_seconds = 0;          // over the window
  std::optional<double> broker_cpu_seconds;  // over the window, with --broker-pid
  std::optional<std::uint64_t> broker_rss_before_kib;
  std::optional<std::uint64_t> broker_rss_after_kib;
  std::optional<double> broker_rss_per_connection;  // bytes
};

void print_text(const Report& report, std::ostream& out);
void print_json(const Report& report, std::ostream& out);

}  // namespace allscene::bench
