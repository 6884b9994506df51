// GET /metrics for the running hub: reads the broker's shard counters, the
// session store's commit statistics, the service host's per-operation
// counts and the registry's devices at scrape time, and writes them in
// Prometheus' text format (names and meanings in docs/operations.md).
#pragma once

#include <chrono>
#include <string>

#include "broker/broker.hpp"
#include "registry/presence.hpp"
#include "registry/registry.hpp"
#include "services/host.hpp"
#include "store/sqlite_store.hpp"

namespace allscene::hub {

struct MetricSources {
  const broker::Broker& broker;
  const store::SqliteStore* store;  // null with durability "none"
  const services::ServiceHost& services;
  const registry::Registry& registry;
  const registry::Presence& presence;
  std::chrono::steady_clock::time_point started;
};

// Any thread (every source is read through its thread-safe readers).
std::string hub_metrics(const MetricSources& sources);

}  // namespace allscene::hub
