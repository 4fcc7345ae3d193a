#include "proxy/route_policies.h"

#include <atomic>

#include "proxy/auth_filters.h"
#include "proxy/client_cert_filter.h"
#include "proxy/rate_limit_filter.h"

namespace switchyard::proxy {
namespace {

uint64_t nextPoliciesId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

Result<RoutePoliciesPtr> buildRoutePolicies(const config::Config& cfg, const routing::RouteTable& routes) {
  auto policies = std::make_shared<RoutePolicies>();
  policies->id = nextPoliciesId();
  // -- authentication and authorization: providers and key sets (key files read here)
  auto auth = buildAuthProviders(cfg, &policies->scratch_slots);
  if (!auth.ok()) return Error{auth.error()};
  for (const auto& route : routes.routes()) {
    RequestFilters chain;
    if (route.require_client_cert) chain.push_back(std::make_shared<const ClientCertFilter>());
    // -- authentication and authorization (route `auth:`)
    if (route.index < cfg.routes.size()) {
      if (auto filter = makeAuthFilter(cfg.routes[route.index].auth, *auth)) chain.push_back(std::move(filter));
    }
    // ---- limits: the route's rate_limit (after authentication, so jwt:sub has a subject)
    if (route.index < cfg.routes.size() && cfg.routes[route.index].rate_limit) {
      chain.push_back(std::make_shared<const RateLimitFilter>(*cfg.routes[route.index].rate_limit, route.name,
                                                              randomHashSeed()));
    }
    policies->by_route.push_back(std::move(chain));
  }
  return RoutePoliciesPtr(std::move(policies));
}

}  // namespace switchyard::proxy
