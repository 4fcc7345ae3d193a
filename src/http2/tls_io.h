// Non-blocking SSL_read / SSL_write on an established TLS connection whose
// socket http2::Connection reads and writes itself, each reduced to what the
// caller does next: go on, wait for the socket (readable or writable: either
// direction may need the other, RFC 8446 4.6.3 key updates, TLS 1.2 alerts),
// or close. Failures leave OpenSSL's per-thread error queue empty.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>

namespace switchyard::http2 {

enum class TlsIo {
  Done,        // moved `bytes` (all of them, for a write)
  WantRead,    // moved `bytes`, then blocked until the socket is readable
  WantWrite,   // moved `bytes`, then blocked until the socket is writable
  Closed,      // read: the peer closed (close_notify, or EOF without it)
  Failed,      // a TLS or socket error; the connection is unusable
};

struct TlsIoResult {
  TlsIo status = TlsIo::Done;
  size_t bytes = 0;
};

// Makes an SSL object that finished its handshake ready for tlsRead/tlsWrite:
// partial writes with a buffer that may move between retries, and whole
// socket reads buffered by OpenSSL (one read() for several records).
void prepareDirectTls(SSL* ssl);

// One SSL_read into buf (at most one record's worth); bytes > 0 means Done.
TlsIoResult tlsRead(SSL* ssl, uint8_t* buf, size_t len);

// SSL_write until all of data is written or the socket blocks. A blocked
// write must be retried with the unwritten rest first (it may have moved).
TlsIoResult tlsWrite(SSL* ssl, const uint8_t* data, size_t len);

}  // namespace switchyard::http2
