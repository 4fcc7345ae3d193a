// DownstreamLimits: a client connection's edge limits. It owns the
// connection's timeouts (StreamTimeouts) and observes the limits
// http2::Connection enforces: header lists over max_header_list_size or
// max_header_fields, stream ids out of order, streams over
// max_concurrent_streams, and glitches past max_glitches. Each limit that
// fires is counted in switchyard_listener_limits_hit_total. (The connection's
// maximum age is ConnectionDrain's.) Owned by the DownstreamConnection it
// observes.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>

#include "event/socket_address.h"
#include "http2/connection.h"
#include "proxy/downstream_side.h"
#include "proxy/stream_rpcs.h"
#include "proxy/stream_timeouts.h"
#include "proxy/worker_context.h"

namespace switchyard::proxy {

class DownstreamLimits final : public http2::EdgeObserver {
 public:
  // `session` is `conn`'s server session and `rpcs` the RPCs on it; they,
  // `listener` and `peer` outlive this object.
  DownstreamLimits(WorkerContext& worker, http2::Connection& conn, nghttp2_session* session,
                   const ListenerInfo& listener, const event::SocketAddress& peer,
                   StreamRpcs& rpcs);

  StreamTimeouts& timeouts() { return timeouts_; }

  // http2::EdgeObserver
  int onBeginFrame(const nghttp2_frame_hd& hd) override;
  int onHeaderLimit(const nghttp2_frame* frame, bool too_many_fields) override;
  void onGlitch(metrics::Glitch cause) override;
  void onGlitchBudgetSpent() override;
  void onStreamRefused(int32_t stream_id) override;

 private:
  void count(metrics::ListenerLimit limit);
  void onTimeout(StreamTimeouts::Expired what);

  WorkerContext& worker_;
  http2::Connection& conn_;
  nghttp2_session* session_;
  const ListenerInfo& listener_;
  const event::SocketAddress& peer_;
  StreamRpcs& rpcs_;  // asked whether a stream has an RPC, and told to end one
  int32_t max_client_stream_id_ = 0;  // RFC 9113 5.1.1: new streams' ids only grow
  StreamTimeouts timeouts_;
};

}  // namespace switchyard::proxy
