#include "proxy/cluster_table.h"

#include <algorithm>
#include <set>

#include "metrics/worker_stats.h"
#include "upstream/tls_settings.h"

namespace switchyard::proxy {

ClusterTable::ClusterTable(event_base* base, size_t worker_index, event::Clock& clock)
    : base_(base), worker_index_(worker_index), clock_(&clock) {}

ClusterTable::~ClusterTable() = default;

void ClusterTable::apply(const Runtime& runtime) {
  choice_.apply(runtime);
  std::vector<ClusterState> next(runtime.clusters.size());
  std::set<upstream::EndpointKey> live;
  for (size_t ci = 0; ci < runtime.clusters.size(); ++ci) {
    const auto& cluster = *runtime.clusters[ci];
    const auto& spec = *cluster.spec;
    if (stats_ != nullptr) stats_->cluster(spec.name);  // overflow series exist from the start
    // Keep each cluster's rotation where it was across reloads; start each
    // worker at a different offset so workers do not pick in lockstep.
    if (ci < clusters_.size()) {
      next[ci].rr = clusters_[ci].rr;
      next[ci].lr = clusters_[ci].lr;
      next[ci].wrr = clusters_[ci].wrr;
    } else {
      next[ci].rr = upstream::RoundRobin(worker_index_);
      next[ci].lr = upstream::LeastRequest(0x9E3779B97F4A7C15ULL * (worker_index_ + 1));
    }
    for (const auto& ep : cluster.endpoints) {
      upstream::ConnectionSettings cs = upstream::endpointConnectionSettings(cluster, ep);
      cs.pending_count = cluster.pending_rpcs;  // the process's, per cluster
      cs.clock = clock_;
      upstream::EndpointKey key{spec.name, ep.address};
      live.insert(key);
      auto it = pools_.find(key);
      if (it == pools_.end()) {
        it = pools_
                 .emplace(key, std::make_unique<upstream::Pool>(base_, ep.address, ep.sockaddr, cs,
                                                                spec.max_connections_per_endpoint))
                 .first;
        if (connector_) it->second->setConnector(connector_);
      } else {
        it->second->updateSettings(std::move(cs));
      }
      if (spec.outlier_detection.enabled && outlier_sink_) {
        std::string cluster_name = spec.name;
        it->second->setOutlierCallback(
            spec.outlier_detection.consecutive_failures,
            [sink = outlier_sink_, cluster_name](const std::string& address) {
              sink(cluster_name, address);
            });
      } else {
        it->second->setOutlierCallback(0, nullptr);
      }
      if (stats_ != nullptr) it->second->setStats(stats_->endpoint(spec.name, ep.address));
      next[ci].pools.push_back(it->second.get());
    }
  }
  for (auto it = pools_.begin(); it != pools_.end();) {
    if (live.count(it->first) == 0) {
      it->second->drain();
      if (!it->second->idle()) draining_.push_back(std::move(it->second));
      it = pools_.erase(it);
    } else {
      ++it;
    }
  }
  // Forget drained pools whose connections are all gone.
  std::erase_if(draining_, [](const auto& p) { return p->idle(); });
  clusters_ = std::move(next);
}

std::optional<ClusterTable::Pick> ClusterTable::pick(const Runtime& runtime, size_t cluster_index,
                                                     std::optional<size_t> exclude) {
  if (cluster_index >= clusters_.size()) return std::nullopt;
  auto& state = clusters_[cluster_index];
  const auto& cluster = *runtime.clusters[cluster_index];
  const auto& eps = cluster.endpoints;
  size_t n = eps.size();
  uint32_t panic = cluster.spec->panic_threshold;
  bool panic_mode = panic > 0 && cluster.healthyCount() * 100 < panic * n;
  auto eligible = [&](size_t i) {
    if (exclude == i && n > 1) return false;
    return panic_mode || eps[i].health == upstream::Health::Healthy;
  };
  auto active = [&](size_t i) { return state.pools[i]->activeStreams(); };
  bool least_request = cluster.spec->lb == "least_request";
  std::optional<size_t> idx;
  if (!cluster.weighted()) {
    idx = least_request ? state.lr.pick(n, eligible, active) : state.rr.pick(n, eligible);
  } else if (least_request) {
    // Scaled so that weight 1 with many streams in flight still counts.
    constexpr uint64_t kScale = 1024;
    idx = state.wrr.pick(n, eligible, [&](size_t i) {
      return std::max<uint64_t>(1, eps[i].weight * kScale / (active(i) + 1));
    });
  } else {
    idx = state.wrr.pick(n, eligible, [&](size_t i) { return eps[i].weight; });
  }
  if (!idx) return std::nullopt;
  return Pick{state.pools[*idx], &eps[*idx], *idx};
}

void ClusterTable::drainAll() {
  for (auto& [key, pool] : pools_) pool->drain();
}

void ClusterTable::countOverflow(const std::string& cluster, metrics::Overflow limit) {
  if (stats_ != nullptr) stats_->cluster(cluster)->overflow(limit);
}

size_t ClusterTable::activeUpstreamStreams() const {
  size_t n = 0;
  for (const auto& [key, pool] : pools_) n += pool->activeStreams();
  for (const auto& pool : draining_) n += pool->activeStreams();
  return n;
}

}  // namespace switchyard::proxy
