// Per-worker counters of the local rate limiter, one series per route label:
// RPCs refused over the limit, and live keys pushed out of a full key table.
// Written only by the owning worker (see ShardCounter); summed over the
// shards at scrape time as switchyard_rate_limited_total{route} and
// switchyard_rate_limit_key_evictions_total{route}.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

#include "metrics/worker_stats.h"

namespace switchyard::metrics {

class alignas(64) RateLimitSeries {
 public:
  explicit RateLimitSeries(std::string_view route) : route_(route) {}
  RateLimitSeries(const RateLimitSeries&) = delete;
  RateLimitSeries& operator=(const RateLimitSeries&) = delete;

  void limited() { limited_.add(1); }
  void evicted() { evicted_.add(1); }

  const std::string& route() const { return route_; }
  uint64_t limitedCount() const { return limited_.value(); }
  uint64_t evictedCount() const { return evicted_.value(); }

 private:
  const std::string route_;
  ShardCounter limited_;
  ShardCounter evicted_;
};

// Scrape side: sums of all shards by route.
struct RateLimitSum {
  uint64_t limited = 0;
  uint64_t evicted = 0;
};
void addRateLimitFamilies(const std::map<std::string, RateLimitSum>& sums,
                          std::vector<prometheus::MetricFamily>& out);

}  // namespace switchyard::metrics
