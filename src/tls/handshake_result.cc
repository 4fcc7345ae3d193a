#include "tls/handshake_result.h"

#include <openssl/err.h>

namespace switchyard::tls {

const char* handshakeFailureLabel(unsigned long err) {
  // libevent queues socket errors with no library set.
  if (err == 0 || ERR_GET_LIB(err) == 0) return "closed";
  if (ERR_GET_LIB(err) != ERR_LIB_SSL) return "error";
  switch (ERR_GET_REASON(err)) {
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return "no_client_cert";
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
      return "bad_client_cert";
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
      return "no_shared_cipher";
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
      return "protocol_version";
    case SSL_R_NO_APPLICATION_PROTOCOL:
      return "no_alpn";
    default:
      return "error";
  }
}

std::string protocolName(const SSL* ssl) { return SSL_get_version(ssl); }

std::string cipherName(const SSL* ssl) {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl);
  return c != nullptr ? SSL_CIPHER_get_name(c) : "";
}

}  // namespace switchyard::tls
