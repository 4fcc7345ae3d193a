#include "routing/route_table.h"

#include <algorithm>

#include "grpc/method_path.h"

namespace switchyard::routing {

RouteTable RouteTable::build(const std::vector<config::RouteSpec>& specs) {
  RouteTable t;
  t.routes_.reserve(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const config::RouteSpec& s = specs[i];
    Route r;
    r.index = i;
    r.cluster = s.cluster;
    for (const auto& w : s.clusters) r.clusters.push_back({w.name, w.weight});
    if (r.cluster.empty() && !r.clusters.empty()) r.cluster = r.clusters.front().name;
    if (s.cluster_override) {
      r.cluster_override = ClusterOverride{s.cluster_override->header, s.cluster_override->value,
                                           s.cluster_override->cluster};
    }
    r.conditions = RequestConditions(s.match);
    r.request_headers = HeaderEdits(s.request_headers);
    r.max_request_message_bytes = s.max_request_message_bytes;
    r.max_response_message_bytes = s.max_response_message_bytes;
    r.timeout_default = s.timeout_default;
    r.timeout_max = s.timeout_max;
    r.retry = s.retry;
    r.require_client_cert = s.require_client_cert;
    r.allowed_sans = s.allowed_sans;
    r.stats_methods = s.stats_per_method;
    std::sort(r.stats_methods.begin(), r.stats_methods.end());
    if (!s.match.service.empty()) {
      r.service = s.match.service;
      r.method = s.match.method;
      if (!r.method.empty()) {
        r.name = r.service + "/" + r.method;
        t.exact_["/" + r.name].push_back(i);
      } else {
        r.name = r.service + "/*";
        t.by_service_["/" + r.service + "/"].push_back(i);
      }
    } else if (!s.match.method.empty()) {
      r.method = s.match.method;
      r.name = "invalid:*/" + r.method;  // never matches
    } else {
      r.prefix = s.match.prefix;
      r.name = r.prefix.empty() ? "*" : "prefix:" + r.prefix;
      t.prefixes_.emplace_back(r.prefix, i);
    }
    t.routes_.push_back(std::move(r));
  }
  return t;
}

const Route* RouteTable::match(std::string_view path) const { return match(path, RequestView{}); }

size_t RouteTable::firstAllowed(const std::vector<size_t>& candidates, const RequestView& req) const {
  for (size_t i : candidates) {
    if (routes_[i].conditions.matches(req)) return i;
  }
  return routes_.size();
}

const Route* RouteTable::match(std::string_view path, const RequestView& req) const {
  size_t best = routes_.size();
  if (!exact_.empty()) {
    if (auto it = exact_.find(path); it != exact_.end()) best = firstAllowed(it->second, req);
  }
  if (!by_service_.empty()) {
    if (auto mp = grpc::parseMethodPath(path)) {
      const std::string_view key = path.substr(0, mp->service.size() + 2);  // "/svc/"
      if (auto it = by_service_.find(key); it != by_service_.end()) {
        best = std::min(best, firstAllowed(it->second, req));
      }
    }
  }
  for (const auto& [prefix, index] : prefixes_) {
    if (index >= best) break;
    if (path.starts_with(prefix) && routes_[index].conditions.matches(req)) {
      best = index;
      break;
    }
  }
  return best < routes_.size() ? &routes_[best] : nullptr;
}

}  // namespace switchyard::routing
