#include "proxy/downstream_connection.h"

#include "common/log.h"
#include "metrics/worker_stats.h"

namespace switchyard::proxy {
namespace {

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
      start_(worker.base(), listener_, peer_,
             [this] {
               if (closed()) return false;
               closeNow(http2::CloseReason::Timeout);
               return true;
             }),
      drain_(worker.base(), *this, session(), listener_, peer_,
             [this](const char* why, bool shutting_down) {
               rpcs_.endAll(why, shutting_down ? worker_.stats() : nullptr);
             }),
      limits_(worker, *this, session(), listener_, peer_, rpcs_) {
  setEdgeObserver(&limits_);
  if (listener_.stats != nullptr) listener_.stats->connectionOpened();
}

DownstreamConnection::~DownstreamConnection() {
  rpcs_.clear();
  if (start_.handedOff()) return;  // counted by the connection that took over
  if (listener_.stats != nullptr) listener_.stats->connectionClosed();
  if (listener_.open_connections) listener_.open_connections->fetch_sub(1, std::memory_order_relaxed);
}

void DownstreamConnection::begin() {
  if (start_.begin(bev())) startHttp2();  // TLS: onConnected(), once ALPN chose h2
}

void DownstreamConnection::onConnected() {
  if (!listener_.tls || start_.started()) return;
  switch (start_.handshakeDone(bev())) {
    case ConnectionStart::Next::Http2: return startHttp2();
    case ConnectionStart::Next::Refused: return closeNow(http2::CloseReason::NotHttp2);
    case ConnectionStart::Next::Http1:  // the worker gives the socket to an Http1Connection
      return worker_.adoptHttp1(releaseBufferevent(http2::CloseReason::NotHttp2), peer_, listener_,
                                start_.sharedPeerIdentity());
  }
}

void DownstreamConnection::startHttp2() {
  start();
  limits_.timeouts().connectionIdle();
  drain_.armAge(worker_.random());
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

int DownstreamConnection::onBeginHeaders(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  int32_t id = frame->hd.stream_id;
  rpcs_.open(*this, id);
  limits_.timeouts().streamOpened(id);
  return 0;
}

int DownstreamConnection::onHeader(const nghttp2_frame* frame, nghttp2_rcbuf* name,
                                   nghttp2_rcbuf* value) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Rpc* r = rpcs_.find(frame->hd.stream_id);
  if (r == nullptr) return 0;
  // http2::Connection has checked this field against the header-list limits.
  r->requestHeaders().add(name, value);
  return 0;
}

int DownstreamConnection::onFrameRecv(const nghttp2_frame* frame) {
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS: {
      limits_.timeouts().headersReceived();
      Rpc* r = rpcs_.find(frame->hd.stream_id);
      if (r == nullptr) return 0;
      limits_.timeouts().touch(frame->hd.stream_id);
      bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        r->onRequestHeaders(end);
      } else if (end) {
        r->onRequestEnd();  // request trailers: not used by gRPC, but end the stream
      }
      return 0;
    }
    case NGHTTP2_DATA:
      limits_.timeouts().touch(frame->hd.stream_id);
      if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        if (Rpc* r = rpcs_.find(frame->hd.stream_id)) r->onRequestEnd();
      }
      return 0;
    case NGHTTP2_PING:
      drain_.onPing(*frame);
      return 0;
    default:
      return 0;
  }
}

int DownstreamConnection::onDataChunk(int32_t stream_id, const uint8_t* data, size_t len,
                                      uint8_t) {
  Rpc* r = rpcs_.find(stream_id);
  if (r == nullptr) {
    consume(stream_id, len);
    return 0;
  }
  limits_.timeouts().touch(stream_id);
  r->onRequestData(data, len);
  return 0;
}

int DownstreamConnection::onStreamClose(int32_t stream_id, uint32_t error_code) {
  if (!rpcs_.close(stream_id, error_code)) return 0;
  limits_.timeouts().streamClosed(stream_id);
  if (rpcs_.empty() && !drain_.draining()) limits_.timeouts().connectionIdle();
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
    limits_.timeouts().touch(frame->hd.stream_id);
  }
  bool end_stream = (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
                    (frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
  if (!end_stream) return 0;
  Rpc* r = rpcs_.find(frame->hd.stream_id);
  if (r != nullptr && !r->requestEnded()) {
    // gRPC spec: a server that ends the call before the client's END_STREAM
    // follows with RST_STREAM(NO_ERROR), so the client stops sending.
    (void)reset(frame->hd.stream_id, NGHTTP2_NO_ERROR);  // only fails for a bad stream id
  }
  return 0;
}

ssize_t DownstreamConnection::onReadData(int32_t stream_id, uint8_t* buf, size_t len,
                                         uint32_t* flags) {
  Rpc* r = rpcs_.find(stream_id);
  if (r == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  return r->readResponseBody(buf, len, flags);
}

void DownstreamConnection::onProtocolError(int nghttp2_error) {
  // Other violations are counted when their GOAWAY goes out (onFrameSent).
  if (start_.answerNotHttp2(nghttp2_error, output())) return;
  log::main().info("listener {}: client {} broke HTTP/2 ({}); sending GOAWAY", listener_.name,
                   peer_.toString(), nghttp2_strerror(nghttp2_error));
}

void DownstreamConnection::onClosed(http2::CloseReason reason) {
  start_.closed(reason, bev());
  // Destroy the RPCs while the session still exists, then the connection.
  rpcs_.clear();
  worker_.connectionClosed(this);
}

}  // namespace switchyard::proxy
