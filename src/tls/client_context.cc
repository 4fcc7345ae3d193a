#include "tls/client_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

namespace switchyard::tls {
namespace {

int slotIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Keeps the newest session (TLS 1.3 sends it after the handshake).
int onNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<SessionSlot*>(SSL_get_ex_data(ssl, slotIndex()));
  if (slot == nullptr) return 0;
  slot->set(session);
  return 1;  // we keep the reference
}

bool isIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

Result<ClusterTls> makeClusterTls(const config::UpstreamTlsSpec& spec) {
  auto made = newContext(TLS_client_method());
  if (!made.ok()) return Error{made.error()};
  SSL_CTX* ctx = made->get();
  SSL_CTX_set_min_proto_version(ctx, protocolVersion(spec.min_version));
  SSL_CTX_set_max_proto_version(ctx, protocolVersion(spec.max_version));
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  static const unsigned char kH2[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(ctx, kH2, sizeof kH2);
  if (!spec.ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, spec.ca.c_str(), nullptr) != 1) {
      return Error{spec.ca + ": cannot load CA bundle: " + lastOpenSslError()};
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return Error{"cannot load the system trust store: " + lastOpenSslError()};
  }
  SSL_CTX_set_verify(ctx, spec.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  ClusterTls out;
  if (!spec.cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, spec.cert.c_str()) != 1) {
      return Error{spec.cert + ": cannot load certificate: " + lastOpenSslError()};
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, spec.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Error{spec.key + ": cannot load private key: " + keyError(spec.cert)};
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      return Error{spec.key + ": private key does not match certificate " + spec.cert};
    }
    auto info = describeCertificateFile(spec.cert);
    if (!info.ok()) return Error{info.error()};
    out.certificates.push_back(*info);
  }
  if (spec.session_resumption) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, onNewSession);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  out.ctx = *made;
  out.server_name = spec.server_name;
  out.verify = spec.verify;
  out.session_resumption = spec.session_resumption;
  return out;
}

SslPtr newClientSsl(const ClusterTls& tls, const std::string& name, SessionSlot* slot) {
  SslPtr ssl(SSL_new(tls.ctx.get()));
  if (!ssl) return ssl;
  bool ip = isIpLiteral(name);
  if (!ip) SSL_set_tlsext_host_name(ssl.get(), name.c_str());  // RFC 6066: no IPs in SNI
  if (tls.verify) {
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str());
    } else {
      SSL_set1_host(ssl.get(), name.c_str());
    }
  }
  if (slot != nullptr && tls.session_resumption) {
    SSL_set_ex_data(ssl.get(), slotIndex(), slot);
    if (slot->get() != nullptr) SSL_set_session(ssl.get(), slot->get());
  }
  return ssl;
}

std::string clientFailureDetail(SSL* ssl, unsigned long openssl_error) {
  std::string detail;
  if (openssl_error != 0) {
    char buf[256];
    ERR_error_string_n(openssl_error, buf, sizeof buf);
    const char* reason = ERR_reason_error_string(openssl_error);
    detail = reason != nullptr ? reason : buf;
  }
  if (ssl != nullptr) {
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) {
      detail += std::string(detail.empty() ? "" : ": ") + X509_verify_cert_error_string(verify);
    }
  }
  return detail.empty() ? "handshake failed" : detail;
}

}  // namespace switchyard::tls
