#include "server/runtime_builder.h"

#include <netdb.h>

#include <set>

#include "common/log.h"

namespace switchyard::server {

upstream::EndpointKey endpointKey(const std::string& cluster, const config::EndpointSpec& ep) {
  std::string host = ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host;
  return {cluster, host + ":" + std::to_string(ep.port)};
}

Result<std::vector<event::SocketAddress>> resolveEndpoint(const config::EndpointSpec& ep) {
  if (auto lit = event::makeAddress(ep.host, ep.port)) {
    return std::vector<event::SocketAddress>{*lit};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(ep.port);
  int rc = getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) return Error{"cannot resolve " + ep.host + ": " + gai_strerror(rc)};
  std::vector<event::SocketAddress> out;
  std::set<std::string> seen;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    auto a = event::SocketAddress::fromSockaddr(ai->ai_addr, ai->ai_addrlen);
    if (seen.insert(a.toString()).second) out.push_back(a);
  }
  freeaddrinfo(res);
  return out;
}

proxy::RuntimePtr buildRuntime(std::shared_ptr<const config::Config> config,
                               std::shared_ptr<const routing::RouteTable> routes,
                               proxy::RoutePoliciesPtr policies, const ResolvedMap& resolved, const HealthLookup& health,
                               uint64_t generation, tls::MaterialPtr tls,
                               schema::CatalogPtr schema,
                               transcode::TranscodingTablePtr transcoding) {
  auto rt = std::make_shared<proxy::Runtime>();
  rt->config = config;
  rt->routes = std::move(routes);
  rt->policies = std::move(policies);
  rt->generation = generation;
  rt->schema = std::move(schema);
  rt->transcoding = std::move(transcoding);
  for (const auto& spec : config->clusters) {
    auto cluster = std::make_shared<upstream::ClusterSnapshot>();
    cluster->spec = std::shared_ptr<const config::ClusterSpec>(config, &spec);
    cluster->active_rpcs = upstream::clusterActiveRpcCounter(spec.name);
    cluster->pending_rpcs = upstream::clusterPendingRpcCounter(spec.name);
    if (tls) {
      if (auto it = tls->clusters.find(spec.name); it != tls->clusters.end()) {
        cluster->tls = std::shared_ptr<const tls::ClusterTls>(tls, &it->second);
      }
    }
    std::set<std::string> seen;
    for (const auto& ep : spec.endpoints) {
      upstream::EndpointKey key = endpointKey(spec.name, ep);
      std::vector<event::SocketAddress> addrs;
      if (auto it = resolved.find(key); it != resolved.end()) {
        addrs = it->second;
      } else if (auto r = resolveEndpoint(ep); r.ok()) {
        addrs = std::move(*r);
      } else {
        log::main().warn("cluster {}: {}", spec.name, r.error());
      }
      for (const auto& a : addrs) {
        upstream::Endpoint e;
        e.address = a.toString();
        if (!seen.insert(e.address).second) continue;
        e.origin = key.address;
        e.sockaddr = a;
        e.weight = ep.weight;
        e.health = health ? health(spec.name, e.address) : upstream::Health::Healthy;
        cluster->endpoints.push_back(std::move(e));
      }
    }
    rt->clusters.push_back(std::move(cluster));
  }
  for (const auto& route : rt->routes->routes()) {
    int idx = rt->clusterIndex(route.cluster);
    rt->route_cluster.push_back(idx < 0 ? 0 : static_cast<size_t>(idx));
  }
  return rt;
}

}  // namespace switchyard::server
