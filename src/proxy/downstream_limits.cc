#include "proxy/downstream_limits.h"

#include "common/log.h"
#include "metrics/worker_stats.h"

namespace switchyard::proxy {
namespace {

// What a header block over the limit costs the connection's glitch budget:
// with the default budget, ten such blocks in a window close the connection.
constexpr uint32_t kHeaderLimitGlitchCost = 100;

}  // namespace

DownstreamLimits::DownstreamLimits(WorkerContext& worker, http2::Connection& conn,
                                   nghttp2_session* session, const ListenerInfo& listener,
                                   const event::SocketAddress& peer, StreamRpcs& rpcs)
    : worker_(worker),
      conn_(conn),
      session_(session),
      listener_(listener),
      peer_(peer),
      rpcs_(rpcs),
      timeouts_(worker.base(), worker.clock(), listener,
                StreamTimeouts::Actions{
                    .open = [this] { return !conn_.closed(); },
                    .close = [this](StreamTimeouts::Expired what) { onTimeout(what); },
                    .end_rpc = [this](int32_t stream_id,
                                      const std::string& why) { return rpcs_.end(stream_id, why); },
                    .reset =
                        [this](int32_t stream_id) {
                          nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id,
                                                    NGHTTP2_CANCEL);
                          conn_.scheduleFlush();
                        },
                }) {}

void DownstreamLimits::count(metrics::ListenerLimit limit) {
  if (listener_.stats != nullptr) listener_.stats->limitHit(limit);
}

void DownstreamLimits::onTimeout(StreamTimeouts::Expired what) {
  if (what == StreamTimeouts::Expired::Idle) {
    // Armed only while no RPC is open, and cancelled by the next one.
    return conn_.terminate(NGHTTP2_NO_ERROR, http2::CloseReason::Timeout);
  }
  // A header block is half received: nothing else on this connection can be
  // read until it ends (RFC 9113 6.10), so the connection goes.
  count(metrics::ListenerLimit::RequestHeadersTimeout);
  log::main().info("listener {}: client {} did not finish a request header block within {}ms; "
                   "closing",
                   listener_.name, peer_.toString(),
                   std::chrono::duration_cast<std::chrono::milliseconds>(
                       listener_.request_headers_timeout)
                       .count());
  conn_.terminate(NGHTTP2_NO_ERROR, http2::CloseReason::Timeout);
}

void DownstreamLimits::onGlitch(metrics::Glitch cause) {
  if (listener_.stats != nullptr) listener_.stats->glitch(cause);
}

void DownstreamLimits::onGlitchBudgetSpent() {
  count(metrics::ListenerLimit::MaxGlitches);
  log::main().warn("listener {}: client {} exceeded http2.max_glitches; closing with "
                   "ENHANCE_YOUR_CALM",
                   listener_.name, peer_.toString());
}

void DownstreamLimits::onStreamRefused(int32_t stream_id) {
  count(metrics::ListenerLimit::MaxConcurrentStreams);
  log::main().debug("listener {}: client {} opened stream {} over max_concurrent_streams; "
                    "refused",
                    listener_.name, peer_.toString(), stream_id);
}

int DownstreamLimits::onBeginFrame(const nghttp2_frame_hd& hd) {
  timeouts_.frameBegins(hd.type);
  if (hd.type != NGHTTP2_HEADERS) return 0;
  // RFC 9113 5.1.1: a new stream's id must be larger than every id the client
  // used before. nghttp2 ignores such HEADERS silently; it is a connection error.
  int32_t id = hd.stream_id;
  if ((id & 1) == 0) return 0;  // nghttp2 rejects even ids itself
  if (id > max_client_stream_id_) {
    max_client_stream_id_ = id;
    return 0;
  }
  if (rpcs_.find(id) != nullptr) return 0;  // trailers of an open stream
  count(metrics::ListenerLimit::StreamIdRegression);
  log::main().info("listener {}: client {} opened stream {} after stream {}; sending GOAWAY",
                   listener_.name, peer_.toString(), id, max_client_stream_id_);
  return NGHTTP2_ERR_CALLBACK_FAILURE;
}

int DownstreamLimits::onHeaderLimit(const nghttp2_frame* frame, bool too_many_fields) {
  count(too_many_fields ? metrics::ListenerLimit::HeaderFields
                        : metrics::ListenerLimit::HeaderListSize);
  if (auto* stats = worker_.stats()) stats->localError(metrics::LocalError::BadRequest);
  // RST_STREAM(ENHANCE_YOUR_CALM), which gRPC clients report as
  // RESOURCE_EXHAUSTED. Queued before nghttp2's own reset, which then is not sent.
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                            NGHTTP2_ENHANCE_YOUR_CALM);
  conn_.chargeGlitch(metrics::Glitch::HeaderLimit, kHeaderLimitGlitchCost);
  return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

}  // namespace switchyard::proxy
