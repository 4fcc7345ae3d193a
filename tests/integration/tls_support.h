// TLS test support: a throw-away PKI made with the OpenSSL API at test time
// (CAs, server, client, backend, expired and unknown-CA certificates, a CRL),
// a raw OpenSSL client that reports how a handshake went, gRPC channels with
// client certificates, TLS test backends, and a fixture that starts the
// daemon on hand-written YAML.
#pragma once

#include <openssl/ssl.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "harness.h"

namespace sytest {

// One certificate (and key) to issue.
struct CertRequest {
  std::string name;            // files NAME.crt and NAME.key
  std::string issuer;          // CA name; empty: self-signed CA
  std::string cn;
  std::string san;             // "DNS:localhost,IP:127.0.0.1,URI:spiffe://..."
  std::string eku;             // "serverAuth", "clientAuth", "serverAuth,clientAuth"
  bool rsa = false;            // RSA 2048 instead of ECDSA P-256
  bool expired = false;        // notAfter in the past
  long serial = 0;             // 0: next serial
  bool ca = false;             // an intermediate CA (with an issuer)
};

class Pki {
 public:
  explicit Pki(std::filesystem::path dir) : dir_(std::move(dir)) {}
  // Issues the certificate; false with *error on failure.
  bool Issue(const CertRequest& req, std::string* error);
  // A CRL from CA `issuer` revoking certificate `revoked` (by name); file NAME.crl.
  bool Revoke(const std::string& issuer, const std::vector<std::string>& revoked, const std::string& name,
              std::string* error);
  std::string Crt(const std::string& name) const { return (dir_ / (name + ".crt")).string(); }
  std::string Key(const std::string& name) const { return (dir_ / (name + ".key")).string(); }
  std::string Crl(const std::string& name) const { return (dir_ / (name + ".crl")).string(); }
  std::string Pem(const std::string& name) const { return ReadFile(dir_ / (name + ".crt")); }
  std::string KeyPem(const std::string& name) const { return ReadFile(dir_ / (name + ".key")); }

 private:
  std::filesystem::path dir_;
  long next_serial_ = 1000;
};

// Makes the standard test PKI in dir:
//   ca, other-ca, backend-ca, backend-ca2   CAs
//   server       localhost / 127.0.0.1 (from ca)
//   api, api-rsa api.example.com + *.api.example.com, ECDSA and RSA (from ca)
//   client       clientAuth, URI spiffe://prod/ns/billing/sa/api (from ca)
//   client-other clientAuth, URI spiffe://prod/ns/other/sa/x (from ca)
//   client-unknown  like client, from other-ca
//   client-expired  like client, expired (from ca)
//   client-revoked  like client, revoked by ca.crl (from ca)
//   backend      backend.internal / 127.0.0.1 (from backend-ca)
//   backend2     backend.internal / 127.0.0.1 (from backend-ca2)
//   backend-wrong  wrong.internal (from backend-ca)
//   edge         clientAuth, the proxy's certificate toward backends (from backend-ca)
bool MakeStandardPki(Pki& pki, std::string* error);

// How a raw TLS handshake against the proxy went.
struct ProbeResult {
  bool handshake_ok = false;
  std::string alpn;
  std::string peer_cn;      // CN of the certificate the server presented
  std::string peer_key;     // "EC" or "RSA"
  bool closed_by_server = false;  // after the handshake, the server closed (read EOF/error)
  std::string error;
  bool resumed = false;
};
struct ProbeOptions {
  std::string sni;                      // empty: none
  std::vector<std::string> alpn = {"h2"};
  std::string client_cert, client_key;  // paths; empty: no client certificate
  std::string sigalgs;                  // e.g. "RSA-PSS+SHA256:rsa_pkcs1_sha256" to prefer RSA
  bool tls12 = false;
  bool wait_for_close = false;          // TLS 1.3: read once to see a post-handshake rejection
  SSL_SESSION* session = nullptr;       // offered for resumption
  SSL_SESSION** session_out = nullptr;  // receives the session (caller frees)
};
ProbeResult TlsProbe(const std::string& address, const ProbeOptions& options);

// gRPC channel over TLS trusting ca_pem, with an optional client certificate,
// checking the server name `target`.
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca_pem,
                                          const std::string& cert_pem = "", const std::string& key_pem = "",
                                          const std::string& target = "localhost");

// Starts sy_test_backend with TLS (client_ca non-empty: it requires client certificates).
Backend StartTlsBackend(const TempDir& dir, const std::string& name, const std::string& cert,
                        const std::string& key, const std::string& client_ca = "");

// Fixture: a PKI in the test directory and the daemon started from YAML text.
class TlsProxyTest : public ProxyTest {
 protected:
  void SetUp() override;
  // Writes yaml (with "@ADMIN@" and "@LISTEN@" replaced by loopback addresses
  // with port 0) and starts the daemon; reads the bound ports back from its
  // log (listener "public" and the admin endpoint) and waits until the listener accepts.
  void StartYaml(std::string yaml);
  // yaml with @ADMIN@ and @LISTEN@ replaced.
  std::string Expand(const std::string& yaml) const;
  // Rewrites the config (same @ADMIN@/@LISTEN@) and sends SIGHUP; waits until
  // the reload is logged.
  void ReloadYaml(std::string yaml);
  // One Echo unary call over `channel`; the status.
  grpc::Status Unary(const std::shared_ptr<grpc::Channel>& channel,
                     std::multimap<std::string, std::string>* trailers = nullptr,
                     const std::vector<std::pair<std::string, std::string>>& metadata = {});
  // The daemon's /metrics text.
  std::string Metrics();
  // Sum of a metric's series that carry every label in want.
  double MetricValue(const std::string& name, const std::map<std::string, std::string>& want);

  Pki pki_{dir_.path()};
  std::string admin_;          // as configured (port 0)
  std::string listen_;         // as configured (port 0)
  std::string admin_address_;  // as bound
  std::vector<Backend> tls_backends_;
};

}  // namespace sytest
