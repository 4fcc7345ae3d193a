#include "tls_support.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "ops_support.h"

namespace sytest {
namespace {

namespace fs = std::filesystem;

std::string OpensslError() {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

X509* LoadCert(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return nullptr;
  X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return x;
}

EVP_PKEY* LoadKey(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return nullptr;
  EVP_PKEY* k = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  return k;
}

template <class T, class Fn>
bool WritePem(const std::string& path, T* obj, Fn write) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  bool ok = write(f, obj) == 1;
  std::fclose(f);
  return ok;
}

int WriteKey(FILE* f, EVP_PKEY* k) { return PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr); }

std::string SubjectCn(X509* cert) {
  char buf[256] = {0};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return buf;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

}  // namespace

bool Pki::Issue(const CertRequest& req, std::string* error) {
  EVP_PKEY* key = req.rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509* issuer = nullptr;
  EVP_PKEY* issuer_key = nullptr;
  bool ok = key != nullptr && cert != nullptr;
  if (ok && !req.issuer.empty()) {
    issuer = LoadCert(Crt(req.issuer));
    issuer_key = LoadKey(Key(req.issuer));
    ok = issuer != nullptr && issuer_key != nullptr;
  }
  if (ok) {
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), req.serial != 0 ? req.serial : next_serial_++);
    long day = 24 * 3600;
    X509_gmtime_adj(X509_getm_notBefore(cert), req.expired ? -3 * day : -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), req.expired ? -day : 3 * day);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("Switchyard Test"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(req.cn.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
    X509* signer = issuer != nullptr ? issuer : cert;
    if (issuer == nullptr || req.ca) {
      ok = AddExt(cert, signer, NID_basic_constraints, "critical,CA:TRUE") &&
           AddExt(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
           AddExt(cert, signer, NID_subject_key_identifier, "hash") &&
           (issuer == nullptr || AddExt(cert, signer, NID_authority_key_identifier, "keyid"));
    } else {
      ok = AddExt(cert, signer, NID_basic_constraints, "CA:FALSE") &&
           AddExt(cert, signer, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
           AddExt(cert, signer, NID_ext_key_usage, req.eku.empty() ? "serverAuth" : req.eku) &&
           (req.san.empty() || AddExt(cert, signer, NID_subject_alt_name, req.san)) &&
           AddExt(cert, signer, NID_authority_key_identifier, "keyid");
    }
    ok = ok && X509_sign(cert, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0;
    ok = ok && WritePem(Crt(req.name), cert, PEM_write_X509) && WritePem(Key(req.name), key, WriteKey);
  }
  if (!ok) *error = "cannot issue " + req.name + ": " + OpensslError();
  X509_free(cert);
  X509_free(issuer);
  EVP_PKEY_free(key);
  EVP_PKEY_free(issuer_key);
  return ok;
}

bool Pki::Revoke(const std::string& issuer_name, const std::vector<std::string>& revoked, const std::string& name,
                 std::string* error) {
  X509* issuer = LoadCert(Crt(issuer_name));
  EVP_PKEY* key = LoadKey(Key(issuer_name));
  X509_CRL* crl = X509_CRL_new();
  bool ok = issuer != nullptr && key != nullptr && crl != nullptr;
  if (ok) {
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
    ASN1_TIME* now = X509_gmtime_adj(nullptr, -60);
    ASN1_TIME* next = X509_gmtime_adj(nullptr, 3 * 24 * 3600);
    X509_CRL_set1_lastUpdate(crl, now);
    X509_CRL_set1_nextUpdate(crl, next);
    for (const auto& r : revoked) {
      X509* cert = LoadCert(Crt(r));
      if (cert == nullptr) {
        ok = false;
        break;
      }
      X509_REVOKED* entry = X509_REVOKED_new();
      X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(cert));
      X509_REVOKED_set_revocationDate(entry, now);
      X509_CRL_add0_revoked(crl, entry);
      X509_free(cert);
    }
    ASN1_TIME_free(now);
    ASN1_TIME_free(next);
    X509_CRL_sort(crl);
    ok = ok && X509_CRL_sign(crl, key, EVP_sha256()) > 0 && WritePem(Crl(name), crl, PEM_write_X509_CRL);
  }
  if (!ok) *error = "cannot make CRL " + name + ": " + OpensslError();
  X509_CRL_free(crl);
  X509_free(issuer);
  EVP_PKEY_free(key);
  return ok;
}

bool MakeStandardPki(Pki& pki, std::string* error) {
  const std::string billing = "URI:spiffe://prod/ns/billing/sa/api";
  const std::vector<CertRequest> reqs = {
      {"ca", "", "Switchyard Test CA", "", "", false, false, 0},
      {"other-ca", "", "Unknown Test CA", "", "", false, false, 0},
      {"backend-ca", "", "Backend Test CA", "", "", false, false, 0},
      {"backend-ca2", "", "Backend Test CA 2", "", "", false, false, 0},
      {"server", "ca", "localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth", false, false, 0},
      {"api", "ca", "api.example.com", "DNS:api.example.com,DNS:*.api.example.com", "serverAuth", false, false, 0},
      {"api-rsa", "ca", "api.example.com rsa", "DNS:api.example.com,DNS:*.api.example.com", "serverAuth", true,
       false, 0},
      {"client", "ca", "billing", billing, "clientAuth", false, false, 0},
      {"client-other", "ca", "other", "URI:spiffe://prod/ns/other/sa/x", "clientAuth", false, false, 0},
      {"client-unknown", "other-ca", "billing", billing, "clientAuth", false, false, 0},
      {"client-expired", "ca", "billing expired", billing, "clientAuth", false, true, 0},
      {"client-revoked", "ca", "billing revoked", billing, "clientAuth", false, false, 0},
      {"backend", "backend-ca", "backend.internal", "DNS:backend.internal,IP:127.0.0.1", "serverAuth", false, false,
       0},
      {"backend2", "backend-ca2", "backend.internal", "DNS:backend.internal,IP:127.0.0.1", "serverAuth", false,
       false, 0},
      {"backend-wrong", "backend-ca", "wrong.internal", "DNS:wrong.internal", "serverAuth", false, false, 0},
      {"edge", "backend-ca", "edge", "URI:spiffe://prod/ns/edge/sa/proxy", "clientAuth", false, false, 0},
  };
  for (const auto& r : reqs) {
    if (!pki.Issue(r, error)) return false;
  }
  return pki.Revoke("ca", {"client-revoked"}, "ca", error);
}

ProbeResult TlsProbe(const std::string& address, const ProbeOptions& o) {
  ProbeResult r;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (o.tls12) SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  std::string wire;
  for (const auto& p : o.alpn) wire += static_cast<char>(p.size()) + p;
  if (!wire.empty()) {
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  if (!o.sigalgs.empty()) SSL_CTX_set1_sigalgs_list(ctx, o.sigalgs.c_str());
  if (!o.client_cert.empty()) {
    SSL_CTX_use_certificate_chain_file(ctx, o.client_cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx, o.client_key.c_str(), SSL_FILETYPE_PEM);
  }
  int fd = ConnectTcp(address);
  if (fd < 0) {
    r.error = "connect failed";
    SSL_CTX_free(ctx);
    return r;
  }
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (!o.sni.empty()) SSL_set_tlsext_host_name(ssl, o.sni.c_str());
  if (o.session != nullptr) SSL_set_session(ssl, o.session);
  int rc = SSL_connect(ssl);
  if (rc == 1) {
    r.handshake_ok = true;
    const unsigned char* proto = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &proto, &len);
    r.alpn.assign(reinterpret_cast<const char*>(proto), len);
    X509* peer = SSL_get1_peer_certificate(ssl);
    if (peer != nullptr) {
      r.peer_cn = SubjectCn(peer);
      r.peer_key = EVP_PKEY_get_base_id(X509_get0_pubkey(peer)) == EVP_PKEY_RSA ? "RSA" : "EC";
      X509_free(peer);
    }
    if (o.wait_for_close || o.session_out != nullptr) {
      // TLS 1.3 servers reject a client certificate, and send session
      // tickets, after the client's Finished: read once to see either.
      SSL_write(ssl, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
      char buf[256];
      int n = SSL_read(ssl, buf, sizeof buf);
      r.closed_by_server = n <= 0;
      if (n <= 0) r.error = OpensslError();
    }
    r.resumed = SSL_session_reused(ssl) == 1;
    if (o.session_out != nullptr) *o.session_out = SSL_get1_session(ssl);
    // Freed without close_notify, OpenSSL would mark the session not resumable.
    SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  } else {
    r.error = OpensslError();
  }
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return r;
}

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& address, const std::string& ca_pem,
                                          const std::string& cert_pem, const std::string& key_pem,
                                          const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetSslTargetNameOverride(target);
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca_pem;
  ssl.pem_cert_chain = cert_pem;
  ssl.pem_private_key = key_pem;
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

Backend StartTlsBackend(const TempDir& dir, const std::string& name, const std::string& cert,
                        const std::string& key, const std::string& client_ca) {
  Backend b;
  b.name = name;
  std::vector<std::string> argv = {BackendBinary(), "--address", "127.0.0.1:0", "--name", name,
                                   "--tls-cert",    cert,        "--tls-key",   key};
  if (!client_ca.empty()) {
    argv.push_back("--tls-client-ca");
    argv.push_back(client_ca);
  }
  b.process = std::make_unique<ProcessGuard>(argv, dir / ("tls-backend-" + name + ".out"),
                                             dir / ("tls-backend-" + name + ".err"));
  std::string ready;
  WaitUntil(
      [&] {
        std::string out = b.process->out();
        auto pos = out.find("ready ");
        auto nl = out.find('\n', pos == std::string::npos ? 0 : pos);
        if (pos == std::string::npos || nl == std::string::npos) return !b.process->running();
        ready = out.substr(pos + 6, nl - pos - 6);
        return true;
      },
      15000ms, 10ms);
  if (ready.empty()) throw std::runtime_error("TLS backend " + name + " did not start: " + b.process->err());
  b.address = ready.substr(0, ready.find(' '));
  return b;
}

void TlsProxyTest::SetUp() {
  std::string error;
  ASSERT_TRUE(MakeStandardPki(pki_, &error)) << error;
  // Port 0: the daemon picks the ports and StartYaml reads them back from its log.
  admin_ = "127.0.0.1:0";
  listen_ = "127.0.0.1:0";
}

std::string TlsProxyTest::Expand(const std::string& yaml) const {
  return Replace(Replace(yaml, "@ADMIN@", admin_), "@LISTEN@", listen_);
}

void TlsProxyTest::StartYaml(std::string yaml) {
  yaml = Expand(yaml);
  WriteFile(config_path(), yaml);
  proxy_ = std::make_unique<ProcessGuard>(
      std::vector<std::string>{ProxyBinary(), "--config", config_path().string(), "--log-level", "info"},
      dir_ / "switchyard.out", dir_ / "switchyard.err");
  proxy_address_ = WaitListening(*proxy_, "public", listen_);
  admin_address_ = WaitListening(*proxy_, "admin", admin_);
  bool up = !proxy_address_.empty() && !admin_address_.empty() && WaitForPort(proxy_address_, 5000ms);
  ASSERT_TRUE(up && proxy_->running()) << "switchyard did not start:\n" << yaml << "\n" << proxy_->err()
                                       << proxy_->out();
}

void TlsProxyTest::ReloadYaml(std::string yaml) {
  yaml = Expand(yaml);
  auto count = [&] {
    std::string out = proxy_->out() + proxy_->err();
    size_t n = 0;
    for (size_t p = out.find("reload complete"); p != std::string::npos; p = out.find("reload complete", p + 1)) ++n;
    return n;
  };
  size_t before = count();
  WriteFile(config_path(), yaml);
  proxy_->signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] { return count() > before; }, 10000ms)) << proxy_->err() << proxy_->out();
}

grpc::Status TlsProxyTest::Unary(const std::shared_ptr<grpc::Channel>& channel,
                                 std::multimap<std::string, std::string>* trailers,
                                 const std::vector<std::pair<std::string, std::string>>& metadata) {
  auto stub = switchyard::test::Echo::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
  switchyard::test::EchoRequest req;
  req.set_payload("tls");
  req.set_echo_metadata(true);
  switchyard::test::EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  if (trailers != nullptr) {
    for (const auto& [k, v] : ctx.GetServerTrailingMetadata()) {
      trailers->emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
  }
  return s;
}

std::string TlsProxyTest::Metrics() {
  std::string body;
  // The admin endpoint starts just after the listeners.
  WaitUntil([&] { return !(body = ops::HttpCall(admin_address_, "GET", "/metrics").body).empty(); }, 5000ms, 20ms);
  return body;
}

double TlsProxyTest::MetricValue(const std::string& name, const std::map<std::string, std::string>& want) {
  return ops::Sum(ops::ParseMetrics(Metrics()), name, want);
}

}  // namespace sytest
