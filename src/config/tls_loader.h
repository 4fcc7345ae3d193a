// The TLS parts of the YAML schema: a listener's tls block (certificates by
// SNI, client authentication, versions and ciphers, handshake timeout), a
// cluster's tls block (TLS to backends) and a route's client-certificate
// requirements. Called by loader.cc; reports through the same Reader.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "config/spec.h"
#include "config/yaml_reader.h"

namespace switchyard::config::detail {

TlsSpec readListenerTls(Reader& r, const YAML::Node& n, const std::filesystem::path& base);
UpstreamTlsSpec readClusterTls(Reader& r, const YAML::Node& n, const std::filesystem::path& base);
// require_client_cert and allowed_sans of a route, when present.
void readRouteClientCert(Reader& r, const Fields& f, RouteSpec& rt);

}  // namespace switchyard::config::detail
