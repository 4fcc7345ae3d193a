// ConnectionDrain: the graceful close of one client connection, as RFC 9113
// 6.8 suggests. A GOAWAY with the maximum stream id goes first (the client
// stops opening streams) followed by a PING; the PING's ACK proves the client
// has read the notice, and then (or after kGoawayGrace at most) the GOAWAY
// with the real last stream id follows. Streams in flight finish; the
// connection closes once idle. Started by a server drain, or when the
// connection reaches its max_connection_age (spread over ±10 % so that
// connections a fleet of clients opened together do not all reconnect
// together), whose max_connection_age_grace then ends the RPCs still open;
// cut short by forceClose (drain_timeout). The connection owns it; the frames
// go out on the connection's next flush.
#pragma once

#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstdint>
#include <functional>

#include "event/loop.h"
#include "event/socket_address.h"
#include "http2/connection.h"
#include "proxy/downstream_side.h"

namespace switchyard::proxy {

class ConnectionDrain {
 public:
  // RFC 9113 6.8: wait about one round trip between the two GOAWAYs of a graceful close.
  // The round trip is measured with a PING; this is the longest wait for its ACK.
  static constexpr auto kGoawayGrace = std::chrono::milliseconds(500);

  // Ends every RPC still open with UNAVAILABLE and `why`; `shutting_down`:
  // the process drain's deadline passed (counted as a draining error).
  using EndRpcs = std::function<void(const char* why, bool shutting_down)>;

  // `session` is `conn`'s server session; both outlive this object, and so
  // do `listener` and `peer`.
  ConnectionDrain(event_base* base, http2::Connection& conn, nghttp2_session* session,
                  const ListenerInfo& listener, const event::SocketAddress& peer,
                  EndRpcs end_rpcs);

  bool draining() const { return draining_; }
  // GOAWAY with the maximum stream id and the PING; no-op once draining or closed.
  void start();
  // A PING frame arrived: the ACK of the drain's PING sends the final GOAWAY.
  void onPing(const nghttp2_frame& frame);
  // The GOAWAY with the last stream id processed, once; marks the connection draining.
  void sendFinalGoaway();
  // The drain deadline passed: every RPC still open ends, then the final GOAWAY.
  void forceClose();
  // HTTP/2 started: max_connection_age counts from now (`random` draws the jitter).
  void armAge(uint64_t random);

 private:
  void onMaxAge();
  void onAgeGraceExpired();

  http2::Connection& conn_;
  nghttp2_session* session_;
  const ListenerInfo& listener_;
  const event::SocketAddress& peer_;
  EndRpcs end_rpcs_;
  event::Timer goaway_timer_;
  // max_connection_age, then max_connection_age_grace.
  event::Timer age_timer_;
  event::Timer age_grace_timer_;
  bool draining_ = false;
  bool final_goaway_sent_ = false;
};

}  // namespace switchyard::proxy
