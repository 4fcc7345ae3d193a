// What startup builds from a validated config before it binds any socket
// (all TLS material: listener and cluster contexts; the descriptor sets), and --check-config,
// which runs exactly that plus the command-line checks and name resolution,
// so that a file the check passes does not fail at startup or on reload. Server::apply calls prepareConfig too:
// anything startup must build before binding belongs in prepareConfig, not in
// a copy here.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "config/spec.h"
#include "proxy/request_filter.h"
#include "routing/route_table.h"
#include "schema/descriptor_catalog.h"
#include "tls/material.h"
#include "transcode/transcoding_table.h"

namespace switchyard::server {

struct PreparedConfig {
  tls::MaterialPtr tls;  // never null
  std::shared_ptr<const routing::RouteTable> routes;  // never null
  proxy::RoutePoliciesPtr policies;                   // never null
  schema::CatalogPtr schema;                          // the descriptor sets; null without any
  transcode::TranscodingTablePtr transcoding;         // null without json_transcoding routes
};

// Builds every context startup needs (TLS, the route table, each route's
// policy chain); errors read "file:line:col: listener X: why".
Result<PreparedConfig> prepareConfig(const config::Config& cfg);

// --check-config: loads the file, validates the command-line overrides, runs
// prepareConfig, and resolves endpoint names (a name
// that does not resolve is a warning, as at startup). Prints errors to stderr
// and the verdict to stdout. Returns the exit status: 0 valid, 1 invalid.
int checkConfig(const std::string& path);

}  // namespace switchyard::server
