// Builds a proxy::Runtime snapshot from a validated Config: compiles the route
// table, resolves each cluster's endpoints (IP literals directly, DNS names to
// all their A/AAAA records) and stamps each endpoint with its health.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/spec.h"
#include "proxy/runtime.h"
#include "tls/material.h"

namespace switchyard::server {

// Resolved addresses of one configured endpoint ("ip:port" strings + sockaddrs).
struct ResolvedEndpoint {
  std::string origin;  // as configured: "host:port"
  std::vector<event::SocketAddress> addresses;
};

// Resolves host:port with getaddrinfo (blocking). An IP literal resolves to itself.
Result<std::vector<event::SocketAddress>> resolveEndpoint(const config::EndpointSpec& ep);

// Returns an endpoint's health given its cluster and "ip:port" address.
using HealthLookup =
    std::function<upstream::Health(const std::string& cluster, const std::string& address)>;

// `resolved` maps "cluster|host:port" to addresses (from the DNS refresher); an
// endpoint missing from it is resolved now.
using ResolvedMap = std::unordered_map<std::string, std::vector<event::SocketAddress>>;

proxy::RuntimePtr buildRuntime(std::shared_ptr<const config::Config> config,
                               std::shared_ptr<const routing::RouteTable> routes,
                               const ResolvedMap& resolved, const HealthLookup& health,
                               uint64_t generation, tls::MaterialPtr tls = nullptr);

std::string endpointKey(const std::string& cluster, const config::EndpointSpec& ep);

}  // namespace switchyard::server
