// The grpc_service / grpc_method labels an RPC is counted under. The operator
// decides which methods get series of their own, so a client inventing paths
// cannot grow /metrics:
//   - a route with match.method: its service and method;
//   - any other route: the method's own labels only if the route lists it in
//     stats.per_method; otherwise the route's service (match.service, or the
//     route's name for prefix and catch-all routes) and method "other";
//   - no route: "unmatched" / "unmatched" (decided by the caller).
// Pure: no I/O, no allocation.
#pragma once

#include <string_view>

#include "routing/route_table.h"

namespace switchyard::routing {

inline constexpr std::string_view kOtherMethod = "other";
inline constexpr std::string_view kUnmatched = "unmatched";

struct MetricLabels {
  std::string_view service;  // views into `route` or `path`
  std::string_view method;
};

MetricLabels metricLabels(const Route& route, std::string_view path);

}  // namespace switchyard::routing
