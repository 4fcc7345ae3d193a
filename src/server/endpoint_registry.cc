#include "server/endpoint_registry.h"

#include <algorithm>

#include "common/log.h"
#include "upstream/tls_settings.h"

namespace switchyard::server {
namespace {

metrics::EndpointHealth healthMetric(upstream::Health h) {
  switch (h) {
    case upstream::Health::Healthy: return metrics::EndpointHealth::Healthy;
    case upstream::Health::Ejected: return metrics::EndpointHealth::Ejected;
    case upstream::Health::Unhealthy: return metrics::EndpointHealth::Unhealthy;
  }
  return metrics::EndpointHealth::Unhealthy;
}

}  // namespace

void EndpointRegistry::configure(std::shared_ptr<const config::Config> config) {
  config_ = std::move(config);
  // Resolved names of endpoints that no longer exist are dropped; the rest are
  // re-resolved by buildRuntime when missing.
  std::erase_if(resolved_, [&](const auto& kv) {
    for (const auto& c : config_->clusters) {
      for (const auto& ep : c.endpoints) {
        if (endpointKey(c.name, ep) == kv.first) return false;
      }
    }
    return true;
  });
  outliers_.clear();
  for (const auto& c : config_->clusters) {
    outliers_.emplace(c.name, upstream::health::OutlierTracker(c.outlier_detection));
  }
}

void EndpointRegistry::resolveNew() {
  for (const auto& c : config_->clusters) {
    for (const auto& ep : c.endpoints) {
      if (event::makeAddress(ep.host, ep.port)) continue;
      upstream::EndpointKey key = endpointKey(c.name, ep);
      if (resolved_.count(key)) continue;
      if (auto r = resolveEndpoint(ep); r.ok()) {
        resolved_[key] = std::move(*r);
      } else {
        // No addresses until the DNS refresher gets an answer.
        log::main().warn("cluster {}: {}", c.name, r.error());
        resolved_[key] = {};
      }
    }
  }
}

upstream::Health EndpointRegistry::healthOf(const std::string& cluster,
                                            const std::string& address) const {
  if (auto o = outliers_.find(cluster); o != outliers_.end() && o->second.ejected(address)) {
    return upstream::Health::Ejected;
  }
  auto it = endpoints_.find(upstream::EndpointKey{cluster, address});
  if (it == endpoints_.end()) {
    // Not seen before: trusted at startup, must pass a check when added later.
    const config::ClusterSpec* spec = nullptr;
    for (const auto& c : config_->clusters) {
      if (c.name == cluster) spec = &c;
    }
    if (spec != nullptr && spec->health_check.enabled && started_) return upstream::Health::Unhealthy;
    return upstream::Health::Healthy;
  }
  if (it->second.checked && !it->second.tracker.eligible()) return upstream::Health::Unhealthy;
  return upstream::Health::Healthy;
}

std::vector<upstream::health::Target> EndpointRegistry::adopt(const proxy::Runtime& rt) {
  std::map<upstream::EndpointKey, EndpointState> next;
  std::vector<upstream::health::Target> targets;
  for (const auto& c : rt.clusters) {
    const auto& hc = c->spec->health_check;
    for (const auto& e : c->endpoints) {
      upstream::EndpointKey key{c->name(), e.address};
      auto it = endpoints_.find(key);
      if (it != endpoints_.end() && it->second.checked == hc.enabled) {
        next.emplace(key, std::move(it->second));
      } else {
        EndpointState st{upstream::health::HealthTracker(hc.healthy_threshold, hc.unhealthy_threshold,
                                                         /*start_optimistic=*/!started_),
                         hc.enabled};
        next.emplace(key, std::move(st));
      }
      metrics_.setEndpointHealth(c->name(), e.address, static_cast<int>(healthMetric(e.health)));
      if (hc.enabled) {
        targets.push_back(upstream::health::Target{c->name(), e.address, hc, {},
                                                   upstream::endpointConnectionSettings(*c, e)});
      }
    }
  }
  for (const auto& [key, st] : endpoints_) {
    if (next.count(key)) continue;
    metrics_.removeEndpoint(key.cluster, key.address);
    if (auto o = outliers_.find(key.cluster); o != outliers_.end()) o->second.forget(key.address);
    log::main().info("cluster {}: endpoint {} removed", key.cluster, key.address);
  }
  endpoints_ = std::move(next);
  return targets;
}

bool EndpointRegistry::onCheckResult(const upstream::health::CheckResult& r) {
  auto it = endpoints_.find(upstream::EndpointKey{r.cluster, r.address});
  if (it == endpoints_.end()) return false;
  metrics_.healthCheckResult(r.cluster, r.address, r.passed);
  auto& tracker = it->second.tracker;
  bool was = tracker.eligible();
  if (r.force_unhealthy) {
    tracker.forceUnhealthy();
  } else if (r.force_healthy) {
    tracker.forceHealthy();
  } else {
    tracker.record(r.passed);
  }
  if (tracker.eligible() == was) return false;
  if (tracker.eligible()) {
    log::main().info("cluster {}: endpoint {} is healthy ({})", r.cluster, r.address, r.reason);
  } else {
    log::main().warn("cluster {}: endpoint {} is unhealthy ({})", r.cluster, r.address, r.reason);
  }
  return true;
}

bool EndpointRegistry::onFailureBurst(const upstream::EndpointKey& key, size_t cluster_size) {
  auto o = outliers_.find(key.cluster);
  if (o == outliers_.end()) return false;
  auto ejected_for =
      o->second.onFailureBurst(key.address, cluster_size, clock_.now());
  if (!ejected_for) return false;
  log::main().warn("cluster {}: endpoint {} ejected for {} after consecutive failures",
                   key.cluster, key.address, formatDuration(*ejected_for));
  metrics_.ejection(key.cluster, key.address);
  return true;
}

bool EndpointRegistry::expireEjections(bool* pending) {
  bool any = false;
  *pending = false;
  for (auto& [cluster, tracker] : outliers_) {
    for (const auto& address : tracker.expire(clock_.now())) {
      log::main().info("cluster {}: endpoint {} returns from ejection", cluster, address);
      any = true;
    }
    *pending = *pending || tracker.ejectedCount() > 0;
  }
  return any;
}

bool EndpointRegistry::onDnsResult(const upstream::EndpointKey& key,
                                   std::vector<event::SocketAddress> addresses) {
  auto& current = resolved_[key];
  auto str = [](const std::vector<event::SocketAddress>& v) {
    std::vector<std::string> out;
    for (const auto& a : v) out.push_back(a.toString());
    std::sort(out.begin(), out.end());
    return out;
  };
  if (str(current) == str(addresses)) return false;
  log::main().info("dns: {}|{} now resolves to {} address(es)", key.cluster, key.address,
                   addresses.size());
  current = std::move(addresses);
  return true;
}

}  // namespace switchyard::server
