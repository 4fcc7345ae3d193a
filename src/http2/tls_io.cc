#include "http2/tls_io.h"

#include <openssl/err.h>

#include <cerrno>
#include <climits>

#include "common/log.h"

namespace switchyard::http2 {
namespace {

// What SSL_get_error says about a call that moved nothing.
TlsIo classify(SSL* ssl, int rv) {
  switch (SSL_get_error(ssl, rv)) {
    case SSL_ERROR_WANT_READ: return TlsIo::WantRead;
    case SSL_ERROR_WANT_WRITE: return TlsIo::WantWrite;
    case SSL_ERROR_ZERO_RETURN: return TlsIo::Closed;
    case SSL_ERROR_SYSCALL:
      // EOF under the record layer without close_notify (listeners set
      // SSL_OP_IGNORE_UNEXPECTED_EOF, which makes it ZERO_RETURN instead).
      if (ERR_peek_error() == 0 && errno == 0) return TlsIo::Closed;
      break;
    default:
      break;
  }
  if (unsigned long err = ERR_peek_last_error(); err != 0) {
    char text[256];
    ERR_error_string_n(err, text, sizeof text);
    log::main().debug("TLS I/O error: {}", text);
  }
  ERR_clear_error();
  return TlsIo::Failed;
}

int clampInt(size_t len) { return len > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<int>(len); }

}  // namespace

void prepareDirectTls(SSL* ssl) {
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_read_ahead(ssl, 1);
}

TlsIoResult tlsRead(SSL* ssl, uint8_t* buf, size_t len) {
  errno = 0;
  int rv = SSL_read(ssl, buf, clampInt(len));
  if (rv > 0) return {TlsIo::Done, static_cast<size_t>(rv)};
  return {classify(ssl, rv), 0};
}

TlsIoResult tlsWrite(SSL* ssl, const uint8_t* data, size_t len) {
  size_t done = 0;
  while (done < len) {
    errno = 0;
    int rv = SSL_write(ssl, data + done, clampInt(len - done));
    if (rv > 0) {
      done += static_cast<size_t>(rv);
      continue;
    }
    TlsIo why = classify(ssl, rv);
    // Nothing to read back on the write side: a closed peer is an error here.
    return {why == TlsIo::Closed ? TlsIo::Failed : why, done};
  }
  return {TlsIo::Done, done};
}

}  // namespace switchyard::http2
