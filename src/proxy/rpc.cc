#include "proxy/rpc.h"

#include <algorithm>
#include <charconv>

#include "common/log.h"
#include "grpc/content_type.h"
#include "grpc/message.h"
#include "grpc/method_path.h"
#include "grpc/status_map.h"
#include "grpc/timeout.h"
#include "metrics/worker_stats.h"

namespace switchyard::proxy {
namespace {

using grpc::StatusCode;

int parseHttpStatus(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return (ec == std::errc() && p == s.data() + s.size()) ? v : 0;
}

std::string h2ErrorName(uint32_t code) { return nghttp2_http2_strerror(code); }

}  // namespace

Rpc::Rpc(DownstreamSide& conn, int32_t stream_id)
    : conn_(conn),
      stream_id_(stream_id),
      req_buf_(evbuffer_new()),
      resp_buf_(evbuffer_new()),
      start_(std::chrono::steady_clock::now()),
      deadline_timer_(conn.worker().base(), [this] { onDeadline(); }),
      retry_timer_(conn.worker().base(), [this] {
        if (phase_ == Phase::Upstream && up_ == nullptr) startAttempt();
      }) {}

Rpc::~Rpc() {
  detachUpstream(NGHTTP2_CANCEL);
  if (counters_ != nullptr) {
    --counters_->active_rpcs;
    if (counted_as_retry_) --counters_->active_retries;
  }
  if (series_ != nullptr) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    series_->messagesReceived(msgs_in_.messages());
    series_->messagesSent(msgs_out_.messages());
    series_->bytesReceived(bytes_in_);
    series_->bytesSent(bytes_out_);
    series_->handled(status_ < 0 ? static_cast<int>(StatusCode::Cancelled) : status_, secs);
  }
  logAccess();
}

std::string_view Rpc::methodPath() const { return req_headers_.get(":path"); }

// ---------------------------------------------------------------- downstream

void Rpc::onRequestHeaders(bool end_stream) {
  if (end_stream) req_ended_ = true;
  route();
}

void Rpc::route() {
  runtime_ = conn_.worker().runtime();
  if (headers_too_large_) {
    finishLocal(StatusCode::ResourceExhausted,
                "request headers exceed " + std::to_string(conn_.listener().h2.max_header_list_size) +
                    " bytes");
    return;
  }
  if (!grpc::isGrpcContentType(req_headers_.get("content-type"))) {
    // gRPC spec: a server SHOULD answer a non-gRPC content-type with HTTP 415.
    replyHttp(415);
    return;
  }
  if (req_headers_.get(":method") != "POST") {
    replyHttp(405);
    return;
  }
  std::string_view path = methodPath();
  route_ = runtime_->routes->match(path);
  auto* stats = conn_.worker().stats();
  if (route_ == nullptr) {
    if (stats != nullptr) {
      series_ = stats->rpc("unmatched", "unmatched", "");
      series_->started();
      stats->localError(metrics::LocalError::NoRoute);
    }
    finishLocal(StatusCode::Unimplemented, "no route for method " + std::string(path));
    return;
  }
  cluster_index_ = static_cast<int>(runtime_->route_cluster[route_->index]);
  counters_ = conn_.worker().clusters().counters(route_->cluster);
  ++counters_->active_rpcs;
  if (stats != nullptr) {
    auto parsed = grpc::parseMethodPath(path);
    std::string_view service = parsed ? parsed->service : std::string_view("unknown");
    std::string_view method = parsed ? parsed->method : std::string_view("unknown");
    series_ = stats->rpc(service, method, route_->cluster);
    series_->started();
  }

  std::optional<Duration> timeout;
  bool found = false;
  std::string_view timeout_text = req_headers_.get("grpc-timeout", &found);
  if (found) {
    timeout = grpc::parseGrpcTimeout(timeout_text);
    if (!timeout) {
      if (stats != nullptr) stats->localError(metrics::LocalError::BadRequest);
      finishLocal(StatusCode::Internal,
                  "malformed grpc-timeout header: \"" + std::string(timeout_text) + "\"");
      return;
    }
    if (route_->timeout_max && *timeout > *route_->timeout_max) timeout = route_->timeout_max;
  } else if (route_->timeout_default) {
    timeout = route_->timeout_default;
  }
  if (timeout) {
    has_deadline_ = true;
    deadline_at_ = start_ + *timeout;
    deadline_timer_.arm(*timeout);
  }
  phase_ = Phase::Upstream;
  startAttempt();
}

bool Rpc::startAttempt() {
  auto* stats = conn_.worker().stats();
  const auto& cluster = *runtime_->clusters[static_cast<size_t>(cluster_index_)];
  auto pick = conn_.worker().clusters().pick(*runtime_, static_cast<size_t>(cluster_index_),
                                             endpoint_index_);
  if (!pick) {
    if (stats != nullptr) stats->localError(metrics::LocalError::NoHealthyEndpoint);
    finishLocal(StatusCode::Unavailable, "no healthy endpoint in cluster " + cluster.name());
    return false;
  }
  endpoint_ = pick->endpoint->address;
  endpoint_index_ = static_cast<int>(pick->endpoint_index);
  ++attempts_;
  upstream::UpstreamConnection* up = pick->pool->acquire();
  if (up == nullptr) {
    finishLocal(StatusCode::Unavailable, "cannot open a connection to " + endpoint_);
    return false;
  }
  http2::NvList nva;
  std::string timeout_buf;
  std::string xff_buf;
  buildUpstreamHeaders(nva, timeout_buf, xff_buf);
  int32_t id = up->submit(this, nva.data(), nva.size());
  if (id < 0) {
    finishLocal(StatusCode::Unavailable,
                "cannot open a stream to " + endpoint_ + ": " + nghttp2_strerror(id));
    return false;
  }
  up_ = up;
  up_stream_ = id;
  pool_ = pick->pool;
  return true;
}

void Rpc::buildUpstreamHeaders(http2::NvList& nva, std::string& timeout_buf,
                               std::string& xff_buf) const {
  const auto& cluster = *runtime_->clusters[static_cast<size_t>(cluster_index_)];
  nva.reserve(req_headers_.size() + 2);
  std::string_view prior_xff;
  bool has_xff = false;
  for (const auto& [n, v] : req_headers_.fields()) {
    std::string_view name = http2::view(n);
    std::string_view value = http2::view(v);
    if (name == ":authority" && !cluster.spec->authority.empty()) {
      value = cluster.spec->authority;
    } else if (name == ":scheme") {
      value = "http";  // backends are reached over h2c
    } else if (name == "grpc-timeout") {
      continue;  // replaced by the remaining budget below
    } else if (name == "x-forwarded-for") {
      prior_xff = value;
      has_xff = true;
      continue;
    } else if (http2::isHopByHop(name)) {
      continue;
    }
    nva.add(name, value);
  }
  if (attempts_ > 1) {
    // gRPC A6: tell the backend this is a retry.
    attempts_buf_ = std::to_string(attempts_ - 1);
    nva.add("grpc-previous-rpc-attempts", attempts_buf_);
  }
  if (has_deadline_) {
    // Forward what is left of the caller's budget, not what it started with.
    timeout_buf = grpc::formatGrpcTimeout(deadline_at_ - std::chrono::steady_clock::now());
    nva.add("grpc-timeout", timeout_buf);
  }
  xff_buf = has_xff ? std::string(prior_xff) + ", " + conn_.peerIp() : conn_.peerIp();
  nva.add("x-forwarded-for", xff_buf);
}

void Rpc::onRequestData(const uint8_t* data, size_t len) {
  bytes_in_ += len;
  msgs_in_.feed(data, len);
  if (phase_ == Phase::Responded || (phase_ == Phase::Upstream && up_ == nullptr)) {
    // Nobody will forward these bytes: reopen the client's window at once.
    conn_.consume(stream_id_, len);
    return;
  }
  evbuffer_add(req_buf_.get(), data, len);
  if (up_ != nullptr) up_->resume(up_stream_);
}

void Rpc::onRequestEnd() {
  req_ended_ = true;
  if (up_ != nullptr) up_->resume(up_stream_);
}

ssize_t Rpc::readRequestBody(uint8_t* buf, size_t len, uint32_t* flags) {
  int n = evbuffer_remove(req_buf_.get(), buf, len);
  if (n > 0) {
    size_t taken = static_cast<size_t>(n);
    // Keep a copy for a possible retry while it fits the retry buffer.
    if (body_retained_) {
      uint64_t limit = runtime_->clusters[static_cast<size_t>(cluster_index_)]->spec->retry_buffer;
      if (sent_total_ + taken <= limit) {
        evbuffer_add(sent_buf_.get(), buf, taken);
      } else {
        body_retained_ = false;
        evbuffer_drain(sent_buf_.get(), evbuffer_get_length(sent_buf_.get()));
      }
    }
    sent_total_ += taken;
    // The backend took these bytes: let the client send as many more (bytes
    // re-sent on a retry were paid for already).
    size_t resent = std::min(taken, resend_pending_);
    resend_pending_ -= resent;
    conn_.consume(stream_id_, taken - resent);
  }
  if (evbuffer_get_length(req_buf_.get()) == 0 && req_ended_) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return n > 0 ? n : 0;
  }
  if (n <= 0) return NGHTTP2_ERR_DEFERRED;
  return n;
}

void Rpc::onDownstreamClosed(uint32_t h2_error) {
  if (up_ != nullptr) {
    // The client went away (RST_STREAM CANCEL, or an early close): the backend must see
    // its call cancelled. If the backend had already finished, say so with NO_ERROR.
    detachUpstream(resp_complete_ ? NGHTTP2_NO_ERROR : NGHTTP2_CANCEL);
  }
  if (status_ < 0 || (!trailers_submitted_ && h2_error != NGHTTP2_NO_ERROR)) {
    status_ = static_cast<int>(StatusCode::Cancelled);
  }
  discardRequestBuffer();
  deadline_timer_.cancel();
  phase_ = Phase::Responded;
}

ssize_t Rpc::readResponseBody(uint8_t* buf, size_t len, uint32_t* flags) {
  int n = evbuffer_remove(resp_buf_.get(), buf, len);
  if (n > 0 && up_ != nullptr) up_->consume(up_stream_, static_cast<size_t>(n));
  if (evbuffer_get_length(resp_buf_.get()) == 0 && resp_complete_ && !trailers_submitted_) {
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    http2::NvList nva;
    if (use_local_trailers_) {
      nva.addAll(local_trailers_);
    } else {
      nva.addForwardable(resp_trailers_);
    }
    trailers_submitted_ = true;
    checkSent(conn_.sendTrailers(stream_id_, nva), "trailers");
    return n > 0 ? n : 0;
  }
  if (n <= 0) return NGHTTP2_ERR_DEFERRED;
  return n;
}

// ------------------------------------------------------------------ upstream

void Rpc::onUpstreamHeaders(http2::HeaderList&& headers, bool end_stream) {
  if (phase_ != Phase::Upstream) return;
  std::string_view status = headers.get(":status");
  bool has_grpc_status = false;
  std::string_view grpc_status = headers.get("grpc-status", &has_grpc_status);
  if (status != "200") {
    // gRPC spec: the HTTP status maps to a gRPC code only when no grpc-status came.
    StatusCode code = grpc::statusFromHttpStatus(parseHttpStatus(status));
    std::string message = "backend answered HTTP " + std::string(status);
    if (has_grpc_status) {
      code = grpc::parseGrpcStatus(grpc_status).value_or(StatusCode::Unknown);
      std::string_view m = headers.get("grpc-message");
      if (!m.empty()) message = grpc::percentDecodeGrpcMessage(m);
    }
    finishLocal(code, message);
    return;
  }
  if (!has_grpc_status && !grpc::isGrpcContentType(headers.get("content-type"))) {
    finishLocal(StatusCode::Unknown, "backend answered with content-type \"" +
                                         std::string(headers.get("content-type")) + "\"");
    return;
  }
  if (end_stream) {
    auto code = has_grpc_status ? grpc::parseGrpcStatus(grpc_status).value_or(StatusCode::Unknown)
                                : StatusCode::Unknown;
    recordEndpointResult(code == StatusCode::Unavailable);
    if (policyRetry(code, headers)) return;
    // Trailers-Only stays Trailers-Only.
    resp_complete_ = true;
    status_ = static_cast<int>(code);
    deadline_timer_.cancel();
  }
  forwardResponseHeaders(headers, end_stream);
}

void Rpc::forwardResponseHeaders(http2::HeaderList& headers, bool end_stream) {
  http2::NvList nva;
  nva.addForwardable(headers);
  resp_headers_sent_ = true;
  if (end_stream) trailers_submitted_ = true;
  checkSent(conn_.respond(stream_id_, nva, end_stream), "response headers");
}

void Rpc::onUpstreamData(const uint8_t* data, size_t len) {
  if (phase_ != Phase::Upstream || !resp_headers_sent_ || trailers_submitted_) {
    if (up_ != nullptr) up_->consume(up_stream_, len);
    return;
  }
  bytes_out_ += len;
  msgs_out_.feed(data, len);
  evbuffer_add(resp_buf_.get(), data, len);
  resumeDownstream();
}

void Rpc::onUpstreamTrailers(http2::HeaderList&& trailers) {
  if (phase_ != Phase::Upstream || trailers_submitted_) return;
  bool found = false;
  std::string_view gs = trailers.get("grpc-status", &found);
  deadline_timer_.cancel();
  resp_complete_ = true;
  if (!found) {
    // A gRPC response must end with grpc-status; synthesise one rather than
    // leave the client to guess (spec: clients would report UNKNOWN/INTERNAL).
    status_ = static_cast<int>(StatusCode::Unknown);
    local_trailers_ =
        grpc::trailersFields(StatusCode::Unknown, "backend ended the stream without grpc-status");
    use_local_trailers_ = true;
  } else {
    status_ = static_cast<int>(grpc::parseGrpcStatus(gs).value_or(StatusCode::Unknown));
    resp_trailers_ = std::move(trailers);
  }
  // Outlier detection sees the status in trailers too, not only in Trailers-Only.
  recordEndpointResult(status_ == static_cast<int>(StatusCode::Unavailable));
  resumeDownstream();
}

void Rpc::onUpstreamClosed(upstream::StreamFailure failure, uint32_t h2_error) {
  upstream::UpstreamConnection* up = up_;
  if (up != nullptr) {
    // Bytes still buffered here were counted against the connection's window.
    // Give them back now: the stream is going and cannot be consumed later.
    size_t pending = evbuffer_get_length(resp_buf_.get());
    up->consumeConnection(pending);
    if (phase_ == Phase::Upstream && !resp_complete_ && failure != upstream::StreamFailure::None) {
      recordEndpointResult(true);
    }
    up_ = nullptr;
    up_stream_ = -1;
    pool_ = nullptr;
  }
  if (phase_ != Phase::Upstream || resp_complete_) return;
  // Transparent retry: the backend provably never saw this request.
  bool never_reached = failure == upstream::StreamFailure::ConnectFailed ||
                       failure == upstream::StreamFailure::Refused;
  if (never_reached && canRetry() &&
      transparent_retries_ <
          runtime_->clusters[static_cast<size_t>(cluster_index_)]->spec->max_transparent_retries) {
    ++transparent_retries_;
    retry(Duration::zero(), failure == upstream::StreamFailure::Refused ? "refused" : "connect failed");
    return;
  }
  auto* stats = conn_.worker().stats();
  StatusCode code = StatusCode::Unavailable;
  std::string message;
  switch (failure) {
    case upstream::StreamFailure::None:
      code = StatusCode::Internal;
      message = "backend closed the stream without a response";
      break;
    case upstream::StreamFailure::Reset:
      code = grpc::statusFromRstStream(h2_error, true);
      message = "backend reset the stream (" + h2ErrorName(h2_error) + ")";
      if (stats != nullptr) stats->localError(metrics::LocalError::UpstreamReset);
      break;
    case upstream::StreamFailure::Refused:
      message = "backend " + endpoint_ + " refused the stream";
      if (stats != nullptr) stats->localError(metrics::LocalError::UpstreamReset);
      break;
    case upstream::StreamFailure::ConnectFailed:
      message = "cannot connect to backend " + endpoint_;
      if (stats != nullptr) stats->localError(metrics::LocalError::UpstreamConnectFailure);
      break;
    case upstream::StreamFailure::ConnectionLost:
      message = "connection to backend " + endpoint_ + " lost";
      if (stats != nullptr) stats->localError(metrics::LocalError::UpstreamReset);
      break;
  }
  finishLocal(code, message);
}

// -------------------------------------------------------------------- endings

void Rpc::finishLocal(StatusCode code, std::string message) {
  if (phase_ == Phase::Responded) return;
  phase_ = Phase::Responded;
  status_ = static_cast<int>(code);
  deadline_timer_.cancel();
  detachUpstream(NGHTTP2_CANCEL);
  discardRequestBuffer();
  if (!resp_headers_sent_) {
    http2::NvList nva;
    auto fields = grpc::trailersOnlyHeaders(code, message);
    nva.addAll(fields);
    resp_headers_sent_ = true;
    trailers_submitted_ = true;
    checkSent(conn_.respond(stream_id_, nva, true), "Trailers-Only response");
  } else if (!trailers_submitted_) {
    // Headers already went out: end with trailers carrying the status, after
    // dropping response bytes that can no longer be delivered whole.
    evbuffer_drain(resp_buf_.get(), evbuffer_get_length(resp_buf_.get()));
    local_trailers_ = grpc::trailersFields(code, message);
    use_local_trailers_ = true;
    resp_complete_ = true;
    conn_.resumeResponse(stream_id_);
  }
}

void Rpc::replyHttp(int status) {
  phase_ = Phase::Responded;
  std::string code = std::to_string(status);
  http2::NvList nva;
  nva.add(":status", code);
  nva.add("content-type", "text/plain");
  resp_headers_sent_ = true;
  trailers_submitted_ = true;
  checkSent(conn_.respond(stream_id_, nva, true), "HTTP error response");
}

void Rpc::discardRequestBuffer() {
  // Reopen the client's window for what it sent and we will never forward;
  // bytes queued again for a retry were paid for when first sent.
  size_t pending = evbuffer_get_length(req_buf_.get());
  size_t unpaid = pending - std::min(pending, resend_pending_);
  conn_.consume(stream_id_, unpaid);
  evbuffer_drain(req_buf_.get(), pending);
  resend_pending_ = 0;
  evbuffer_drain(sent_buf_.get(), evbuffer_get_length(sent_buf_.get()));
}

bool Rpc::canRetry() const {
  if (phase_ != Phase::Upstream || resp_headers_sent_ || !body_retained_) return false;
  return !has_deadline_ || std::chrono::steady_clock::now() < deadline_at_;
}

void Rpc::retry(Duration delay, const char* why) {
  // Put the bytes already sent back in front of what is still queued.
  size_t resend = evbuffer_get_length(sent_buf_.get());
  evbuffer_prepend_buffer(req_buf_.get(), sent_buf_.get());
  resend_pending_ += resend;
  sent_total_ = 0;
  log::main().debug("retrying {} on another endpoint of {} ({} on {})", methodPath(),
                    route_->cluster, why, endpoint_);
  if (delay <= Duration::zero()) {
    startAttempt();
  } else {
    retry_timer_.arm(delay);
  }
}

bool Rpc::policyRetry(StatusCode code, const http2::HeaderList& headers) {
  if (!route_->retry || attempts_ >= route_->retry->max_attempts || !canRetry()) return false;
  const auto& policy = *route_->retry;
  bool listed = false;
  for (int c : policy.retry_on) listed = listed || c == static_cast<int>(code);
  if (!listed) return false;
  // Retry budget (per worker and cluster): retries in flight may not exceed
  // budget_percent of active RPCs, with a floor, so an outage cannot multiply load.
  const auto& budget = runtime_->clusters[static_cast<size_t>(cluster_index_)]->spec->retry_budget;
  double allowed = std::max<double>(budget.min_retry_concurrency,
                                    counters_->active_rpcs * budget.budget_percent / 100.0);
  if (!counted_as_retry_ && counters_->active_retries + 1 > allowed) return false;
  // A6 server pushback: a negative or malformed value means "do not retry".
  Duration delay;
  bool has_pushback = false;
  std::string_view pushback = headers.get("grpc-retry-pushback-ms", &has_pushback);
  if (has_pushback) {
    long long ms = -1;
    auto [p, ec] = std::from_chars(pushback.data(), pushback.data() + pushback.size(), ms);
    if (ec != std::errc() || p != pushback.data() + pushback.size() || ms < 0) return false;
    delay = std::chrono::milliseconds(ms);
  } else {
    // Exponential backoff with full jitter.
    auto cap = policy.backoff_base * (1LL << std::min<uint32_t>(attempts_ - 1, 20));
    if (cap > policy.backoff_max) cap = policy.backoff_max;
    thread_local uint64_t seed = 0x9E3779B97F4A7C15ULL ^ reinterpret_cast<uintptr_t>(this);
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    delay = Duration(static_cast<Duration::rep>(seed % static_cast<uint64_t>(cap.count() + 1)));
  }
  if (has_deadline_ && std::chrono::steady_clock::now() + delay >= deadline_at_) return false;
  if (!counted_as_retry_) {
    counted_as_retry_ = true;
    ++counters_->active_retries;
  }
  // The backend has answered; NO_ERROR tells it we will send nothing more.
  detachUpstream(NGHTTP2_NO_ERROR);
  retry(delay, grpc::statusName(code));
  return true;
}

void Rpc::recordEndpointResult(bool failed) {
  if (pool_ != nullptr) pool_->recordResult(failed);
}

void Rpc::detachUpstream(uint32_t rst_code) {
  if (up_ == nullptr) return;
  size_t pending = evbuffer_get_length(resp_buf_.get());
  if (pending > 0) up_->consume(up_stream_, pending);
  up_->cancel(up_stream_, rst_code);
  up_ = nullptr;
  up_stream_ = -1;
  pool_ = nullptr;
}

void Rpc::onDeadline() {
  if (phase_ == Phase::Responded) return;
  if (auto* stats = conn_.worker().stats()) stats->localError(metrics::LocalError::DeadlineExceeded);
  auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_at_ - start_);
  finishLocal(StatusCode::DeadlineExceeded,
              "deadline of " + std::to_string(budget.count()) + "ms exceeded at the proxy");
}

void Rpc::resumeDownstream() {
  if (!resp_headers_sent_ || trailers_submitted_) return;
  conn_.resumeResponse(stream_id_);
}

void Rpc::checkSent(const Status& sent, const char* what) {
  if (sent.ok()) return;
  log::main().warn("cannot send {} on stream {}: {}; resetting it", what, stream_id_, sent.error());
  (void)conn_.reset(stream_id_, NGHTTP2_INTERNAL_ERROR);
}

void Rpc::logAccess() {
  spdlog::logger* access = log::access();
  if (access == nullptr) return;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  start_)
                .count();
  access->info("{} \"{}\" listener={} cluster={} endpoint={} grpc_status={} duration_ms={:.3f} "
               "bytes_in={} bytes_out={} msgs_in={} msgs_out={}",
               conn_.peerIp(), methodPath(), conn_.listener().name,
               route_ != nullptr ? route_->cluster : std::string("-"),
               endpoint_.empty() ? std::string("-") : endpoint_, status_,
               static_cast<double>(us) / 1000.0, bytes_in_, bytes_out_, msgs_in_.messages(),
               msgs_out_.messages());
}

}  // namespace switchyard::proxy
