// ClusterTable: one worker's view of the clusters: a round-robin cursor per
// cluster and a connection pool per endpoint. Rebuilt from each new Runtime;
// pools of endpoints that disappear are drained, not cut, so their RPCs finish.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/edge_limits.h"
#include "proxy/cluster_choice.h"
#include "proxy/runtime.h"
#include "upstream/least_request.h"
#include "upstream/endpoint_key.h"
#include "upstream/pool.h"
#include "upstream/round_robin.h"
#include "upstream/weighted_round_robin.h"

namespace switchyard::metrics {
class WorkerStats;
}

namespace switchyard::proxy {

// Per-worker, per-cluster load counters for the retry budget. Entries live as
// long as the worker (cluster names are few), so RPCs may hold raw pointers.
struct ClusterCounters {
  uint32_t active_rpcs = 0;
  uint32_t active_retries = 0;
};

class ClusterTable {
 public:
  // Receives (cluster, endpoint address) when passive checks suggest ejection.
  using OutlierSink = std::function<void(const std::string& cluster, const std::string& address)>;

  // `clock` is the worker loop's: its pools' pending timeouts keep time by it.
  ClusterTable(event_base* base, size_t worker_index, event::Clock& clock = event::realClock());
  void setOutlierSink(OutlierSink sink) { outlier_sink_ = std::move(sink); }
  void setStats(metrics::WorkerStats* stats) { stats_ = stats; }
  // How new pools open connections (tests: in memory); set before apply().
  void setConnector(upstream::Connector connector) { connector_ = std::move(connector); }
  ClusterCounters* counters(const std::string& cluster) { return &counters_[cluster]; }
  // Which cluster of a route an RPC goes to (override, weighted split).
  ClusterChoice& choice() { return choice_; }
  ~ClusterTable();

  void apply(const Runtime& runtime);

  struct Pick {
    upstream::Pool* pool = nullptr;
    const upstream::Endpoint* endpoint = nullptr;
    size_t endpoint_index = 0;
  };
  // Next endpoint of the cluster by its lb policy over healthy endpoints (all
  // endpoints while the cluster is below its panic threshold): round_robin,
  // smooth weighted round-robin when endpoint weights differ; least_request,
  // power of two choices, or when weights differ smooth weighted round-robin
  // over weight / (active streams + 1) (Envoy's weighted least request). Skips
  // `exclude` (an endpoint index already tried by this RPC). nullopt when no
  // endpoint is eligible.
  std::optional<Pick> pick(const Runtime& runtime, size_t cluster_index,
                           std::optional<size_t> exclude = std::nullopt);

  // An RPC to `cluster` was refused by one of its circuit breakers.
  void countOverflow(const std::string& cluster, metrics::Overflow limit);

  // Drains every pool (shutdown).
  void drainAll();
  size_t activeUpstreamStreams() const;

 private:
  struct ClusterState {
    upstream::RoundRobin rr;
    upstream::LeastRequest lr;
    upstream::WeightedRoundRobin wrr;  // when endpoint weights differ
    std::vector<upstream::Pool*> pools;  // parallel to the snapshot's endpoints
  };

  event_base* base_;
  size_t worker_index_;
  event::Clock* clock_;
  std::vector<ClusterState> clusters_;
  std::map<upstream::EndpointKey, std::unique_ptr<upstream::Pool>> pools_;
  std::vector<std::unique_ptr<upstream::Pool>> draining_;
  std::map<std::string, ClusterCounters> counters_;
  OutlierSink outlier_sink_;
  ClusterChoice choice_;
  metrics::WorkerStats* stats_ = nullptr;
  upstream::Connector connector_;
};

}  // namespace switchyard::proxy
