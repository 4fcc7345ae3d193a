#include "tls/context.h"

#include <openssl/err.h>

namespace switchyard::tls {
namespace {

std::string lastOpenSslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// RFC 7301 server selection: pick "h2" if the client offers it, otherwise
// refuse with a fatal no_application_protocol alert. gRPC needs HTTP/2.
int selectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kH2[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  int rc = SSL_select_next_proto(&selected, outlen, kH2, sizeof kH2, in, inlen);
  if (rc != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

Result<SharedSslCtx> makeServerContext(const std::string& cert_path, const std::string& key_path,
                                       const std::string& min_version) {
  SharedSslCtx ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return Error{"SSL_CTX_new: " + lastOpenSslError()};
  int min = min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx.get(), min);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                     SSL_OP_CIPHER_SERVER_PREFERENCE);
  // RFC 7540 9.2.2: HTTP/2 over TLS 1.2 must use AEAD ciphers with ECDHE.
  SSL_CTX_set_cipher_list(ctx.get(),
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_path.c_str()) != 1) {
    return Error{cert_path + ": cannot load certificate: " + lastOpenSslError()};
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Error{key_path + ": cannot load private key: " + lastOpenSslError()};
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return Error{key_path + ": private key does not match certificate " + cert_path};
  }
  SSL_CTX_set_alpn_select_cb(ctx.get(), selectAlpn, nullptr);
  return ctx;
}

std::string negotiatedAlpn(const SSL* ssl) {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

}  // namespace switchyard::tls
