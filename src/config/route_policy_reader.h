// Reading the per-route policy keys that go beyond path routing: header and
// authority conditions of `match`, weighted `clusters` with an `override`,
// `request_headers` edits and per-message size limits. Internal to the config
// layer; called from the loader's route reader.
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>

#include "config/spec.h"
#include "config/yaml_reader.h"

namespace switchyard::config::detail {

// match.authority: "host", "host:port" or "*.suffix".
void readMatchAuthority(Reader& r, const YAML::Node& n, RouteMatchSpec& m);
// match.headers: [{ name, exact | regex | present }]
void readHeaderMatches(Reader& r, const YAML::Node& n, std::vector<HeaderMatchSpec>& out);
// clusters: [{ name, weight }]
void readWeightedClusters(Reader& r, const YAML::Node& n, std::vector<WeightedClusterSpec>& out);
// override: { header, value, cluster }
ClusterOverrideSpec readClusterOverride(Reader& r, const YAML::Node& n);
// request_headers: { set: {name: value}, add: {name: value}, remove: [name] }
void readHeaderEdits(Reader& r, const YAML::Node& n, HeaderEditSpec& out);
// Reports weighted and override targets that name no defined cluster.
void checkRouteTargets(Reader& r, const RouteSpec& route, const std::set<std::string>& clusters);

}  // namespace switchyard::config::detail
