// Immutable view of one cluster, as published to the workers: its settings
// and its endpoints with their current health. A new ClusterSnapshot is made
// whenever membership or health changes; workers never see one mutate.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/spec.h"
#include "event/socket_address.h"
#include "tls/client_context.h"
#include "upstream/circuit_breaker.h"

namespace switchyard::upstream {

enum class Health {
  Healthy,    // eligible for new RPCs
  Unhealthy,  // failed active health checks (or not yet passed them)
  Ejected,    // removed for a while by outlier detection
};
const char* toString(Health h);

struct Endpoint {
  std::string address;  // "ip:port" / "[ip]:port", the key for pools and metrics
  std::string origin;   // the configured endpoint it came from (may be a DNS name)
  event::SocketAddress sockaddr;
  Health health = Health::Healthy;
  uint32_t weight = 1;  // the configured endpoint's weight (1..128)
};

struct ClusterSnapshot {
  std::shared_ptr<const config::ClusterSpec> spec;
  std::vector<Endpoint> endpoints;
  std::shared_ptr<const tls::ClusterTls> tls;  // null: backends speak h2c
  // RPCs in flight to this cluster over all workers (circuit_breaker.max_active_rpcs).
  // The server shares one counter per cluster name across snapshots and reloads.
  std::shared_ptr<ActiveRpcCounter> active_rpcs = std::make_shared<ActiveRpcCounter>(0);
  // RPCs waiting for a stream slot on this cluster's connections, over all
  // workers (circuit_breaker.max_pending); shared the same way.
  std::shared_ptr<PendingRpcCounter> pending_rpcs = std::make_shared<PendingRpcCounter>(0);

  const std::string& name() const { return spec->name; }
  size_t healthyCount() const;
  // True when the endpoints do not all have the same weight.
  bool weighted() const;
};

}  // namespace switchyard::upstream
