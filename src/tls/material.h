// All TLS material of one configuration: every listener's server contexts and
// every cluster's client context, built from the files the config names. One
// function builds it for startup, SIGHUP reload and --check-config, so a file
// that passes the check is exactly what the daemon will load.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/spec.h"
#include "tls/client_context.h"
#include "tls/server_context.h"

namespace switchyard::tls {

struct Material {
  std::map<std::string, ListenerTls> listeners;  // by listener name (TLS listeners only)
  std::map<std::string, ClusterTls> clusters;    // by cluster name (TLS clusters only)

  // Every certificate loaded, with where it is used ("listener public").
  struct LoadedCertificate {
    std::string owner;
    CertificateInfo info;
  };
  std::vector<LoadedCertificate> certificates() const;
};
using MaterialPtr = std::shared_ptr<const Material>;

// Errors read "file:line:col: listener NAME: what is wrong".
Result<MaterialPtr> loadMaterial(const config::Config& cfg);

}  // namespace switchyard::tls
