// The end of a downstream TLS handshake, counted and logged: the result label
// (switchyard_tls_handshakes_total), the version and cipher of accepted
// connections, and the verified client identity kept for the RPCs.
#pragma once

#include <event2/bufferevent.h>

#include <memory>

#include "event/socket_address.h"
#include "tls/peer_identity.h"

namespace switchyard::proxy {

struct ListenerInfo;

// The handshake completed (ALPN checked by the caller). Returns the verified
// client identity, or null.
std::shared_ptr<const tls::PeerIdentity> recordHandshakeOk(const ListenerInfo& listener, SSL* ssl);

// The handshake ended without completing: `timed_out` when the listener's
// handshake_timeout fired. Drains the bufferevent's OpenSSL errors.
void recordHandshakeFailure(const ListenerInfo& listener, bufferevent* bev,
                            const event::SocketAddress& peer, bool timed_out);

// ALPN did not select h2.
void recordNoAlpn(const ListenerInfo& listener, const event::SocketAddress& peer,
                  const std::string& alpn);

}  // namespace switchyard::proxy
