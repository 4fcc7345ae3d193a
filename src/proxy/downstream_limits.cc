// DownstreamConnection's edge limits: the request-headers timeout, the stream
// DownstreamConnection's edge limits: the request-headers timeout, the stream
// idle timeout, header-list limits, stream-id order, refused excess streams,
// and glitch accounting. Each limit that fires is counted in
// switchyard_listener_limits_hit_total. (The connection's maximum age is
// ConnectionDrain's.)
#include <algorithm>

#include "common/log.h"
#include "metrics/worker_stats.h"
#include "proxy/downstream_connection.h"

namespace switchyard::proxy {
namespace {

// What a header block over the limit costs the connection's glitch budget:
// with the default budget, ten such blocks in a window close the connection.
constexpr uint32_t kHeaderLimitGlitchCost = 100;
// The idle sweep runs this many times per stream_idle_timeout.
constexpr int kIdleSweepsPerTimeout = 4;
constexpr auto kMinIdleSweep = std::chrono::milliseconds(50);

Duration sweepInterval(Duration timeout) {
  return std::max<Duration>(timeout / kIdleSweepsPerTimeout, kMinIdleSweep);
}

}  // namespace

void DownstreamConnection::countLimit(metrics::ListenerLimit limit) {
  if (listener_.stats != nullptr) listener_.stats->limitHit(limit);
}

void DownstreamConnection::onGlitch(metrics::Glitch cause) {
  if (listener_.stats != nullptr) listener_.stats->glitch(cause);
}

void DownstreamConnection::onGlitchBudgetSpent() {
  countLimit(metrics::ListenerLimit::MaxGlitches);
  log::main().warn("listener {}: client {} exceeded http2.max_glitches; closing with "
                   "ENHANCE_YOUR_CALM",
                   listener_.name, peer().toString());
}

void DownstreamConnection::onStreamRefused(int32_t stream_id) {
  countLimit(metrics::ListenerLimit::MaxConcurrentStreams);
  log::main().debug("listener {}: client {} opened stream {} over max_concurrent_streams; "
                    "refused",
                    listener_.name, peer().toString(), stream_id);
}

void DownstreamConnection::touchStream(int32_t stream_id) {
  if (listener_.stream_idle_timeout <= Duration::zero()) return;
  auto now = std::chrono::steady_clock::now();
  auto it = activity_.find(stream_id);
  if (it != activity_.end()) {
    it->second.last = now;
    return;
  }
  // Only a stream being opened is added (onBeginHeaders); frames of streams
  // already forgotten are not.
  if (rpcs_.count(stream_id) == 0) return;
  activity_.emplace(stream_id, StreamActivity{now, false});
  if (!idle_sweep_timer_.armed()) idle_sweep_timer_.arm(sweepInterval(listener_.stream_idle_timeout));
}

void DownstreamConnection::sweepIdleStreams() {
  if (closed() || activity_.empty()) return;
  auto now = std::chrono::steady_clock::now();
  const Duration timeout = listener_.stream_idle_timeout;
  std::vector<int32_t> idle;
  for (auto& [id, a] : activity_) {
    if (now - a.last >= timeout) idle.push_back(id);
  }
  for (int32_t id : idle) {
    auto& a = activity_[id];
    Rpc* r = rpc(id);
    if (!a.aborted && r != nullptr) {
      // End the RPC with a status; if even that cannot get out (the client
      // reads nothing), the next sweep resets the stream.
      a.aborted = true;
      countLimit(metrics::ListenerLimit::StreamIdleTimeout);
      auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
      r->abort(grpc::StatusCode::Unavailable,
               "stream idle for " + std::to_string(secs) + "ms (stream_idle_timeout)");
    } else {
      nghttp2_submit_rst_stream(session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
      a.last = now;  // one reset per sweep at most
    }
  }
  if (!idle.empty()) scheduleFlush();
  idle_sweep_timer_.arm(sweepInterval(timeout));
}

void DownstreamConnection::onRequestHeadersTimeout() {
  if (closed()) return;
  // A header block is half received: nothing else on this connection can be
  // read until it ends (RFC 9113 6.10), so the connection goes.
  countLimit(metrics::ListenerLimit::RequestHeadersTimeout);
  log::main().info("listener {}: client {} did not finish a request header block within {}ms; "
                   "closing",
                   listener_.name, peer().toString(),
                   std::chrono::duration_cast<std::chrono::milliseconds>(
                       listener_.request_headers_timeout)
                       .count());
  terminate(NGHTTP2_NO_ERROR, http2::CloseReason::Timeout);
}

int DownstreamConnection::onBeginFrame(const nghttp2_frame_hd& hd) {
  if (hd.type == NGHTTP2_CONTINUATION) return 0;
  if (hd.type != NGHTTP2_HEADERS) {
    headers_timer_.cancel();  // any header block before this frame is complete
    return 0;
  }
  if (listener_.request_headers_timeout > Duration::zero() && !headers_timer_.armed()) {
    headers_timer_.arm(listener_.request_headers_timeout);
  }
  // RFC 9113 5.1.1: a new stream's id must be larger than every id the client
  // used before. nghttp2 ignores such HEADERS silently; it is a connection error.
  int32_t id = hd.stream_id;
  if ((id & 1) == 0) return 0;  // nghttp2 rejects even ids itself
  if (id > max_client_stream_id_) {
    max_client_stream_id_ = id;
    return 0;
  }
  if (rpcs_.count(id) != 0) return 0;  // trailers of an open stream
  countLimit(metrics::ListenerLimit::StreamIdRegression);
  log::main().info("listener {}: client {} opened stream {} after stream {}; sending GOAWAY",
                   listener_.name, peer().toString(), id, max_client_stream_id_);
  return NGHTTP2_ERR_CALLBACK_FAILURE;
}

int DownstreamConnection::onHeaderLimit(const nghttp2_frame* frame, bool too_many_fields) {
  countLimit(too_many_fields ? metrics::ListenerLimit::HeaderFields
                             : metrics::ListenerLimit::HeaderListSize);
  if (auto* stats = worker().stats()) stats->localError(metrics::LocalError::BadRequest);
  // RST_STREAM(ENHANCE_YOUR_CALM), which gRPC clients report as
  // RESOURCE_EXHAUSTED. Queued before nghttp2's own reset, which then is not sent.
  nghttp2_submit_rst_stream(session(), NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                            NGHTTP2_ENHANCE_YOUR_CALM);
  chargeGlitch(metrics::Glitch::HeaderLimit, kHeaderLimitGlitchCost);
  return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

}  // namespace switchyard::proxy
