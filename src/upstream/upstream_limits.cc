// UpstreamConnection's limits: the request header-list limit (refused before
// sending), the pending queue (streams waiting for a slot under the backend's
// SETTINGS_MAX_CONCURRENT_STREAMS), and response header/trailer limits. Each
// is counted in switchyard_upstream_limits_hit_total.
#include <algorithm>
#include <vector>

#include "common/log.h"
#include "metrics/worker_stats.h"
#include "upstream/upstream_connection.h"

namespace switchyard::upstream {

std::string submitErrorText(int32_t error) {
  switch (error) {
    case kSubmitPendingFull:
      return "too many RPCs waiting for a stream slot (circuit_breaker.max_pending)";
    case kSubmitHeadersTooLarge:
      return "request headers exceed the backend's header-list limit";
    default:
      return nghttp2_strerror(error);
  }
}

bool submitErrorIsResourceExhausted(int32_t error) { return error == kSubmitHeadersTooLarge; }

size_t UpstreamConnection::requestHeaderLimit() const {
  // The backend's own limit when it advertised one (nghttp2 reports
  // "unlimited" until then), never more than the cluster's.
  uint32_t advertised =
      nghttp2_session_get_remote_settings(session(), NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE);
  return std::min(advertised, settings_.max_request_header_list_size);
}

void UpstreamConnection::countLimit(metrics::UpstreamLimit limit) {
  if (stats_ != nullptr) stats_->limitHit(limit);
}

void UpstreamConnection::releasePending(int32_t stream_id) {
  StreamState* st = streams_.find(stream_id);
  if (st == nullptr || !st->pending) return;
  st->pending = false;
  if (settings_.pending_count != nullptr) settings_.pending_count->fetch_sub(1, std::memory_order_relaxed);
}

int UpstreamConnection::onFrameSent(const nghttp2_frame* frame) {
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    if (StreamState* st = streams_.find(frame->hd.stream_id)) {
      st->sent = true;
      releasePending(frame->hd.stream_id);
    }
  }
  return 0;
}

void UpstreamConnection::expirePending() {
  if (closed()) return;
  auto now = clock().now();
  const Duration timeout = settings_.pending_timeout;
  std::vector<int32_t> expired;
  Duration next = timeout;
  bool waiting = false;
  for (const auto& [id, st] : streams_) {
    if (st.sent) continue;
    auto age = now - st.submitted;
    if (age >= timeout) {
      expired.push_back(id);
    } else {
      waiting = true;
      next = std::min<Duration>(next, timeout - age);
    }
  }
  for (int32_t id : expired) {
    StreamState* st = streams_.find(id);
    if (st == nullptr) continue;
    StreamHandler* h = st->handler;
    countLimit(metrics::UpstreamLimit::PendingTimeout);
    nghttp2_session_set_stream_user_data(session(), id, nullptr);
    nghttp2_submit_rst_stream(session(), NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    releasePending(id);
    streams_.erase(id);
    if (stats_ != nullptr) stats_->streamEnded();
    if (h != nullptr) h->onUpstreamClosed(StreamFailure::PendingTimeout, 0);
  }
  if (!expired.empty()) scheduleFlush();
  if (waiting) pending_timer_.arm(next);
}

int UpstreamConnection::onHeaderLimit(const nghttp2_frame* frame, bool too_many_fields) {
  countLimit(metrics::UpstreamLimit::ResponseHeaders);
  if (StreamState* st = streams_.find(frame->hd.stream_id)) {
    st->headers.clear();
    StreamHandler* h = st->handler;
    st->handler = nullptr;
    nghttp2_session_set_stream_user_data(session(), frame->hd.stream_id, nullptr);
    log::main().info("upstream stream {}: response header block over the cluster's {} limit; "
                     "resetting it",
                     frame->hd.stream_id, too_many_fields ? "field-count" : "size");
    if (h != nullptr) h->onUpstreamClosed(StreamFailure::BadResponse, NGHTTP2_INTERNAL_ERROR);
  }
  // nghttp2 resets the stream (INTERNAL_ERROR) and skips the rest of the block.
  return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

}  // namespace switchyard::upstream
