// A listener's TLS: one SSL_CTX per certificate group, the default one
// answering clients without SNI (or with an unknown name) and switching to a
// named group's context from the SNI callback. Every context of a listener
// shares versions, ciphers, client-certificate verification (CA, CRL, depth)
// and the session cache, so whichever is chosen behaves the same.
#pragma once

#include <string>
#include <vector>

#include "config/spec.h"
#include "tls/context.h"

namespace switchyard::tls {

struct ListenerTls {
  SharedSslCtx ctx;  // give this to SSL_new; SNI switches from there
  std::vector<CertificateInfo> certificates;  // every certificate it may present
};

// Loads and checks every file (key matches certificate, CA and CRL parse).
// Errors name the file and OpenSSL's reason.
Result<ListenerTls> makeListenerTls(const config::TlsSpec& spec);

// Whether `name` (lower case) is served by `pattern` ("a.b" or "*.b"); a
// wildcard covers exactly one label.
bool serverNameMatches(const std::string& pattern, const std::string& name);

}  // namespace switchyard::tls
