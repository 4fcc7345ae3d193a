#include "proxy/connection_start.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include <string_view>
#include <utility>

#include "common/log.h"
#include "metrics/worker_stats.h"
#include "proxy/tls_handshake.h"
#include "tls/context.h"

namespace switchyard::proxy {
namespace {

constexpr std::string_view kNotHttp2Reply =
    "HTTP/1.1 505 HTTP Version Not Supported\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 60\r\n"
    "Connection: close\r\n\r\n"
    "This port speaks HTTP/2 (gRPC) only; use HTTP/2 to connect.\n";

}  // namespace

ConnectionStart::ConnectionStart(event_base* base, const ListenerInfo& listener,
                                 const event::SocketAddress& peer,
                                 std::function<bool()> close_for_timeout)
    : listener_(listener),
      peer_(peer),
      close_for_timeout_(std::move(close_for_timeout)),
      handshake_timer_(base, [this] {
        if (started_) return;
        if (close_for_timeout_()) handshake_timed_out_ = true;
      }) {}

bool ConnectionStart::begin(bufferevent* bev) {
  if (listener_.tls) {
    // The handshake runs first; handshakeDone() starts HTTP/2 once ALPN chose h2.
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    handshake_timer_.arm(listener_.handshake_timeout);
    return false;
  }
  started_ = true;
  return true;
}

ConnectionStart::Next ConnectionStart::handshakeDone(bufferevent* bev) {
  handshake_timer_.cancel();
  SSL* ssl = bufferevent_openssl_get_ssl(bev);
  std::string alpn = ssl != nullptr ? tls::negotiatedAlpn(ssl) : "";
  if (alpn != "h2" && alpn != "http/1.1" && !alpn.empty()) {
    recordNoAlpn(listener_, peer_, alpn);
    return Next::Refused;
  }
  peer_identity_ = recordHandshakeOk(listener_, ssl);
  started_ = true;
  if (alpn == "h2") return Next::Http2;
  handed_off_ = true;
  return Next::Http1;
}

bool ConnectionStart::answerNotHttp2(int nghttp2_error, evbuffer* out) const {
  if (nghttp2_error != NGHTTP2_ERR_BAD_CLIENT_MAGIC) return false;
  if (listener_.stats != nullptr) listener_.stats->protocolError();
  log::main().info("listener {}: client {} did not send the HTTP/2 preface (HTTP/1.x or TLS "
                   "to a cleartext port?); answered 505 and closed",
                   listener_.name, peer_.toString());
  evbuffer_add(out, kNotHttp2Reply.data(), kNotHttp2Reply.size());
  return true;
}

void ConnectionStart::closed(http2::CloseReason reason, bufferevent* bev) const {
  if (handed_off_) return;  // the socket lives on in an Http1Connection
  if (listener_.tls && !started_ && reason != http2::CloseReason::NotHttp2) {
    recordHandshakeFailure(listener_, bev, peer_, handshake_timed_out_);
    return;
  }
  log::main().debug("listener {}: connection from {} closed ({})", listener_.name,
                    peer_.toString(), http2::toString(reason));
  // As nginx does: a connection that ends without close_notify keeps its session.
  if (listener_.tls) tls::keepSessionResumable(bufferevent_openssl_get_ssl(bev));
}

}  // namespace switchyard::proxy
