#include "metrics/rate_limit_series.h"

namespace switchyard::metrics {

void addRateLimitFamilies(const std::map<std::string, RateLimitSum>& sums,
                          std::vector<prometheus::MetricFamily>& out) {
  prometheus::MetricFamily limited;
  limited.name = "switchyard_rate_limited_total";
  limited.help = "RPCs refused with RESOURCE_EXHAUSTED by a route's rate_limit.";
  limited.type = prometheus::MetricType::Counter;
  prometheus::MetricFamily evicted;
  evicted.name = "switchyard_rate_limit_key_evictions_total";
  evicted.help = "Keys with a partly used budget pushed out of a route's full rate-limit key table.";
  evicted.type = prometheus::MetricType::Counter;
  for (const auto& [route, sum] : sums) {
    prometheus::ClientMetric m;
    m.label = {{"route", route}};
    m.counter.value = static_cast<double>(sum.limited);
    limited.metric.push_back(m);
    m.counter.value = static_cast<double>(sum.evicted);
    evicted.metric.push_back(std::move(m));
  }
  out.push_back(std::move(limited));
  out.push_back(std::move(evicted));
}

}  // namespace switchyard::metrics
