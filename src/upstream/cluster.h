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
};

struct ClusterSnapshot {
  std::shared_ptr<const config::ClusterSpec> spec;
  std::vector<Endpoint> endpoints;
  std::shared_ptr<const tls::ClusterTls> tls;  // null: backends speak h2c

  const std::string& name() const { return spec->name; }
  size_t healthyCount() const;
};

}  // namespace switchyard::upstream
