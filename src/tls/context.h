// Shared TLS types and small OpenSSL helpers: handle types, the last OpenSSL
// error as text, the negotiated ALPN protocol, and what a certificate file
// holds (subject, expiry) for metrics and --check-config.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/c_handle.h"
#include "common/result.h"

namespace switchyard::tls {

using SslCtxPtr = CHandle<SSL_CTX, SSL_CTX_free>;
using SslPtr = CHandle<SSL, SSL_free>;
using X509Ptr = CHandle<X509, X509_free>;

// Shared so that a reload can swap in a new context while connections made
// with the old one live on.
using SharedSslCtx = std::shared_ptr<SSL_CTX>;

// A new context of `method`, owned by a SharedSslCtx.
Result<SharedSslCtx> newContext(const SSL_METHOD* method);

// The oldest queued OpenSSL error as text (and clears the queue).
std::string lastOpenSslError();

// Why loading a private key failed: "it does not match certificate CERT" for
// a mismatched pair, else OpenSSL's reason (clears the queue).
std::string keyError(const std::string& cert_path);

// "1.2" / "1.3" as an OpenSSL protocol version constant.
int protocolVersion(const std::string& v);

// The ALPN protocol the handshake agreed on ("" if none).
std::string negotiatedAlpn(const SSL* ssl);

// Marks a connection that completed its handshake as shut down cleanly before
// it is freed without a close_notify, so OpenSSL keeps its session resumable
// (otherwise freeing it drops the session from the cache).
void keepSessionResumable(SSL* ssl);

// The leaf certificate of a PEM file, as metrics and logs describe it.
struct CertificateInfo {
  std::string path;
  std::string subject;     // one-line subject, e.g. "CN=api.example.com"
  int64_t not_after = 0;   // Unix seconds
};
Result<CertificateInfo> describeCertificateFile(const std::string& path);

}  // namespace switchyard::tls
