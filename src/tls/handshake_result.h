// How a downstream TLS handshake ended, as a metric label: "ok", "timeout",
// "no_client_cert", "bad_client_cert", "no_shared_cipher",
// "protocol_version", "no_alpn", "closed" (the client went away) or "error".
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace switchyard::tls {

// The result label for a failed handshake, from the first OpenSSL error code
// (0 when the socket closed without one).
const char* handshakeFailureLabel(unsigned long openssl_error);

// "TLSv1.3" and "TLS_AES_128_GCM_SHA256" of an established connection.
std::string protocolName(const SSL* ssl);
std::string cipherName(const SSL* ssl);

}  // namespace switchyard::tls
