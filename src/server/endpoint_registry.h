// EndpointRegistry: the main thread's knowledge about every endpoint: active
// health-check state, outlier ejections (per cluster) and the DNS answers of
// named endpoints. It decides each endpoint's Health; the Server publishes
// that to the workers as part of an immutable Runtime snapshot whenever one
// of the event functions below reports a change. Main thread only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "config/spec.h"
#include "event/clock.h"
#include "metrics/metrics.h"
#include "proxy/runtime.h"
#include "server/runtime_builder.h"
#include "upstream/cluster.h"
#include "upstream/endpoint_key.h"
#include "upstream/health/checker.h"
#include "upstream/health/health_tracker.h"
#include "upstream/health/outlier.h"

namespace switchyard::server {

class EndpointRegistry {
 public:
  // Ejections are timed by `clock` (the main loop's; tests pass a ManualClock).
  explicit EndpointRegistry(metrics::Metrics& metrics, const event::Clock& clock = event::realClock())
      : metrics_(metrics), clock_(clock) {}

  // A new configuration: drops DNS answers of endpoints that are gone and
  // starts outlier detection afresh per cluster.
  void configure(std::shared_ptr<const config::Config> config);
  // Resolves named endpoints seen for the first time (blocking getaddrinfo;
  // after that the DNS refresher keeps them current).
  void resolveNew();
  // From here on, endpoints that appear must pass a health check first.
  void markStarted() { started_ = true; }
  bool started() const { return started_; }

  const ResolvedMap& resolved() const { return resolved_; }
  upstream::Health healthOf(const std::string& cluster, const std::string& address) const;
  // A snapshot built from this state is being published: track exactly its
  // endpoints and return the active health-check targets.
  std::vector<upstream::health::Target> adopt(const proxy::Runtime& runtime);

  // --- events; each returns true when an endpoint's Health changed (publish again).
  bool onCheckResult(const upstream::health::CheckResult& r);
  // A worker saw a run of failures on an endpoint of a cluster of `cluster_size` endpoints.
  bool onFailureBurst(const upstream::EndpointKey& key, size_t cluster_size);
  // Ends ejections whose time is up; *pending says whether any are left.
  bool expireEjections(bool* pending);
  bool onDnsResult(const upstream::EndpointKey& key, std::vector<event::SocketAddress> addresses);

 private:
  struct EndpointState {
    upstream::health::HealthTracker tracker;
    bool checked = false;  // the cluster has active health checks
  };

  metrics::Metrics& metrics_;
  const event::Clock& clock_;
  std::shared_ptr<const config::Config> config_;
  std::map<upstream::EndpointKey, EndpointState> endpoints_;
  std::map<std::string, upstream::health::OutlierTracker> outliers_;  // by cluster
  ResolvedMap resolved_;
  bool started_ = false;  // endpoints seen at startup are trusted until their first check
};

}  // namespace switchyard::server
