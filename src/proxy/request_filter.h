// RequestFilter: one step of an RPC's policy phase, which runs after the route
// is matched and before a cluster is chosen:
//
//   validate → match route → policy: client certificate → authenticate
//     → authorize → limit → choose cluster → deadline → balance → attempt
//
// A filter sees the request headers, the matched route and the connection's
// identity, and either lets the RPC go on or answers it with a gRPC status
// (sent as Trailers-Only, HTTP 200). Each route has its own ordered chain
// (RoutePolicies), built once per configuration load, so a filter's state
// (a rate limiter's buckets, a key set) outlives health-driven runtime
// rebuilds and is replaced only by a reload. Filters are shared by every
// worker: they keep process-wide state in atomics and per-worker state
// (caches) in the PolicyScratch the RPC hands them. They must not block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grpc/local_reply.h"
#include "grpc/status_code.h"
#include "http2/headers.h"
#include "proxy/policy_scratch.h"

namespace switchyard::metrics {
class WorkerStats;
}
namespace switchyard::routing {
struct Route;
}
namespace switchyard::tls {
struct PeerIdentity;
}

namespace switchyard::proxy {

// What earlier steps learnt about the caller, for later steps (a rate-limit
// key by subject) and for the access log.
struct PolicyFacts {
  std::string subject;  // the authenticated principal (e.g. a JWT `sub`); empty if none
  // Fields a filter adds to the request sent upstream (e.g. forwarded JWT
  // claims); a filter removes any client-sent copy from the headers itself.
  std::vector<std::pair<std::string, std::string>> upstream_headers;
};

// What a filter sees of the RPC, and what it may change.
struct PolicyRequest {
  http2::HeaderList& headers;     // may be edited (credentials stripped, claims forwarded)
  const routing::Route& route;    // the matched route
  std::string_view listener;      // the listener's name
  std::string_view peer_ip;       // the client's address
  const tls::PeerIdentity* peer;  // the verified client certificate, or null
  PolicyFacts& facts;
  PolicyScratch& scratch;         // this worker's filter state
  metrics::WorkerStats* stats;    // may be null (tests, metrics off)
};

// A proxy-made answer that ends the RPC before it reaches a backend.
struct LocalAnswer {
  grpc::StatusCode code;
  std::string message;
  std::vector<grpc::HeaderField> trailers;  // extra metadata, e.g. grpc-retry-pushback-ms
};

class RequestFilter {
 public:
  virtual ~RequestFilter() = default;
  // nullopt: on to the next step; a value: the RPC ends with it.
  virtual std::optional<LocalAnswer> onRequest(PolicyRequest& request) const = 0;
};

using RequestFilters = std::vector<std::shared_ptr<const RequestFilter>>;

// The policy chains of one configuration: one ordered chain per route,
// indexed like the route table.
struct RoutePolicies {
  std::vector<RequestFilters> by_route;
  // Tells this configuration's filter state apart from an earlier one's in
  // each worker's PolicyScratch (see there). Unique per process.
  uint64_t id = 0;
  // PolicyScratch slots the filters use (see PolicyScratch::slot).
  size_t scratch_slots = 0;

  const RequestFilters* chainFor(size_t route_index) const {
    return route_index < by_route.size() ? &by_route[route_index] : nullptr;
  }
};

using RoutePoliciesPtr = std::shared_ptr<const RoutePolicies>;

}  // namespace switchyard::proxy
