// Builds the policy chain of every route (see request_filter.h) from a
// validated configuration. Runs wherever startup runs (prepareConfig: startup,
// --check-config and every reload), so a filter whose inputs are bad (an
// unreadable key file, say) fails the configuration, not an RPC.
#pragma once

#include "common/result.h"
#include "config/spec.h"
#include "proxy/request_filter.h"
#include "routing/route_table.h"

namespace switchyard::proxy {

// One chain per route of `routes` (built from cfg.routes), in this order:
// client certificate, authentication and authorization, limits.
Result<RoutePoliciesPtr> buildRoutePolicies(const config::Config& cfg, const routing::RouteTable& routes);

}  // namespace switchyard::proxy
