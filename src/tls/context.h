// Server-side TLS contexts: certificate and key loading, TLS 1.2+ only, and
// ALPN that selects "h2" (a client that does not offer it fails the handshake).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "common/c_handle.h"
#include "common/result.h"

namespace switchyard::tls {

using SslCtxPtr = CHandle<SSL_CTX, SSL_CTX_free>;
using SslPtr = CHandle<SSL, SSL_free>;

// Shared so that a reload can swap in a new context while connections made
// with the old one live on.
using SharedSslCtx = std::shared_ptr<SSL_CTX>;

// min_version is "1.2" or "1.3". Errors name the file and OpenSSL's reason.
Result<SharedSslCtx> makeServerContext(const std::string& cert_path, const std::string& key_path,
                                       const std::string& min_version);

// The ALPN protocol the handshake agreed on ("" if none).
std::string negotiatedAlpn(const SSL* ssl);

}  // namespace switchyard::tls
