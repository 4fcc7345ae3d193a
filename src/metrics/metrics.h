// Metrics: the process-wide metrics registry.
//
// Two kinds of series live here:
//  * per-RPC, per-connection and per-endpoint counters recorded by workers on
//    the data path, in per-worker shards (WorkerStats; see worker_stats.h) that
//    are summed when /metrics is scraped;
//  * rare events from the main thread (health checks, ejections, reloads) in
//    ordinary prometheus-cpp families, which lock internally.
// serialize() renders both in the Prometheus text format. docs/metrics.md lists
// every metric.
//
// Lifetime: Metrics must outlive every worker that records into its shards.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/shard_collector.h"
#include "metrics/worker_stats.h"

namespace switchyard::metrics {

// Values of switchyard_endpoint_health_state.
enum class EndpointHealth : int { Unhealthy = 0, Healthy = 1, Ejected = 2 };

class Metrics {
 public:
  // The caps bound the series each worker may create (see WorkerStats).
  explicit Metrics(size_t max_rpc_series_per_worker = 2000,
                   size_t max_endpoint_series_per_worker = 4096);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Called at startup, once per worker; the shard is then used only by that
  // worker's thread. Thread-safe.
  WorkerStats& addWorker();

  // Main-thread events (thread-safe, but they lock: keep them off the data path).
  // state: 0 unhealthy, 1 healthy, 2 ejected (EndpointHealth).
  void setEndpointHealth(std::string_view cluster, std::string_view address, int state);
  // Drops the endpoint's main-thread series (health state, health checks,
  // ejections) when it leaves the cluster, so DNS churn does not grow them.
  void removeEndpoint(std::string_view cluster, std::string_view address);
  void healthCheckResult(std::string_view cluster, std::string_view address, bool ok);
  void ejection(std::string_view cluster, std::string_view address);
  // Call for the initial load too, so the timestamp is set from startup.
  void configReload(bool ok);

  // All families: main-thread ones, then the merged worker shards.
  std::vector<prometheus::MetricFamily> collect() const;
  // Prometheus text exposition format 0.0.4 (prometheus::TextSerializer).
  std::string serialize() const;

  // Content-Type of serialize()'s output.
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ShardCollector> shards_;
  prometheus::Family<prometheus::Gauge>& endpoint_health_by_state_;
  prometheus::Family<prometheus::Gauge>& endpoint_health_;
  prometheus::Family<prometheus::Counter>& health_checks_;
  prometheus::Family<prometheus::Counter>& ejections_;
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Counter& reloads_ok_;
  prometheus::Counter& reloads_failed_;
  prometheus::Gauge& last_reload_success_time_;
  prometheus::Gauge& last_reload_successful_;
};

}  // namespace switchyard::metrics
