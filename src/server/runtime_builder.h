// Builds a proxy::Runtime snapshot from a validated Config: compiles the route
// table, resolves each cluster's endpoints (IP literals directly, DNS names to
// all their A/AAAA records) and stamps each endpoint with its health.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/spec.h"
#include "proxy/runtime.h"
#include "schema/descriptor_catalog.h"
#include "tls/material.h"
#include "upstream/endpoint_key.h"

namespace switchyard::server {

// Resolves host:port with getaddrinfo (blocking). An IP literal resolves to itself.
Result<std::vector<event::SocketAddress>> resolveEndpoint(const config::EndpointSpec& ep);

// Returns an endpoint's health given its cluster and "ip:port" address.
using HealthLookup =
    std::function<upstream::Health(const std::string& cluster, const std::string& address)>;

// `resolved` maps (cluster, configured "host:port") to addresses (from the DNS
// refresher); an endpoint missing from it is resolved now.
using ResolvedMap = std::map<upstream::EndpointKey, std::vector<event::SocketAddress>>;

proxy::RuntimePtr buildRuntime(std::shared_ptr<const config::Config> config,
                               std::shared_ptr<const routing::RouteTable> routes,
                               proxy::RoutePoliciesPtr policies, const ResolvedMap& resolved, const HealthLookup& health,
                               uint64_t generation, tls::MaterialPtr tls = nullptr,
                               schema::CatalogPtr schema = nullptr,
                               transcode::TranscodingTablePtr transcoding = nullptr);

// (cluster, "host:port" as configured; IPv6 literals in brackets).
upstream::EndpointKey endpointKey(const std::string& cluster, const config::EndpointSpec& ep);

}  // namespace switchyard::server
