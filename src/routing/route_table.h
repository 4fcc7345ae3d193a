// The route table: maps a request :path to the first configured route that
// matches it. Built once per configuration (and per reload) from the validated
// config; read-only afterwards, so it can be shared by all workers.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "config/spec.h"
#include "routing/header_edits.h"
#include "routing/request_match.h"

namespace switchyard::routing {

struct WeightedCluster {
  std::string name;
  uint32_t weight = 1;
};

struct ClusterOverride {
  std::string header;
  std::string value;  // "" = presence is enough
  std::string cluster;
};

struct Route {
  size_t index = 0;  // position in the configured route list
  std::string cluster;  // the single cluster, or the first of a weighted split
  std::vector<WeightedCluster> clusters;  // the split; empty for a single cluster
  std::optional<ClusterOverride> cluster_override;
  RequestConditions conditions;  // authority and header conditions
  HeaderEdits request_headers;
  uint64_t max_request_message_bytes = 0;   // 0 = no limit
  uint64_t max_response_message_bytes = 0;  // 0 = no limit
  std::optional<Duration> timeout_default;
  std::optional<Duration> timeout_max;
  std::optional<config::RetryPolicySpec> retry;
  bool require_client_cert = false;       // a verified client certificate is required
  std::vector<std::string> allowed_sans;  // patterns (routing/san_match.h); empty: any
  std::string service;  // set for exact-method and whole-service routes
  std::string method;   // set for exact-method routes
  std::string prefix;   // set for prefix routes
  // A human label for metrics and logs:
  //   "helloworld.Greeter/SayHello", "helloworld.Greeter/*",
  //   "prefix:/grpc.reflection.", or "*" for a route with an empty match
  //   (which matches every path).
  std::string name;
  // Methods with their own metric series ("pkg.Service/Method"), sorted.
  std::vector<std::string> stats_methods;
};

class RouteTable {
 public:
  // One Route per spec, in spec order (Route::index == position in `specs`).
  // The kind of match follows from which fields are set:
  //   service + method -> exact method: path == "/" service "/" method
  //   service only     -> whole service: "/" service "/" <method>, where
  //                       <method> is non-empty (see grpc::parseMethodPath)
  //   prefix only      -> path.starts_with(prefix)
  //   nothing          -> matches every path
  // If both service and prefix are set, service wins and prefix is ignored.
  // A method without a service is invalid; such a route is kept in routes()
  // (so indexes line up) but never matches. The config loader is expected to
  // reject both cases before this point.
  static RouteTable build(const std::vector<config::RouteSpec>& specs);

  // The first route in spec order whose path match and conditions
  // (authority, headers) both hold, or nullptr.
  const Route* match(std::string_view path, const RequestView& req) const;

  // The first route in spec order that matches `path`, or nullptr. Routes
  // with authority or header conditions never match here.
  // Case-sensitive. No allocation: exact and service routes are found through
  // hash maps keyed by the precomputed "/svc/method" and "/svc/" strings, and
  // only prefix routes that come before the best hash hit are scanned, which
  // keeps first-match-wins across all three kinds.
  const Route* match(std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  // key -> route indexes with that key, in spec order
  using Index = std::unordered_map<std::string, std::vector<size_t>, StringHash, std::equal_to<>>;

  // The first of `candidates` whose conditions hold, or routes_.size().
  size_t firstAllowed(const std::vector<size_t>& candidates, const RequestView& req) const;

  std::vector<Route> routes_;
  Index exact_;       // "/svc/method" -> first route index with that key
  Index by_service_;  // "/svc/" -> first route index with that key
  std::vector<std::pair<std::string, size_t>> prefixes_;  // in spec order
};

}  // namespace switchyard::routing
