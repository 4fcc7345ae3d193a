// DownstreamConnection: one client connection (TLS with ALPN h2, or h2c with
// prior knowledge) and the RPCs multiplexed on it. Owned by its Worker. It
// runs the HTTP/2 server side: it opens an Rpc per request stream (held in
// StreamRpcs), hands it the stream's events and offers it the server-stream
// API (DownstreamSide).
// How the connection gets to HTTP/2 is ConnectionStart's; how it closes
// gracefully (drain, max_connection_age) is ConnectionDrain's; its edge
// limits and timeouts are DownstreamLimits' (which observes the http2 edge
// hooks) and StreamTimeouts'.
#pragma once

#include <atomic>
#include <string>

#include "event/loop.h"
#include "event/socket_address.h"
#include "http2/connection.h"
#include "proxy/client_connection.h"
#include "proxy/connection_drain.h"
#include "proxy/connection_start.h"
#include "proxy/downstream_limits.h"
#include "proxy/downstream_side.h"
#include "proxy/rpc.h"
#include "proxy/stream_rpcs.h"
#include "proxy/worker_context.h"
#include "tls/peer_identity.h"

namespace switchyard::proxy {

class DownstreamConnection final : public http2::Connection,
                                   public DownstreamSide,
                                   public ClientConnection {
 public:
  // `bev` is a connected socket or an accepting OpenSSL bufferevent.
  DownstreamConnection(WorkerContext& worker, bufferevent* bev, const event::SocketAddress& peer,
                       const ListenerInfo& listener);
  ~DownstreamConnection() override;

  // For a plain socket, starts HTTP/2 now; TLS waits for the handshake.
  void begin();
  // Graceful shutdown, as RFC 9113 6.8 suggests: GOAWAY with the maximum stream
  // id first, then, after a round trip, the real last stream id. In-flight
  // RPCs finish; the connection closes when they are done.
  void startDrain() override { drain_.start(); }
  // Drain deadline passed: reset what is left and close.
  void forceClose() override { drain_.forceClose(); }

  WorkerContext& worker() override { return worker_; }
  const std::string& peerIp() const override { return peer_ip_; }
  const ListenerInfo& listener() const override { return listener_; }
  // The client's verified certificate (TLS listeners with client_auth); null if none.
  const tls::PeerIdentity* peerIdentity() const override { return start_.peerIdentity(); }

  // DownstreamSide: the server-stream API (frames go out on a later loop pass).
  Status respond(int32_t stream_id, const http2::NvList& headers, bool end_stream) override;
  Status sendTrailers(int32_t stream_id, const http2::NvList& trailers) override;
  void resumeResponse(int32_t stream_id) override;
  Status reset(int32_t stream_id, uint32_t h2_error) override;
  void consume(int32_t stream_id, size_t n) override;

 private:
  // HTTP/2 begins: our SETTINGS, the idle and age timers.
  void startHttp2();

  // http2::Connection hooks
  int onBeginHeaders(const nghttp2_frame* frame) override;
  int onHeader(const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value) override;
  int onFrameRecv(const nghttp2_frame* frame) override;
  int onDataChunk(int32_t stream_id, const uint8_t* data, size_t len, uint8_t flags) override;
  int onStreamClose(int32_t stream_id, uint32_t error_code) override;
  int onFrameSent(const nghttp2_frame* frame) override;
  ssize_t onReadData(int32_t stream_id, uint8_t* buf, size_t len, uint32_t* flags) override;
  void onConnected() override;
  void onClosed(http2::CloseReason reason) override;
  void onProtocolError(int nghttp2_error) override;

  WorkerContext& worker_;
  event::SocketAddress peer_;
  std::string peer_ip_;
  ListenerInfo listener_;
  StreamRpcs rpcs_;
  ConnectionStart start_;   // TLS handshake and ALPN, or the cleartext preface
  ConnectionDrain drain_;   // the two-GOAWAY graceful close, and max_connection_age
  DownstreamLimits limits_;  // edge limits and timeouts; observes the edge hooks
};

}  // namespace switchyard::proxy
