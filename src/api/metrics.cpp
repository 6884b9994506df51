#include "api/metrics.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <limits>

namespace allscene::api {

struct MetricsText::Families {
  std::vector<prometheus::MetricFamily> list;

  prometheus::ClientMetric& add(const std::string& name, const std::string& help,
                                prometheus::MetricType type, const MetricLabels& labels) {
    prometheus::MetricFamily* family = nullptr;
    for (auto& f : list) {
      if (f.name == name) family = &f;
    }
    if (!family) family = &list.emplace_back(prometheus::MetricFamily{name, help, type, {}});
    auto& metric = family->metric.emplace_back();
    for (const auto& [key, value] : labels) metric.label.push_back({key, value});
    return metric;
  }
};

MetricsText::MetricsText() : families_(std::make_unique<Families>()) {}
MetricsText::~MetricsText() = default;

void MetricsText::counter(const std::string& name, const std::string& help, double value,
                          const MetricLabels& labels) {
  families_->add(name, help, prometheus::MetricType::Counter, labels).counter.value = value;
}

void MetricsText::gauge(const std::string& name, const std::string& help, double value,
                        const MetricLabels& labels) {
  families_->add(name, help, prometheus::MetricType::Gauge, labels).gauge.value = value;
}

void MetricsText::histogram(const std::string& name, const std::string& help,
                            std::span<const double> bounds,
                            std::span<const std::uint64_t> cumulative, std::uint64_t count,
                            double sum, const MetricLabels& labels) {
  auto& h = families_->add(name, help, prometheus::MetricType::Histogram, labels).histogram;
  for (std::size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
    h.bucket.push_back({cumulative[i], bounds[i]});
  }
  h.bucket.push_back({count, std::numeric_limits<double>::infinity()});
  h.sample_count = count;
  h.sample_sum = sum;
}

std::string MetricsText::text() const {
  return prometheus::TextSerializer().Serialize(families_->list);
}

}  // namespace allscene::api
