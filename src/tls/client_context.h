// TLS toward backends: a cluster's client context (trust store, optional
// client certificate, versions, ALPN h2) and the per-connection SSL with SNI,
// hostname (or IP) verification and a resumable session.
#pragma once

#include <string>

#include "config/spec.h"
#include "tls/context.h"

namespace switchyard::tls {

using SessionPtr = CHandle<SSL_SESSION, SSL_SESSION_free>;

struct ClusterTls {
  SharedSslCtx ctx;
  std::string server_name;  // from the config; empty: each endpoint's host
  bool verify = true;
  bool session_resumption = true;
  std::vector<CertificateInfo> certificates;  // the client certificate, if any
};

// Loads and checks the CA bundle (or the system store) and client certificate.
Result<ClusterTls> makeClusterTls(const config::UpstreamTlsSpec& spec);

// One worker's most recent session with one endpoint, offered on the next
// connection. Filled from OpenSSL's new-session callback; worker thread only.
class SessionSlot {
 public:
  SSL_SESSION* get() const { return session_.get(); }
  void set(SSL_SESSION* s) { session_.reset(s); }

 private:
  SessionPtr session_;
};

// A client SSL for one connection: SNI and the verified name are `name` (a DNS
// name, or an IP literal checked against IP SANs). `slot` (may be null)
// supplies and receives the session; it must outlive the SSL.
SslPtr newClientSsl(const ClusterTls& tls, const std::string& name, SessionSlot* slot);

// Why the handshake of a failed client SSL failed, for logs and RPC messages
// ("certificate verify failed: Hostname mismatch").
std::string clientFailureDetail(SSL* ssl, unsigned long openssl_error);

}  // namespace switchyard::tls
