// ConnectionStart: how a client connection gets to HTTP/2, and how it is
// reported when it ends. A cleartext connection starts HTTP/2 at once; a
// client that then does not send the HTTP/2 preface (HTTP/1.x, or TLS to a
// cleartext port) gets an HTTP/1.1 505 text before the connection closes. A
// TLS connection first completes its handshake within the listener's
// handshake_timeout, and ALPN chooses h2 or http/1.1 (a client offering
// none is served HTTP/1.1, as nghttpx does; the worker then hands the socket
// to an Http1Connection); the result is counted and logged (tls_handshake.h)
// and the client's verified identity kept for its RPCs. The connection owns it and closes itself when told to.
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
  // What the completed TLS handshake leads to.
  enum class Next {
    Http2,    // ALPN chose h2: HTTP/2 starts
    Http1,    // ALPN chose http/1.1, or the client offered none: HTTP/1.1 takes over
    Refused,  // ALPN chose something else: the connection closes (counted and logged)
  };
  Next handshakeDone(bufferevent* bev);
  // The client's verified certificate (TLS listeners with client_auth); null if none.
  const tls::PeerIdentity* peerIdentity() const { return peer_identity_.get(); }
  std::shared_ptr<const tls::PeerIdentity> sharedPeerIdentity() const { return peer_identity_; }
  // After Next::Http1: the socket went to an HTTP/1.1 connection, which
  // counts and reports it from here on.
  bool handedOff() const { return handed_off_; }

  // nghttp2 refused the client's first bytes as not the HTTP/2 preface:
  // counted, logged, and answered with a 505 text. False for other errors.
  // `out` is where the connection's raw output goes (http2::Connection::output()).
  bool answerNotHttp2(int nghttp2_error, evbuffer* out) const;
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
  bool handed_off_ = false;
};

}  // namespace switchyard::proxy
