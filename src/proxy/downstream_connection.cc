#include "proxy/downstream_connection.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include <algorithm>
#include <iterator>

#include "common/log.h"
#include "metrics/worker_stats.h"
#include "proxy/tls_handshake.h"
#include "tls/context.h"

namespace switchyard::proxy {
namespace {

// RFC 9113 6.8: wait about one round trip between the two GOAWAYs of a graceful close.
// The round trip is measured with a PING; this is the longest wait for its ACK.
constexpr auto kGoawayGrace = std::chrono::milliseconds(500);
// Opaque data of the drain's PING, to know its ACK from others.
constexpr uint8_t kDrainPing[8] = {'s', 'y', '-', 'd', 'r', 'a', 'i', 'n'};

constexpr std::string_view kNotHttp2Reply =
    "HTTP/1.1 505 HTTP Version Not Supported\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 60\r\n"
    "Connection: close\r\n\r\n"
    "This port speaks HTTP/2 (gRPC) only; use HTTP/2 to connect.\n";

Status submitted(int nghttp2_rv) {
  if (nghttp2_rv == 0) return Status();
  return Error{nghttp2_strerror(nghttp2_rv)};
}

}  // namespace

DownstreamConnection::DownstreamConnection(WorkerContext& worker, bufferevent* bev,
                                           const event::SocketAddress& peer,
                                           const ListenerInfo& listener)
    : http2::Connection(worker.base(), bev, http2::Role::Server, listener.h2),
      worker_(worker),
      peer_(peer),
      peer_ip_(peer.ip()),
      listener_(listener),
      idle_timer_(worker.base(),
                  [this] {
                    if (rpcs_.empty()) terminate(NGHTTP2_NO_ERROR, http2::CloseReason::Timeout);
                  }),
      goaway_timer_(worker.base(), [this] { sendFinalGoaway(); }),
      handshake_timer_(worker.base(), [this] {
        if (started_ || closed()) return;
        handshake_timed_out_ = true;
        closeNow(http2::CloseReason::Timeout);
      }),
      headers_timer_(worker.base(), [this] { onRequestHeadersTimeout(); }),
      idle_sweep_timer_(worker.base(), [this] { sweepIdleStreams(); }),
      age_timer_(worker.base(), [this] { onMaxConnectionAge(); }),
      age_grace_timer_(worker.base(), [this] { onAgeGraceExpired(); }) {
  if (listener_.stats != nullptr) listener_.stats->connectionOpened();
}

DownstreamConnection::~DownstreamConnection() {
  rpcs_.clear();
  if (handed_off_) return;  // counted by the connection that took over
  if (listener_.stats != nullptr) listener_.stats->connectionClosed();
  if (listener_.open_connections) listener_.open_connections->fetch_sub(1, std::memory_order_relaxed);
}

void DownstreamConnection::begin() {
  if (listener_.tls) {
    // The handshake runs first; onConnected() starts HTTP/2 once ALPN chose h2.
    bufferevent_enable(bev(), EV_READ | EV_WRITE);
    handshake_timer_.arm(listener_.handshake_timeout);
    return;
  }
  started_ = true;
  start();
  armIdleTimer();
  armAgeTimer();
}

void DownstreamConnection::onConnected() {
  if (!listener_.tls || started_) return;
  handshake_timer_.cancel();
  SSL* ssl = bufferevent_openssl_get_ssl(bev());
  std::string alpn = ssl != nullptr ? tls::negotiatedAlpn(ssl) : "";
  if (alpn == "http/1.1" || alpn.empty()) {
    // HTTP/1.1 over TLS: the worker gives the connection to an Http1Connection.
    auto identity = recordHandshakeOk(listener_, ssl);
    handed_off_ = true;
    worker_.adoptHttp1(releaseBufferevent(http2::CloseReason::NotHttp2), peer_, listener_,
                       std::move(identity));
    return;
  }
  if (alpn != "h2") {
    recordNoAlpn(listener_, peer_, alpn);
    closeNow(http2::CloseReason::NotHttp2);
    return;
  }
  peer_identity_ = recordHandshakeOk(listener_, ssl);
  started_ = true;
  start();
  armIdleTimer();
  armAgeTimer();
}

void DownstreamConnection::startDrain() {
  if (draining_ || closed()) return;
  draining_ = true;
  nghttp2_submit_shutdown_notice(session());
  // The ACK of a PING sent after the notice proves the client has read it.
  nghttp2_submit_ping(session(), NGHTTP2_FLAG_NONE, kDrainPing);
  scheduleFlush();
  goaway_timer_.arm(kGoawayGrace);
}

void DownstreamConnection::sendFinalGoaway() {
  goaway_timer_.cancel();
  if (closed() || final_goaway_sent_) return;
  final_goaway_sent_ = true;
  nghttp2_submit_goaway(session(), NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session()),
                        NGHTTP2_NO_ERROR, nullptr, 0);
  scheduleFlush();
}

void DownstreamConnection::forceClose() {
  if (closed()) return;
  // Every RPC still open gets a real status rather than a cut stream.
  for (auto& [id, rpc] : rpcs_) {
    if (auto* stats = worker_.stats()) stats->localError(metrics::LocalError::Draining);
    rpc->abort(grpc::StatusCode::Unavailable, "proxy is shutting down (drain_timeout passed)");
  }
  draining_ = true;
  sendFinalGoaway();
}

Status DownstreamConnection::respond(int32_t stream_id, const http2::NvList& headers,
                                     bool end_stream) {
  nghttp2_data_provider body = dataProvider();
  int rv = nghttp2_submit_response(session(), stream_id, headers.data(), headers.size(),
                                   end_stream ? nullptr : &body);
  scheduleFlush();
  return submitted(rv);
}

Status DownstreamConnection::sendTrailers(int32_t stream_id, const http2::NvList& trailers) {
  int rv = nghttp2_submit_trailer(session(), stream_id, trailers.data(), trailers.size());
  scheduleFlush();
  return submitted(rv);
}

void DownstreamConnection::resumeResponse(int32_t stream_id) {
  nghttp2_session_resume_data(session(), stream_id);
  scheduleFlush();
}

Status DownstreamConnection::reset(int32_t stream_id, uint32_t h2_error) {
  int rv = nghttp2_submit_rst_stream(session(), NGHTTP2_FLAG_NONE, stream_id, h2_error);
  scheduleFlush();
  return submitted(rv);
}

void DownstreamConnection::consume(int32_t stream_id, size_t n) {
  if (n == 0) return;
  nghttp2_session_consume(session(), stream_id, n);
  scheduleFlush();
}

Rpc* DownstreamConnection::rpc(int32_t stream_id) const {
  auto it = rpcs_.find(stream_id);
  return it == rpcs_.end() ? nullptr : it->second.get();
}

void DownstreamConnection::armIdleTimer() {
  if (listener_.idle_timeout > Duration::zero() && rpcs_.empty()) {
    idle_timer_.arm(listener_.idle_timeout);
  }
}

int DownstreamConnection::onBeginHeaders(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  int32_t id = frame->hd.stream_id;
  rpcs_[id] = std::make_unique<Rpc>(*this, id);
  idle_timer_.cancel();
  touchStream(id);
  return 0;
}

int DownstreamConnection::onHeader(const nghttp2_frame* frame, nghttp2_rcbuf* name,
                                   nghttp2_rcbuf* value) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Rpc* r = rpc(frame->hd.stream_id);
  if (r == nullptr) return 0;
  // http2::Connection has checked this field against the header-list limits.
  r->requestHeaders().add(name, value);
  return 0;
}

int DownstreamConnection::onFrameRecv(const nghttp2_frame* frame) {
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS: {
      headers_timer_.cancel();
      Rpc* r = rpc(frame->hd.stream_id);
      if (r == nullptr) return 0;
      touchStream(frame->hd.stream_id);
      bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        r->onRequestHeaders(end);
      } else if (end) {
        r->onRequestEnd();  // request trailers: not used by gRPC, but end the stream
      }
      return 0;
    }
    case NGHTTP2_DATA:
      touchStream(frame->hd.stream_id);
      if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        if (Rpc* r = rpc(frame->hd.stream_id)) r->onRequestEnd();
      }
      return 0;
    case NGHTTP2_PING:
      if (draining_ && (frame->hd.flags & NGHTTP2_FLAG_ACK) &&
          std::equal(std::begin(kDrainPing), std::end(kDrainPing), frame->ping.opaque_data)) {
        sendFinalGoaway();
      }
      return 0;
    default:
      return 0;
  }
}

int DownstreamConnection::onDataChunk(int32_t stream_id, const uint8_t* data, size_t len,
                                      uint8_t) {
  Rpc* r = rpc(stream_id);
  if (r == nullptr) {
    consume(stream_id, len);
    return 0;
  }
  touchStream(stream_id);
  r->onRequestData(data, len);
  return 0;
}

int DownstreamConnection::onStreamClose(int32_t stream_id, uint32_t error_code) {
  auto it = rpcs_.find(stream_id);
  if (it == rpcs_.end()) return 0;
  it->second->onDownstreamClosed(error_code);
  rpcs_.erase(it);
  activity_.erase(stream_id);
  if (rpcs_.empty() && !draining_) armIdleTimer();
  return 0;
}

int DownstreamConnection::onFrameSent(const nghttp2_frame* frame) {
  if (listener_.stats != nullptr) {
    // Every GOAWAY with an error code and every reset for a broken stream.
    bool goaway_error = frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR;
    bool rst_error = frame->hd.type == NGHTTP2_RST_STREAM &&
                     http2::isStreamProtocolError(frame->rst_stream.error_code);
    if (goaway_error || rst_error) listener_.stats->protocolError();
  }
  if (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) {
    touchStream(frame->hd.stream_id);
  }
  bool end_stream = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                    (frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
  if (!end_stream) return 0;
  Rpc* r = rpc(frame->hd.stream_id);
  if (r != nullptr && !r->requestEnded()) {
    // gRPC spec: a server that ends the call before the client's END_STREAM
    // follows with RST_STREAM(NO_ERROR), so the client stops sending.
    (void)reset(frame->hd.stream_id, NGHTTP2_NO_ERROR);  // only fails for a bad stream id
  }
  return 0;
}

ssize_t DownstreamConnection::onReadData(int32_t stream_id, uint8_t* buf, size_t len,
                                         uint32_t* flags) {
  Rpc* r = rpc(stream_id);
  if (r == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  return r->readResponseBody(buf, len, flags);
}

void DownstreamConnection::onProtocolError(int nghttp2_error) {
  // Other violations are counted when their GOAWAY goes out (onFrameSent).
  if (nghttp2_error == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
    if (listener_.stats != nullptr) listener_.stats->protocolError();
    log::main().info("listener {}: client {} did not send the HTTP/2 preface (HTTP/1.x or TLS "
                     "to a cleartext port?); answered 505 and closed",
                     listener_.name, peer_.toString());
    evbuffer_add(bufferevent_get_output(bev()), kNotHttp2Reply.data(), kNotHttp2Reply.size());
    return;
  }
  log::main().info("listener {}: client {} broke HTTP/2 ({}); sending GOAWAY", listener_.name,
                   peer_.toString(), nghttp2_strerror(nghttp2_error));
}

void DownstreamConnection::onClosed(http2::CloseReason reason) {
  if (handed_off_) {
    // The socket lives on in an Http1Connection.
  } else if (listener_.tls && !started_ && reason != http2::CloseReason::NotHttp2) {
    recordHandshakeFailure(listener_, bev(), peer_, handshake_timed_out_);
  } else {
    log::main().debug("listener {}: connection from {} closed ({})", listener_.name,
                      peer_.toString(), http2::toString(reason));
    // As nginx does: a connection that ends without close_notify keeps its session.
    if (listener_.tls) tls::keepSessionResumable(bufferevent_openssl_get_ssl(bev()));
  }
  // Destroy the RPCs while the session still exists, then the connection.
  rpcs_.clear();
  worker_.connectionClosed(this);
}

}  // namespace switchyard::proxy
