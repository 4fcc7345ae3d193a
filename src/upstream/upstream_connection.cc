#include "upstream/upstream_connection.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "common/log.h"
#include "metrics/tls_metrics.h"
#include "metrics/worker_stats.h"

namespace switchyard::upstream {

std::unique_ptr<UpstreamConnection> UpstreamConnection::connect(
    event_base* base, const event::SocketAddress& addr, const ConnectionSettings& settings,
    ClosedFn on_closed, metrics::EndpointSeries* stats) {
  bufferevent* bev = nullptr;
  if (settings.tls) {
    tls::SslPtr ssl = tls::newClientSsl(*settings.tls, settings.tls_name, settings.session.get());
    if (!ssl) return nullptr;
    bev = bufferevent_openssl_socket_new(base, -1, ssl.get(), BUFFEREVENT_SSL_CONNECTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev == nullptr) return nullptr;
    ssl.release();  // the bufferevent owns it now
  } else {
    bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
  }
  if (bev == nullptr) return nullptr;
  std::unique_ptr<UpstreamConnection> conn(
      new UpstreamConnection(base, bev, settings, std::move(on_closed)));
  conn->stats_ = stats;
  // A connect that fails at once (e.g. no route) still reports through the
  // event callback, so the caller always sees one onClosed().
  bufferevent_socket_connect(bev, const_cast<sockaddr*>(addr.sa()), static_cast<int>(addr.len));
  evutil_socket_t fd = bufferevent_getfd(bev);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  conn->connect_timer_.arm(settings.connect_timeout);
  conn->start();
  return conn;
}

std::unique_ptr<UpstreamConnection> UpstreamConnection::adopt(
    event_base* base, bufferevent* bev, const ConnectionSettings& settings, ClosedFn on_closed,
    metrics::EndpointSeries* stats) {
  std::unique_ptr<UpstreamConnection> conn(
      new UpstreamConnection(base, bev, settings, std::move(on_closed)));
  conn->stats_ = stats;
  conn->start();
  // The same path a socket's connect completion takes, from the top of the loop.
  bufferevent_trigger_event(bev, BEV_EVENT_CONNECTED, BEV_TRIG_DEFER_CALLBACKS);
  return conn;
}

UpstreamConnection::UpstreamConnection(event_base* base, bufferevent* bev,
                                       const ConnectionSettings& settings, ClosedFn on_closed)
    : http2::Connection(base, bev, http2::Role::Client, settings.h2),
      settings_(settings),
      on_closed_(std::move(on_closed)),
      connect_timer_(base,
                     [this] {
                       if (!connected_) closeNow(http2::CloseReason::ConnectFailed);
                     }),
      keepalive_timer_(base, [this] { onKeepaliveTimer(); }),
      pending_timer_(base, [this] { expirePending(); },
                     settings_.clock != nullptr ? *settings_.clock : event::realClock()) {}

UpstreamConnection::~UpstreamConnection() {
  // Streams still attached learn that the connection is gone.
  failAll(connected_ ? StreamFailure::ConnectionLost : StreamFailure::ConnectFailed);
}

int32_t UpstreamConnection::submit(StreamHandler* handler, const nghttp2_nv* nva, size_t nvlen) {
  size_t bytes = 0;
  for (size_t i = 0; i < nvlen; ++i) bytes += nva[i].namelen + nva[i].valuelen + 32;
  if (bytes > requestHeaderLimit()) {
    // Sent anyway, the backend would fail it, and its HPACK state might fail
    // other clients' streams on this connection.
    countLimit(metrics::UpstreamLimit::RequestHeaders);
    return kSubmitHeadersTooLarge;
  }
  // A place in the cluster's pending count is taken before submitting (one
  // atomic add: other workers count against the same limit) and given back
  // if the stream is not opened after all.
  PendingRpcCounter* waiting = settings_.pending_count.get();
  bool pending = !hasCapacity() && waiting != nullptr;
  if (pending && waiting->fetch_add(1, std::memory_order_relaxed) >= settings_.max_pending) {
    waiting->fetch_sub(1, std::memory_order_relaxed);
    countLimit(metrics::UpstreamLimit::PendingFull);
    return kSubmitPendingFull;
  }
  nghttp2_data_provider prd = dataProvider();
  int32_t id = nghttp2_submit_request(session(), nullptr, nva, nvlen, &prd, nullptr);
  if (id < 0) {
    if (pending) waiting->fetch_sub(1, std::memory_order_relaxed);
    return id;
  }
  StreamState& st = streams_[id];
  st.handler = handler;
  st.submitted = clock().now();
  st.pending = pending;
  if (!pending_timer_.armed()) pending_timer_.arm(settings_.pending_timeout);
  if (stats_ != nullptr) stats_->streamStarted();
  scheduleFlush();
  return id;
}

StreamHandler* UpstreamConnection::handler(int32_t stream_id) const {
  const StreamState* st = streams_.find(stream_id);
  return st == nullptr ? nullptr : st->handler;
}

void UpstreamConnection::cancel(int32_t stream_id, uint32_t h2_error) {
  StreamState* st = streams_.find(stream_id);
  if (st == nullptr) return;
  st->handler = nullptr;
  nghttp2_submit_rst_stream(session(), NGHTTP2_FLAG_NONE, stream_id, h2_error);
  if (!st->sent) {
    // Never sent: nghttp2 drops the queued HEADERS when their turn comes, which
    // at the backend's stream limit may be never. Forget the stream now.
    releasePending(stream_id);
    streams_.erase(stream_id);
    if (stats_ != nullptr) stats_->streamEnded();
  }
  scheduleFlush();
}

void UpstreamConnection::detach(int32_t stream_id) {
  if (StreamState* st = streams_.find(stream_id)) st->handler = nullptr;
}

void UpstreamConnection::consume(int32_t stream_id, size_t n) {
  if (n == 0) return;
  if (nghttp2_session_consume(session(), stream_id, n) != 0) {
    nghttp2_session_consume_connection(session(), n);
  }
  scheduleFlush();
}

void UpstreamConnection::consumeConnection(size_t n) {
  if (n == 0) return;
  nghttp2_session_consume_connection(session(), n);
  scheduleFlush();
}

void UpstreamConnection::resume(int32_t stream_id) {
  nghttp2_session_resume_data(session(), stream_id);
  scheduleFlush();
}

bool UpstreamConnection::hasCapacity() const {
  if (draining_ || closed()) return false;
  uint32_t max = nghttp2_session_get_remote_settings(session(),
                                                     NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return streams_.size() < max;
}

void UpstreamConnection::drain() {
  draining_ = true;
  if (streams_.empty()) terminate(NGHTTP2_NO_ERROR, http2::CloseReason::Done);
}

void UpstreamConnection::failAll(StreamFailure failure) {
  for (auto& [id, st] : streams_) releasePending(id);
  auto streams = streams_.takeAll();
  if (stats_ != nullptr) {
    for (size_t i = 0; i < streams.size(); ++i) stats_->streamEnded();
  }
  for (auto& [id, st] : streams) {
    if (st.handler != nullptr) {
      // A stream nghttp2 never got to send was refused before reaching the backend.
      StreamFailure f = failure;
      if (id > goaway_last_stream_id_) f = StreamFailure::Refused;
      st.handler->onUpstreamClosed(f, 0);
    }
  }
}

bool UpstreamConnection::checkTlsSession() {
  if (!settings_.tls) return true;
  SSL* ssl = bufferevent_openssl_get_ssl(bev());
  std::string alpn = ssl != nullptr ? tls::negotiatedAlpn(ssl) : "";
  if (alpn == "h2") return true;
  failure_cause_ = "tls_handshake";
  failure_detail_ = "TLS handshake: the backend did not select ALPN h2 (got \"" + alpn + "\")";
  closeNow(http2::CloseReason::ConnectFailed);
  return false;
}

void UpstreamConnection::attributeConnectFailure() {
  if (!settings_.tls) {
    failure_detail_ = "connect failed";
    return;
  }
  if (failure_cause_ == std::string_view("tls_handshake")) return;  // already known
  SSL* ssl = bufferevent_openssl_get_ssl(bev());
  unsigned long first = 0;
  for (unsigned long err; (err = bufferevent_get_openssl_error(bev())) != 0;) {
    // libevent also queues socket errors, with no library set: those are not TLS.
    if (first == 0 && ERR_GET_LIB(err) != 0) first = err;
  }
  // ClientHello bytes went out: TCP was connected, so TLS is what failed.
  bool hello_sent = ssl != nullptr && BIO_number_written(SSL_get_wbio(ssl)) > 0;
  bool verify_failed = ssl != nullptr && SSL_get_verify_result(ssl) != X509_V_OK;
  if (first == 0 && !verify_failed && !hello_sent) {
    failure_detail_ = "connect failed";
    return;
  }
  failure_cause_ = "tls_handshake";
  failure_detail_ = "TLS handshake failed: " +
                    (first == 0 && !verify_failed ? std::string("the backend closed the connection")
                                                  : tls::clientFailureDetail(ssl, first));
  if (stats_ != nullptr) {
    metrics::TlsMetrics::instance().upstreamHandshakeFailure(stats_->cluster(), stats_->address());
  }
}

void UpstreamConnection::onConnected() {
  if (!checkTlsSession()) return;
  connected_ = true;
  connect_timer_.cancel();
  if (stats_ != nullptr) stats_->connectionOpened();
  evutil_socket_t fd = bufferevent_getfd(bev());
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  keepalive_timer_.arm(settings_.keepalive_interval);
}

void UpstreamConnection::onKeepaliveTimer() {
  if (closed()) return;
  if (ping_outstanding_) {
    log::main().warn("upstream keepalive: no PING ack within {}s; closing",
                     std::chrono::duration_cast<std::chrono::seconds>(settings_.keepalive_timeout)
                         .count());
    closeNow(http2::CloseReason::Timeout);
    return;
  }
  // Only ping a connection that has been quiet: traffic proves it is alive.
  auto idle = std::chrono::steady_clock::now() - lastActivity();
  if (idle >= settings_.keepalive_interval) {
    nghttp2_submit_ping(session(), NGHTTP2_FLAG_NONE, nullptr);
    ping_outstanding_ = true;
    scheduleFlush();
    keepalive_timer_.arm(settings_.keepalive_timeout);
  } else {
    keepalive_timer_.arm(settings_.keepalive_interval - idle);
  }
}

int UpstreamConnection::onBeginHeaders(const nghttp2_frame* frame) {
  if (StreamState* st = streams_.find(frame->hd.stream_id)) st->headers.clear();
  return 0;
}

int UpstreamConnection::onHeader(const nghttp2_frame* frame, nghttp2_rcbuf* name,
                                 nghttp2_rcbuf* value) {
  StreamState* st = streams_.find(frame->hd.stream_id);
  if (st == nullptr || st->handler == nullptr) return 0;
  st->headers.add(name, value);
  return 0;
}

int UpstreamConnection::onFrameRecv(const nghttp2_frame* frame) {
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS: {
      StreamState* found = streams_.find(frame->hd.stream_id);
      if (found == nullptr || found->handler == nullptr) return 0;
      auto& st = *found;
      bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
      // nghttp2 calls the final response after a 1xx a HEADERS block, not a RESPONSE.
      bool response = frame->headers.cat == NGHTTP2_HCAT_RESPONSE ||
                      (frame->headers.cat == NGHTTP2_HCAT_HEADERS && !st.got_response_headers);
      if (response) {
        // 1xx interim responses are skipped (gRPC spec); nghttp2 reports them as RESPONSE too.
        std::string_view status = st.headers.get(":status");
        if (!status.empty() && status[0] == '1') {
          st.headers.clear();
          return 0;
        }
        st.got_response_headers = true;
        st.handler->onUpstreamHeaders(std::move(st.headers), end);
      } else if (frame->headers.cat == NGHTTP2_HCAT_HEADERS) {
        st.handler->onUpstreamTrailers(std::move(st.headers));
      }
      st.headers.clear();
      return 0;
    }
    case NGHTTP2_DATA:
      if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        // DATA with END_STREAM and no trailers: a broken gRPC server. The
        // RPC sees an empty trailer block and synthesises the status.
        StreamState* st = streams_.find(frame->hd.stream_id);
        if (st != nullptr && st->handler != nullptr) {
          st->handler->onUpstreamTrailers(http2::HeaderList{});
        }
      }
      return 0;
    case NGHTTP2_GOAWAY:
      draining_ = true;
      goaway_last_stream_id_ = frame->goaway.last_stream_id;
      log::main().debug("upstream GOAWAY (last stream {}, error {})", frame->goaway.last_stream_id,
                        frame->goaway.error_code);
      if (streams_.empty()) terminate(NGHTTP2_NO_ERROR, http2::CloseReason::Done);
      return 0;
    case NGHTTP2_PING:
      if (frame->hd.flags & NGHTTP2_FLAG_ACK) {
        ping_outstanding_ = false;
        keepalive_timer_.arm(settings_.keepalive_interval);
      }
      return 0;
    default:
      return 0;
  }
}

int UpstreamConnection::onDataChunk(int32_t stream_id, const uint8_t* data, size_t len, uint8_t) {
  StreamHandler* h = handler(stream_id);
  if (h == nullptr) {
    // Nobody will read it: give the window back now.
    nghttp2_session_consume(session(), stream_id, len);
    scheduleFlush();
    return 0;
  }
  h->onUpstreamData(data, len);
  return 0;
}

int UpstreamConnection::onStreamClose(int32_t stream_id, uint32_t error_code) {
  StreamState* st = streams_.find(stream_id);
  if (st == nullptr) return 0;
  StreamHandler* h = st->handler;
  releasePending(stream_id);
  streams_.erase(stream_id);
  if (stats_ != nullptr) stats_->streamEnded();
  if (h != nullptr) {
    StreamFailure f = StreamFailure::None;
    if (error_code == NGHTTP2_REFUSED_STREAM) {
      f = StreamFailure::Refused;
    } else if (error_code != NGHTTP2_NO_ERROR) {
      f = StreamFailure::Reset;
    }
    h->onUpstreamClosed(f, error_code);
  }
  if (draining_ && streams_.empty()) terminate(NGHTTP2_NO_ERROR, http2::CloseReason::Done);
  return 0;
}

ssize_t UpstreamConnection::onReadData(int32_t stream_id, uint8_t* buf, size_t len,
                                       uint32_t* flags) {
  StreamHandler* h = handler(stream_id);
  if (h == nullptr) {
    // The RPC is gone and the stream is being reset: send nothing more.
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return h->readRequestBody(buf, len, flags);
}

void UpstreamConnection::onClosed(http2::CloseReason reason) {
  connect_timer_.cancel();
  if (!connected_) attributeConnectFailure();
  if (connected_ && settings_.tls) {
    tls::keepSessionResumable(bufferevent_openssl_get_ssl(bev()));
  }
  keepalive_timer_.cancel();
  pending_timer_.cancel();
  if (stats_ != nullptr) {
    if (connected_) {
      stats_->connectionClosed();
    } else {
      stats_->connectFailed();
    }
  }
  failAll(connected_ ? StreamFailure::ConnectionLost : StreamFailure::ConnectFailed);
  if (on_closed_) on_closed_(this, reason);  // destroys this
}

}  // namespace switchyard::upstream
