// ConnectionStart: how a client connection gets to HTTP/2, and how it is
// reported when it ends. A cleartext connection starts HTTP/2 at once; a
// client that then does not send the HTTP/2 preface (HTTP/1.x, or TLS to a
// cleartext port) gets an HTTP/1.1 505 text before the connection closes. A
// TLS connection first completes its handshake within the listener's
// handshake_timeout, and ALPN must choose h2; the result is counted and
// logged (tls_handshake.h) and the client's verified identity kept for its
// RPCs. The connection owns it and closes itself when told to.
#pragma once

#include <event2/bufferevent.h>
#include <event2/event.h>

#include <functional>
#include <memory>

#include "event/loop.h"
#include "event/socket_address.h"
#include "http2/connection.h"
#include "proxy/downstream_side.h"
#include "tls/peer_identity.h"

namespace switchyard::proxy {

class ConnectionStart {
 public:
  // `close_for_timeout` closes the connection when the handshake timed out;
  // it returns false if the connection was already closed.
  ConnectionStart(event_base* base, const ListenerInfo& listener, const event::SocketAddress& peer,
                  std::function<bool()> close_for_timeout);

  // HTTP/2 runs (cleartext from the start, TLS once ALPN chose h2).
  bool started() const { return started_; }
  // True when HTTP/2 may start now (cleartext); for TLS the handshake runs
  // first, under handshake_timeout, and handshakeDone() reports its end.
  bool begin(bufferevent* bev);
  // The TLS handshake completed: true when ALPN chose h2 (HTTP/2 starts),
  // false when the connection must close (counted and logged).
  bool handshakeDone(bufferevent* bev);
  // The client's verified certificate (TLS listeners with client_auth); null if none.
  const tls::PeerIdentity* peerIdentity() const { return peer_identity_.get(); }

  // nghttp2 refused the client's first bytes as not the HTTP/2 preface:
  // counted, logged, and answered with a 505 text. False for other errors.
  bool answerNotHttp2(int nghttp2_error, bufferevent* bev) const;
  // The connection closed: a TLS handshake that never completed is counted
  // as failed; an established connection is logged and, without
  // close_notify, keeps its TLS session resumable (as nginx does).
  void closed(http2::CloseReason reason, bufferevent* bev) const;

 private:
  const ListenerInfo& listener_;
  const event::SocketAddress& peer_;
  std::function<bool()> close_for_timeout_;
  event::Timer handshake_timer_;  // TLS: closes a connection whose handshake stalls
  std::shared_ptr<const tls::PeerIdentity> peer_identity_;
  bool started_ = false;
  bool handshake_timed_out_ = false;
};

}  // namespace switchyard::proxy
