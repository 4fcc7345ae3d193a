#include "server/startup_check.h"

#include <cstdio>

#include "config/loader.h"
#include "proxy/route_policies.h"
#include "server/cpu_budget.h"
#include "server/runtime_builder.h"

namespace switchyard::server {
namespace {

// Startup logs a name that does not resolve and keeps retrying it, so the
// check warns instead of failing.
void warnUnresolvable(const config::Config& cfg) {
  for (const auto& c : cfg.clusters) {
    for (const auto& ep : c.endpoints) {
      if (event::makeAddress(ep.host, ep.port)) continue;
      if (auto r = resolveEndpoint(ep); !r.ok()) {
        std::fprintf(stderr, "warning: cluster %s: %s (startup retries it)\n", c.name.c_str(),
                     r.error().c_str());
      }
    }
  }
}

}  // namespace

Result<PreparedConfig> prepareConfig(const config::Config& cfg) {
  auto material = tls::loadMaterial(cfg);  // certificates, keys, CAs, CRLs
  if (!material.ok()) return Error{material.error()};
  auto routes = std::make_shared<const routing::RouteTable>(routing::RouteTable::build(cfg.routes));
  auto policies = proxy::buildRoutePolicies(cfg, *routes);
  if (!policies.ok()) return Error{policies.error()};
  auto schema = schema::loadCatalog(cfg);  // descriptor sets, parsed and linked
  if (!schema.ok()) return Error{schema.error()};
  // The transcoding routes' services and google.api.http rules, checked against the sets.
  auto transcoding = transcode::TranscodingTable::build(cfg, *schema);
  if (!transcoding.ok()) return Error{transcoding.error()};
  return PreparedConfig{*material, std::move(routes), *policies, *schema, *transcoding};
}

int checkConfig(const std::string& path) {
  auto loaded = config::loadFile(path);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.c_str());
    return 1;
  }
  const config::Config& cfg = *loaded.config;
  if (auto prepared = prepareConfig(cfg); !prepared.ok()) {
    std::fprintf(stderr, "%s\n", prepared.error().c_str());
    return 1;
  }
  warnUnresolvable(cfg);
  std::printf("%s: configuration is valid (%s)\n", path.c_str(),
              describeWorkers(cfg.workers).c_str());
  return 0;
}

}  // namespace switchyard::server
