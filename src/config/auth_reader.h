// Reading the `auth` section (JWT providers and API key sets) and the
// per-route `auth` key. Internal to the config layer; called from the loader.
// The key files themselves are read and checked where the policy chains are
// built (proxy/auth_policies.cc), which every load runs.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>

#include "config/spec.h"
#include "config/yaml_reader.h"

namespace switchyard::config::detail {

// auth: { jwt_providers: [...], api_key_sets: [...] }. `resolve` makes a
// file path absolute against the configuration's directory.
void readAuth(Reader& r, const YAML::Node& n, AuthSpec& out,
              const std::function<std::string(const std::string&)>& resolve);
// Route `auth:`: none | { jwt: NAME, require_claims: {claim: value} } | { api_key: NAME }
void readRouteAuth(Reader& r, const YAML::Node& n, RouteAuthSpec& out);
// Reports route auth references to undefined providers or key sets.
void checkRouteAuth(Reader& r, const Config& c);

}  // namespace switchyard::config::detail
