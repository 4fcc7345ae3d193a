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
        t.exact_.emplace("/" + r.name, i);  // keeps the earlier route on duplicates
      } else {
        r.name = r.service + "/*";
        t.by_service_.emplace("/" + r.service + "/", i);
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

const Route* RouteTable::match(std::string_view path) const {
  size_t best = routes_.size();
  if (!exact_.empty()) {
    if (auto it = exact_.find(path); it != exact_.end()) best = it->second;
  }
  if (!by_service_.empty()) {
    if (auto mp = grpc::parseMethodPath(path)) {
      const std::string_view key = path.substr(0, mp->service.size() + 2);  // "/svc/"
      if (auto it = by_service_.find(key); it != by_service_.end() && it->second < best) {
        best = it->second;
      }
    }
  }
  for (const auto& [prefix, index] : prefixes_) {
    if (index >= best) break;
    if (path.starts_with(prefix)) {
      best = index;
      break;
    }
  }
  return best < routes_.size() ? &routes_[best] : nullptr;
}

}  // namespace switchyard::routing
