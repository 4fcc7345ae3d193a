// ShardCollector: owns the per-worker WorkerStats shards and, at scrape time,
// sums them into Prometheus metric families. It is the only reader of the
// shards; it never blocks a worker except on the registration mutex, which a
// worker takes only when it creates a new series.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "metrics/worker_stats.h"

namespace switchyard::metrics {

class ShardCollector : public prometheus::Collectable {
 public:
  ShardCollector(size_t max_rpc_series_per_worker, size_t max_endpoint_series_per_worker);
  ~ShardCollector() override;

  // Thread-safe. The shard lives as long as the collector.
  WorkerStats& addShard();

  // Thread-safe. One family per metric, series sorted by labels; values are
  // the sums over all shards.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const size_t max_rpc_series_;
  const size_t max_endpoint_series_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<WorkerStats>> shards_;
};

}  // namespace switchyard::metrics
