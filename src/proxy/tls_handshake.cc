#include "proxy/tls_handshake.h"

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "common/log.h"
#include "metrics/tls_metrics.h"
#include "metrics/worker_stats.h"
#include "proxy/downstream_connection.h"
#include "tls/handshake_result.h"

namespace switchyard::proxy {

std::shared_ptr<const tls::PeerIdentity> recordHandshakeOk(const ListenerInfo& listener, SSL* ssl) {
  auto& m = metrics::TlsMetrics::instance();
  m.handshake(listener.name, "ok");
  m.accepted(listener.name, tls::protocolName(ssl), tls::cipherName(ssl));
  if (SSL_session_reused(ssl) == 1) m.resumed(listener.name);
  return tls::verifiedPeer(ssl);
}

void recordHandshakeFailure(const ListenerInfo& listener, bufferevent* bev,
                            const event::SocketAddress& peer, bool timed_out) {
  unsigned long first = 0;
  std::string detail;
  for (unsigned long err; (err = bufferevent_get_openssl_error(bev)) != 0;) {
    if (first == 0 && ERR_GET_LIB(err) != 0) first = err;  // lib 0: a socket error
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    detail = buf;
  }
  const char* result = timed_out ? "timeout" : tls::handshakeFailureLabel(first);
  metrics::TlsMetrics::instance().handshake(listener.name, result);
  if (listener.stats != nullptr) listener.stats->tlsHandshakeFailed();
  if (timed_out) detail = "no handshake within tls.handshake_timeout";
  log::main().info("listener {}: TLS handshake with {} failed ({}): {}", listener.name,
                   peer.toString(), result, detail.empty() ? "connection closed" : detail);
}

void recordNoAlpn(const ListenerInfo& listener, const event::SocketAddress& peer,
                  const std::string& alpn) {
  metrics::TlsMetrics::instance().handshake(listener.name, "no_alpn");
  if (listener.stats != nullptr) listener.stats->tlsHandshakeFailed();
  log::main().info("listener {}: client {} negotiated ALPN \"{}\", not h2; closing", listener.name,
                   peer.toString(), alpn);
}

}  // namespace switchyard::proxy
