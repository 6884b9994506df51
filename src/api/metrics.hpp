// MetricsText: the Prometheus text exposition format (version 0.0.4) for
// GET /metrics, written by prometheus-cpp's serializer from values read
// off the hub's own counters at scrape time (the counters stay where they
// are kept: broker shards, the store, the service host).
//
// Not thread-safe; build one per scrape.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace allscene::api {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsText {
 public:
  MetricsText();
  ~MetricsText();
  MetricsText(const MetricsText&) = delete;
  MetricsText& operator=(const MetricsText&) = delete;

  // Samples of one name share its family (help and type of the first).
  void counter(const std::string& name, const std::string& help, double value,
               const MetricLabels& labels = {});
  void gauge(const std::string& name, const std::string& help, double value,
             const MetricLabels& labels = {});
  // `cumulative[i]`: observations <= bounds[i]; `count` all of them (+Inf).
  void histogram(const std::string& name, const std::string& help, std::span<const double> bounds,
                 std::span<const std::uint64_t> cumulative, std::uint64_t count, double sum,
                 const MetricLabels& labels = {});

  std::string text() const;

 private:
  struct Families;
  std::unique_ptr<Families> families_;
};

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace allscene::api
