#include "proxy/rpc.h"

#include <charconv>

#include "common/log.h"
#include "grpc/content_type.h"
#include "grpc/message.h"
#include "grpc/method_path.h"
#include "grpc/status_map.h"
#include "grpc/timeout.h"
#include "grpc/web_framing.h"
#include "metrics/worker_stats.h"
#include "proxy/access_log_buffer.h"
#include "proxy/local_call.h"
#include "proxy/message_limits.h"
#include "proxy/request_headers_view.h"
#include "proxy/rest_protocol.h"
#include "proxy/upstream_failure.h"
#include "proxy/web_protocol.h"
#include "routing/metric_labels.h"

namespace switchyard::proxy {
namespace {

using grpc::StatusCode;

int parseHttpStatus(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return (ec == std::errc() && p == s.data() + s.size()) ? v : 0;
}

}  // namespace

// Storage for the header values the proxy writes into a forwarded request.
struct UpstreamHeaderValues {
  std::string attempts;
  std::string timeout;
  std::string xff;
};

const char* toString(Rpc::ResponseState s) {
  switch (s) {
    case Rpc::ResponseState::None: return "none";
    case Rpc::ResponseState::HeadersSent: return "headers sent";
    case Rpc::ResponseState::TrailersReady: return "trailers ready";
    case Rpc::ResponseState::Ended: return "ended";
  }
  return "unknown";
}

Rpc::Rpc(DownstreamSide& conn, int32_t stream_id)
    : conn_(conn),
      stream_id_(stream_id),
      attempt_(conn.worker().clock()),
      retry_timer_(conn.worker().base(),
                   [this] {
                     if (phase_ == Phase::Upstream && !attempt_.open()) startAttempt();
                   },
                   conn.worker().clock()),
      start_(conn.worker().clock().now()),
      deadline_timer_(conn.worker().base(), [this] { onDeadline(); }, conn.worker().clock()) {}

Rpc::~Rpc() {
  cancelUpstream(NGHTTP2_CANCEL);
  recordMetrics();
  logAccess();
}

std::string_view Rpc::methodPath() const { return protocol_->grpcPath(req_headers_.get(":path")); }

// ------------------------------------------------------------ request phases

// The RPC's pipeline. Each phase either passes the call on or answers it
// itself (and returns false); new per-RPC policy goes in as a phase here.
void Rpc::onRequestHeaders(bool end_stream) {
  if (end_stream) request_ = RequestState::HalfClosedRemote;
  runtime_ = conn_.worker().runtime();
  identity_.resolve(req_headers_, runtime_->config->tracing);
  if (!validate()) return;
  if (!serveLocally()) return;
  if (!matchRoute()) return;
  if (!applyPolicy()) return;
  if (!chooseCluster()) return;
  if (!applyDeadline()) return;
  phase_ = Phase::Upstream;
  if (protocol_->wholeMessages()) {
    // JSON transcoding: the request is converted whole before any attempt.
    if (requestEnded()) startWholeRequest();
    return;
  }
  startAttempt();  // balance + attempt; the response phase follows the backend's events
}

bool Rpc::validate() {
  auto* stats = conn_.worker().stats();
  if (headers_too_large_) {
    if (stats != nullptr) stats->localError(metrics::LocalError::HeadersTooLarge);
    finishLocal(StatusCode::ResourceExhausted,
                "request headers exceed " + std::to_string(conn_.listener().h2.max_header_list_size) +
                    " bytes");
    return false;
  }
  if (conn_.listener().grpc_web && req_headers_.get(":method") == "OPTIONS" &&
      req_headers_.has("access-control-request-method")) {
    return answerPreflight();
  }
  if (!selectProtocol()) {
    // gRPC spec: a server SHOULD answer a non-gRPC content-type with HTTP 415.
    if (stats != nullptr) stats->localError(metrics::LocalError::BadRequest);
    replyHttp(415);
    return false;
  }
  if (phase_ == Phase::Responded) return false;  // the adapter refused it (no JSON binding)
  auto method = protocol_->upstreamField(":method", req_headers_.get(":method"));
  if (!method || *method != "POST") {
    if (stats != nullptr) stats->localError(metrics::LocalError::MethodNotAllowed);
    replyHttp(405);
    return false;
  }
  return true;
}

bool Rpc::selectProtocol() {
  std::string_view ct = req_headers_.get("content-type");
  if (grpc::isGrpcContentType(ct)) return true;
  auto web = grpc::parseWebContentType(ct);
  if (web && conn_.listener().grpc_web) {
    owned_protocol_ = std::make_unique<WebProtocol>(std::move(*web), conn_.listener().cors.get(),
                                                    req_headers_.get("origin"));
    protocol_ = owned_protocol_.get();
    return true;
  }
  // gRPC-Web where the listener does not serve it stays a 415, as without transcoding.
  if (web || runtime_->transcoding == nullptr) return false;
  // Not gRPC: a REST request for JSON transcoding, or refused with a JSON error.
  owned_protocol_ = RestProtocol::select(*runtime_->transcoding, req_headers_.get(":method"),
                                         req_headers_.get(":path"));
  protocol_ = owned_protocol_.get();
  if (const auto& refused = protocol_->failure()) {
    if (auto* stats = conn_.worker().stats()) stats->localError(metrics::LocalError::NoRoute);
    finishLocal(refused->code, refused->message);
  }
  return true;
}

bool Rpc::answerPreflight() {
  phase_ = Phase::Responded;
  response_ = ResponseState::Ended;
  std::string_view origin = req_headers_.get("origin");
  const routing::CorsPolicy* cors = conn_.listener().cors.get();
  http2::NvList nva;
  std::vector<grpc::HeaderField> fields;
  if (cors != nullptr && cors->allows(origin)) {
    http_status_ = 204;
    fields = cors->preflightHeaders(origin);
  } else {
    // No CORS headers: the browser refuses the call.
    http_status_ = 403;
    if (auto* stats = conn_.worker().stats()) stats->localError(metrics::LocalError::BadRequest);
  }
  std::string code = std::to_string(http_status_);
  nva.add(":status", code);
  nva.addAll(fields);
  checkSent(conn_.respond(stream_id_, nva, true), "CORS preflight answer");
  return false;
}

bool Rpc::matchRoute() {
  std::string_view path = methodPath();
  RequestHeadersView headers(req_headers_);
  route_ = runtime_->routes->match(path, routing::RequestView{headers.authority(), &headers});
  // A JSON request is routed only where the route opts in to transcoding.
  if (route_ != nullptr && protocol_->wholeMessages() &&
      !runtime_->config->routes[route_->index].json_transcoding) {
    route_ = nullptr;
  }
  if (route_ != nullptr) return true;
  if (auto* stats = conn_.worker().stats()) {
    series_ = stats->rpc(routing::kUnmatched, routing::kUnmatched, "", protocol_->name());
    series_->started();
    stats->localError(metrics::LocalError::NoRoute);
  }
  finishLocal(StatusCode::Unimplemented, "no route for method " + std::string(path));
  return false;
}

// The route's policy chain, in order; the first step that answers ends the RPC.
bool Rpc::applyPolicy() {
  const RoutePolicies* policies = runtime_->policies.get();
  const RequestFilters* chain = policies != nullptr ? policies->chainFor(route_->index) : nullptr;
  if (chain == nullptr || chain->empty()) return true;
  PolicyScratch& scratch = conn_.worker().policyScratch();
  scratch.use(policies->id, policies->scratch_slots);
  PolicyRequest request{req_headers_,  *route_, conn_.listener().name, conn_.peerIp(),
                        conn_.peerIdentity(), facts_, scratch,   conn_.worker().stats()};
  for (const auto& filter : *chain) {
    if (auto answer = filter->onRequest(request)) {
      if (auto* stats = conn_.worker().stats()) {  // counted without a cluster: none was chosen
        auto labels = routing::metricLabels(*route_, methodPath());
        series_ = stats->rpc(labels.service, labels.method, "", protocol_->name());
        series_->started();
      }
      finishLocal(answer->code, std::move(answer->message), std::move(answer->trailers));
      return false;
    }
  }
  return true;
}

bool Rpc::serveLocally() {
  if (protocol_->wholeMessages()) return true;  // JSON requests always go to a backend
  RequestHeadersView headers(req_headers_);
  auto call = openLocalCall(methodPath(), conn_.listener(), *runtime_,
                            routing::RequestView{headers.authority(), &headers});
  if (call == nullptr) return true;
  if (auto* stats = conn_.worker().stats()) {
    series_ = stats->rpc(call->service(), call->method(), "", protocol_->name());
    series_->started();
  }
  local_ = std::make_unique<LocalExchange>(std::move(call));
  if (!applyDeadline()) return false;
  phase_ = Phase::Local;
  startLocalResponse();
  if (request_ == RequestState::HalfClosedRemote) local_->requestEnded();
  pumpLocal();
  return false;
}

void Rpc::pumpLocal() {
  if (phase_ != Phase::Local) return;
  LocalExchange::Step step = local_->pump(flow_.responsePending());
  payClient(step.consumed);
  if (!step.response.empty()) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(step.response.data());
    out_.feed(bytes, step.response.size());
    flow_.addResponse(bytes, step.response.size());
  }
  if (step.end) {
    // The local call ended with its own status (OK or not): like a gRPC
    // server, its answers made before the status are whole messages and are
    // delivered first; the status follows as trailers.
    payClient(local_->release());
    phase_ = Phase::Responded;
    status_ = step.end->code;
    if (step.end->code != StatusCode::Ok) local_message_ = step.end->message;
    deadline_timer_.cancel();
    local_trailers_ = grpc::trailersFields(step.end->code, step.end->message);
    response_ = ResponseState::TrailersReady;
  }
  resumeDownstream();
}

bool Rpc::chooseCluster() {
  RequestHeadersView headers(req_headers_);
  cluster_index_ = conn_.worker().clusters().choice().choose(*runtime_, *route_, headers);
  retry_.joinCounters(conn_.worker().clusters().counters(cluster().name()));
  if (auto* stats = conn_.worker().stats()) {
    auto labels = routing::metricLabels(*route_, methodPath());
    series_ = stats->rpc(labels.service, labels.method, cluster().name(), protocol_->name());
    series_->started();
  }
  in_.messages.setLimit(route_->max_request_message_bytes);
  out_.messages.setLimit(route_->max_response_message_bytes);
  return true;
}

bool Rpc::applyDeadline() {
  std::optional<Duration> timeout;
  bool found = false;
  std::string_view timeout_text = req_headers_.get("grpc-timeout", &found);
  if (found) {
    timeout = grpc::parseGrpcTimeout(timeout_text);
    if (!timeout) {
      if (auto* stats = conn_.worker().stats()) stats->localError(metrics::LocalError::BadRequest);
      finishLocal(StatusCode::Internal,
                  "malformed grpc-timeout header: \"" + std::string(timeout_text) + "\"");
      return false;
    }
      if (route_ != nullptr && route_->timeout_max && *timeout > *route_->timeout_max) {
      timeout = route_->timeout_max;
    }
  } else if (route_ != nullptr && route_->timeout_default) {
    timeout = route_->timeout_default;
  }
  if (timeout) {
    deadline_at_ = start_ + *timeout;
    deadline_timer_.arm(*timeout);
  }
  return true;
}

bool Rpc::admitToCluster() {
  if (active_slot_.held()) return true;  // a retry keeps the RPC's place
  const auto& c = cluster();
  active_slot_ = upstream::ActiveRpcSlot::tryAcquire(c.active_rpcs, c.spec->max_active_rpcs);
  if (active_slot_.held()) return true;
  conn_.worker().clusters().countOverflow(c.name(), metrics::Overflow::MaxActiveRpcs);
  finishLocal(StatusCode::Unavailable,
              "cluster " + c.name() + " has " + std::to_string(c.spec->max_active_rpcs) +
                  " RPCs in flight (circuit_breaker.max_active_rpcs)");
  return false;
}

bool Rpc::startAttempt() {
  if (!admitToCluster()) return false;
  auto pick = conn_.worker().clusters().pick(*runtime_, *cluster_index_, attempt_.endpointIndex());
  if (!pick) {
    if (auto* stats = conn_.worker().stats()) {
      stats->localError(metrics::LocalError::NoHealthyEndpoint);
    }
    finishLocal(StatusCode::Unavailable, "no healthy endpoint in cluster " + cluster().name());
    return false;
  }
  attempt_.picked(*pick);
  retry_.attemptStarted();
  upstream::UpstreamConnection* up = pick->pool->acquire();
  if (up == nullptr) {
    finishLocal(StatusCode::Unavailable,
                "cannot open a connection to " + std::string(attempt_.endpoint()));
    return false;
  }
  http2::NvList nva;
  UpstreamHeaderValues values;
  buildUpstreamHeaders(nva, values);
  int rv = attempt_.start(up, this, nva);
  if (rv < 0) {
    if (rv == upstream::kSubmitPendingFull) {
      conn_.worker().clusters().countOverflow(cluster().name(), metrics::Overflow::MaxPending);
    }
    finishLocal(upstream::submitErrorIsResourceExhausted(rv) ? StatusCode::ResourceExhausted
                                                             : StatusCode::Unavailable,
                "cannot open a stream to " + std::string(attempt_.endpoint()) + ": " +
                    upstream::submitErrorText(rv));
    return false;
  }
  return true;
}

void Rpc::buildUpstreamHeaders(http2::NvList& nva, UpstreamHeaderValues& values) const {
  const auto& cluster = this->cluster();
  const routing::HeaderEdits& edits = route_->request_headers;
  nva.reserve(req_headers_.size() + edits.appended().size() + facts_.upstream_headers.size() + 3);
  std::string_view prior_xff;
  bool has_xff = false;
  for (const auto& field : req_headers_.fields()) {
    std::string_view name = field.name;
    std::string_view value = field.value;
    if (name == ":authority" && !cluster.spec->authority.empty()) {
      value = cluster.spec->authority;
    } else if (name == ":scheme") {
      value = cluster.tls ? "https" : "http";  // how this cluster's backends are reached
    } else if (name == "grpc-timeout") {
      continue;  // replaced by the remaining budget below
    } else if (name == "x-forwarded-for") {
      prior_xff = value;
      has_xff = true;
      continue;
    } else if (http2::isHopByHop(name) || name == "x-forwarded-client-cert") {
      continue;  // a client-sent x-forwarded-client-cert is never trusted
    } else if (edits.drops(name)) {
      continue;  // the route's request_headers remove or set it
    }
    auto forwarded = protocol_->upstreamField(name, value);
    if (forwarded) nva.add(name, *forwarded);
  }
  protocol_->addUpstreamFields(req_headers_, nva);
  for (const auto& [name, value] : edits.appended()) nva.add(name, value);
  for (const auto& [name, value] : facts_.upstream_headers) nva.add(name, value);  // e.g. verified JWT claims
  if (conn_.listener().forward_client_cert && conn_.peerIdentity() != nullptr) {
    nva.add("x-forwarded-client-cert", conn_.peerIdentity()->xfcc);
  }
  if (retry_.attempts() > 1) {
    // gRPC A6: tell the backend this is a retry.
    values.attempts = std::to_string(retry_.attempts() - 1);
    nva.add("grpc-previous-rpc-attempts", values.attempts);
  }
  if (deadline_at_) {
    // Forward what is left of the caller's budget, not what it started with.
    values.timeout = grpc::formatGrpcTimeout(*deadline_at_ - conn_.worker().clock().now());
    nva.add("grpc-timeout", values.timeout);
  }
  identity_.appendGenerated(nva);
  values.xff = has_xff ? std::string(prior_xff) + ", " + conn_.peerIp() : conn_.peerIp();
  nva.add("x-forwarded-for", values.xff);
}

// ------------------------------------------------------- request body (flow)

void Rpc::onRequestData(const uint8_t* data, size_t len) {
  if (phase_ == Phase::Responded) {
    // Nobody will forward these bytes: reopen the client's window at once.
    in_.bytes += len;
    conn_.consume(stream_id_, len);
    return;
  }
  auto grpc_bytes = protocol_->decodeRequest(data, len);
  if (!grpc_bytes) {
    conn_.consume(stream_id_, len);
    const auto& failure = protocol_->failure();
    if (auto* stats = conn_.worker().stats()) {
      stats->localError(failure && failure->too_large ? metrics::LocalError::BodyTooLarge
                                                      : metrics::LocalError::BadRequest);
    }
    if (failure) {
      finishLocal(failure->code, failure->message);
    } else {
      finishLocal(StatusCode::Internal, "malformed " + std::string(protocol_->name()) + " request body");
    }
    return;
  }
  if (protocol_->wholeMessages()) {
    // The adapter keeps the body (within its limit) until it ends.
    in_.bytes += len;
    conn_.consume(stream_id_, len);
    return;
  }
  // From here on the bytes are gRPC framing (gRPC-Web text decoded), so the
  // size and compressed-flag checks see the message headers a backend would.
  const auto* bytes = reinterpret_cast<const uint8_t*>(grpc_bytes->data());
  size_t n = grpc_bytes->size();
  in_.feed(bytes, n);
  if (phase_ == Phase::Local) {
    local_->feed(bytes, n);
    pumpLocal();
    return;
  }
  if (in_.messages.oversized() != 0) refuseOversized("request", in_.messages);
  if (in_.messages.compressed() && phase_ != Phase::Responded && !isEncoded(req_headers_.get("grpc-encoding"))) {
    if (auto* stats = conn_.worker().stats()) stats->localError(metrics::LocalError::BadRequest);
    refuseFraming("request message is compressed but the request has no grpc-encoding");
  }
  if (phase_ == Phase::Responded) {
    payClient(n);
    return;
  }
  // Without an open attempt a retry is waiting out its backoff: the bytes
  // stay queued for it (and unpaid, so the client's window bounds them).
  flow_.addRequest(bytes, n);
  attempt_.resume();
}

void Rpc::onRequestEnd() {
  request_ = RequestState::HalfClosedRemote;
  if (!protocol_->requestComplete() && phase_ != Phase::Responded) {
    if (auto* stats = conn_.worker().stats()) stats->localError(metrics::LocalError::BadRequest);
    finishLocal(StatusCode::Internal,
                std::string(protocol_->name()) + " request body ends inside a base64 group");
    return;
  }
  if (phase_ == Phase::Local) {
    local_->requestEnded();
    pumpLocal();
    return;
  }
  if (protocol_->wholeMessages()) {
    if (phase_ == Phase::Upstream && !attempt_.open()) startWholeRequest();
    return;
  }
  attempt_.resume();
}

void Rpc::startWholeRequest() {
  auto message = protocol_->finishRequest();
  if (!message.ok()) {
    if (auto* stats = conn_.worker().stats()) stats->localError(metrics::LocalError::TranscodeFailed);
    finishLocal(StatusCode::InvalidArgument, message.error());
    return;
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(message->data());
  in_.messages.feed(bytes, message->size());
  if (in_.messages.oversized() != 0) {
    refuseOversized("request", in_.messages);
    return;
  }
  flow_.addRequest(bytes, message->size());
  startAttempt();
}

void Rpc::payClient(size_t forwarded) { conn_.consume(stream_id_, protocol_->clientBytesFor(forwarded)); }

ssize_t Rpc::readRequestBody(uint8_t* buf, size_t len, uint32_t* flags) {
  size_t to_consume = 0;
  size_t n = flow_.takeRequest(buf, len, &to_consume);
  if (n > 0) {
    // Keep a copy for a possible retry while it fits the retry buffer.
    retry_.retain(buf, n, cluster().spec->retry_buffer);
    // The backend took these bytes: let the client send as many more.
    payClient(to_consume);
  }
  if (flow_.requestEmpty() && request_ == RequestState::HalfClosedRemote) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

void Rpc::onDownstreamClosed(uint32_t h2_error) {
  // The client went away (RST_STREAM CANCEL, or an early close): the backend must see
  // its call cancelled. If the backend had already finished, say so with NO_ERROR.
  cancelUpstream(attempt_.state() == UpstreamAttempt::State::Done ? NGHTTP2_NO_ERROR
                                                                   : NGHTTP2_CANCEL);
  if (!status_ || (response_ != ResponseState::Ended && h2_error != NGHTTP2_NO_ERROR)) {
    status_ = StatusCode::Cancelled;
  }
  discardRequestBuffer();
  deadline_timer_.cancel();
  phase_ = Phase::Responded;
}

// ------------------------------------------------------------ response phase

void Rpc::onUpstreamHeaders(http2::HeaderList&& headers, bool end_stream) {
  if (phase_ != Phase::Upstream) return;
  attempt_.setState(UpstreamAttempt::State::HeadersReceived);
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
    attempt_.recordResult(code == StatusCode::Unavailable, static_cast<int>(code));
    if (policyRetry(code, headers)) return;
    // Trailers-Only stays Trailers-Only.
    attempt_.setState(UpstreamAttempt::State::Done);
    status_ = code;
    deadline_timer_.cancel();
  }
  response_encoded_ = isEncoded(headers.get("grpc-encoding"));
  forwardResponseHeaders(headers, end_stream);
}

void Rpc::forwardResponseHeaders(http2::HeaderList& headers, bool end_stream) {
  if (end_stream && !protocol_->trailersOnly()) {
    // The status travels in the body: the backend's headers become the trailers.
    resp_trailers_ = std::move(headers);
    startLocalResponse();
    response_ = ResponseState::TrailersReady;
    resumeDownstream();
    return;
  }
  if (protocol_->wholeMessages()) {
    startLocalResponse();  // nothing is sent before the status is known
    return;
  }
  http2::NvList nva;
  protocol_->addResponseHeaders(headers, nva);
  response_ = end_stream ? ResponseState::Ended : ResponseState::HeadersSent;
  checkSent(conn_.respond(stream_id_, nva, end_stream), "response headers");
}

void Rpc::startLocalResponse() {
  if (protocol_->wholeMessages()) {
    // The response has begun, but its headers depend on the status: they go
    // with the whole body (renderWhole).
    response_ = ResponseState::HeadersSent;
    return;
  }
  http2::NvList nva;
  protocol_->addLocalResponseHeaders(nva);
  response_ = ResponseState::HeadersSent;
  checkSent(conn_.respond(stream_id_, nva, false), "response headers");
}

void Rpc::onUpstreamData(const uint8_t* data, size_t len) {
  bool forwarding =
      response_ == ResponseState::HeadersSent || response_ == ResponseState::TrailersReady;
  if (phase_ != Phase::Upstream || !forwarding) {
    attempt_.consume(len);
    return;
  }
  out_.feed(data, len);
  if (out_.messages.oversized() != 0) {
    attempt_.consume(len);
    refuseOversized("response", out_.messages);
    return;
  }
  if (out_.messages.compressed() && !response_encoded_) {
    attempt_.consume(len);
    refuseFraming("backend sent a compressed message without grpc-encoding");
    return;
  }
  flow_.addResponse(data, len);
  resumeDownstream();
}

void Rpc::onUpstreamTrailers(http2::HeaderList&& trailers) {
  if (phase_ != Phase::Upstream || response_ == ResponseState::Ended) return;
  bool found = false;
  std::string_view gs = trailers.get("grpc-status", &found);
  deadline_timer_.cancel();
  attempt_.setState(UpstreamAttempt::State::Done);
  response_ = ResponseState::TrailersReady;
  if (!found) {
    // A gRPC response must end with grpc-status; synthesise one rather than
    // leave the client to guess (spec: clients would report UNKNOWN/INTERNAL).
    status_ = StatusCode::Unknown;
    local_trailers_ =
        grpc::trailersFields(StatusCode::Unknown, "backend ended the stream without grpc-status");
  } else if (out_.messages.partial()) {
    // gRPC: a response that ends inside a message is INTERNAL, whatever
    // grpc-status the backend sent (a client would otherwise take a lost
    // message for a clean end).
    status_ = StatusCode::Internal;
    local_trailers_ =
        grpc::trailersFields(StatusCode::Internal, "backend response ended inside a gRPC message");
  } else {
    status_ = grpc::parseGrpcStatus(gs).value_or(StatusCode::Unknown);
    resp_trailers_ = std::move(trailers);
  }
  // Outlier detection sees the status in trailers too, not only in Trailers-Only.
  attempt_.recordResult(status_ == StatusCode::Unavailable, static_cast<int>(*status_));
  resumeDownstream();
}

ssize_t Rpc::readResponseBody(uint8_t* buf, size_t len, uint32_t* flags) {
  if (response_ == ResponseState::Ended && protocol_->trailersInBody()) {
    // The trailers are the last bytes of the body.
    bool done = false;
    size_t n = protocol_->readBodyEnd(buf, len, &done);
    if (done) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  // Answers drained: requests held back for room can go on.
  if (local_ != nullptr && local_->waiting() && flow_.responsePending() == 0) pumpLocal();
  size_t written = 0;
  size_t n = protocol_->readResponse(flow_, buf, len, &written);
  if (n > 0) attempt_.consume(n);
  if (flow_.responsePending() == 0 && protocol_->responseDrained() &&
      response_ == ResponseState::TrailersReady) {
    if (protocol_->trailersInBody()) {
      sendTrailers();
      // nghttp2 asks again for the rest (the trailer frame) while this returns data.
      if (written > 0) return static_cast<ssize_t>(written);
      return readResponseBody(buf, len, flags);
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    sendTrailers();
    return static_cast<ssize_t>(written);
  }
  if (written == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(written);
}

void Rpc::sendTrailers() {
  http2::NvList nva;
  if (!local_trailers_.empty()) {
    nva.addAll(local_trailers_);
  } else {
    nva.addForwardable(resp_trailers_);
  }
  response_ = ResponseState::Ended;
  if (protocol_->trailersInBody()) {
    protocol_->endBody(nva);
    return;
  }
  checkSent(conn_.sendTrailers(stream_id_, nva), "trailers");
}

void Rpc::resumeDownstream() {
  if (response_ == ResponseState::HeadersSent || response_ == ResponseState::TrailersReady) {
    if (protocol_->wholeMessages()) {
      renderWhole();
      return;
    }
    conn_.resumeResponse(stream_id_);
  }
}

void Rpc::renderWhole() {
  size_t written = 0;
  size_t taken = protocol_->readResponse(flow_, nullptr, 0, &written);
  if (taken > 0) attempt_.consume(taken);
  if (phase_ != Phase::Responded) {
    if (const auto& failure = protocol_->failure()) {
      if (auto* stats = conn_.worker().stats()) {
        stats->localError(failure->too_large ? metrics::LocalError::BodyTooLarge
                                             : metrics::LocalError::TranscodeFailed);
      }
      finishLocal(failure->code, failure->message);  // comes back here to answer
      return;
    }
  }
  if (response_ != ResponseState::TrailersReady) return;
  sendTrailers();  // the adapter renders the whole body from the status
  http2::NvList nva;
  protocol_->addLocalResponseHeaders(nva);
  http_status_ = protocol_->httpStatus();
  checkSent(conn_.respond(stream_id_, nva, false), "response headers");
}

void Rpc::onUpstreamClosed(upstream::StreamFailure failure, uint32_t h2_error) {
  // Why a connection never came up (TLS handshake or TCP), for the client's message.
  const upstream::UpstreamConnection* up = attempt_.connection();
  std::string connect_detail = up != nullptr && !up->connected() ? ": " + up->failureDetail() : "";
  bool done = attempt_.state() == UpstreamAttempt::State::Done;
  if (attempt_.open()) {
    if (phase_ == Phase::Upstream && !done && failure != upstream::StreamFailure::None) {
      attempt_.recordResult(true, static_cast<int>(StatusCode::Unavailable));
    }
    // Bytes still buffered here were counted against the connection's window.
    // Give them back now: the stream is going and cannot be consumed later.
    attempt_.closed(flow_.responsePending());
  }
  if (phase_ != Phase::Upstream || done) return;
  // Transparent retry: the backend provably never saw this request.
  if (neverReachedBackend(failure) && canRetry() &&
      retry_.mayRetryTransparently(cluster().spec->max_transparent_retries)) {
    retry_.transparentRetryStarted();
    if (auto* ep = attempt_.endpointStats()) ep->transparentRetry();
    retry(Duration::zero(),
          failure == upstream::StreamFailure::Refused ? "refused" : "connect failed");
    return;
  }
  FailureAnswer answer = answerForUpstreamFailure(failure, h2_error, attempt_.endpoint());
  if (failure == upstream::StreamFailure::ConnectFailed) answer.message += connect_detail;
  if (answer.cause) {
    if (auto* stats = conn_.worker().stats()) stats->localError(*answer.cause);
  }
  finishLocal(answer.code, std::move(answer.message));
}

// -------------------------------------------------------------------- endings

void Rpc::finishLocal(StatusCode code, std::string message,
                      std::vector<grpc::HeaderField> extra_trailers) {
  if (phase_ == Phase::Responded) return;
  phase_ = Phase::Responded;
  status_ = code;
  local_message_ = message;
  deadline_timer_.cancel();
  cancelUpstream(NGHTTP2_CANCEL);
  discardRequestBuffer();
  if (response_ == ResponseState::None && !protocol_->trailersOnly()) startLocalResponse();
  if (response_ == ResponseState::None) {
    http2::NvList nva;
    auto fields = grpc::trailersOnlyHeaders(code, message);
    for (auto& f : extra_trailers) fields.push_back(std::move(f));
    nva.addAll(fields);
    response_ = ResponseState::Ended;
    checkSent(conn_.respond(stream_id_, nva, true), "Trailers-Only response");
  } else if (response_ != ResponseState::Ended) {
    // Headers already went out: end with trailers carrying the status, after
    // dropping response bytes that can no longer be delivered whole.
    flow_.discardResponse();
    local_trailers_ = grpc::trailersFields(code, message);
    for (auto& f : extra_trailers) local_trailers_.push_back(std::move(f));
    response_ = ResponseState::TrailersReady;
    resumeDownstream();
  }
}

void Rpc::refuseOversized(const char* direction, const MessageCounter& counter) {
  if (auto* stats = conn_.worker().stats()) stats->localError(metrics::LocalError::MessageTooLarge);
  uint64_t limit = &counter == &in_.messages ? route_->max_request_message_bytes
                                             : route_->max_response_message_bytes;
  finishLocal(StatusCode::ResourceExhausted, messageTooLargeText(direction, counter.oversized(), limit));
}

// gRPC: a message with the compressed flag set and no grpc-encoding (or
// "identity") is a protocol error, INTERNAL. The proxy checks it because the
// gRPC library at the other end may not.
bool Rpc::isEncoded(std::string_view grpc_encoding) {
  return !grpc_encoding.empty() && grpc_encoding != "identity";
}

void Rpc::refuseFraming(const char* what) { finishLocal(StatusCode::Internal, what); }

void Rpc::replyHttp(int status) {
  phase_ = Phase::Responded;
  http_status_ = status;
  // No grpc-status is sent: log the one a gRPC client derives from the HTTP status.
  status_ = grpc::statusFromHttpStatus(status);
  std::string code = std::to_string(status);
  http2::NvList nva;
  nva.add(":status", code);
  nva.add("content-type", "text/plain");
  response_ = ResponseState::Ended;
  checkSent(conn_.respond(stream_id_, nva, true), "HTTP error response");
}

void Rpc::checkSent(const Status& sent, const char* what) {
  if (sent.ok()) return;
  log::main().warn("cannot send {} on stream {}: {}; resetting it", what, stream_id_, sent.error());
  (void)conn_.reset(stream_id_, NGHTTP2_INTERNAL_ERROR);
}

void Rpc::cancelUpstream(uint32_t h2_error) {
  // Response bytes still buffered were counted against the backend's window.
  attempt_.cancel(h2_error, flow_.responsePending());
}

void Rpc::discardRequestBuffer() {
  // Reopen the client's window for what it sent and we will never forward;
  // bytes queued again for a retry were paid for when first sent.
  payClient(flow_.discardRequest());
  if (local_ != nullptr) payClient(local_->release());
  retry_.dropRetained();
}

// -------------------------------------------------------------------- retries

bool Rpc::canRetry() const {
  if (phase_ != Phase::Upstream || response_ != ResponseState::None || !retry_.bodyRetained()) {
    return false;
  }
  return !deadline_at_ || conn_.worker().clock().now() < *deadline_at_;
}

void Rpc::retry(Duration delay, const char* why) {
  // Put the bytes already sent back in front of what is still queued.
  flow_.requeued(retry_.replayInto(flow_.requestQueue()));
  attempt_.setState(UpstreamAttempt::State::Idle);
  log::main().debug("retrying {} on another endpoint of {} ({} on {})", methodPath(),
                    cluster().name(), why, attempt_.endpoint());
  if (delay <= Duration::zero()) {
    startAttempt();
  } else {
    retry_timer_.arm(delay);
  }
}

bool Rpc::policyRetry(StatusCode code, const http2::HeaderList& headers) {
  if (!route_->retry || retry_.attempts() >= route_->retry->max_attempts || !canRetry()) {
    return false;
  }
  const auto& policy = *route_->retry;
  if (!retryableStatus(policy, static_cast<int>(code))) return false;
  if (!retry_.budgetAllows(cluster().spec->retry_budget)) {
    if (auto* ep = attempt_.endpointStats()) ep->retryBudgetExceeded();
    return false;
  }
  Duration delay;
  bool has_pushback = false;
  std::string_view pushback = headers.get("grpc-retry-pushback-ms", &has_pushback);
  if (has_pushback) {
    auto asked = pushbackDelay(pushback);
    if (!asked) return false;
    delay = *asked;
  } else {
    delay = backoffDelay(policy, retry_.attempts(), conn_.worker().random());
  }
  if (deadline_at_ && conn_.worker().clock().now() + delay >= *deadline_at_) return false;
  retry_.enterBudget();
  if (auto* ep = attempt_.endpointStats()) ep->policyRetry();
  // The backend has answered; NO_ERROR tells it we will send nothing more.
  cancelUpstream(NGHTTP2_NO_ERROR);
  retry(delay, grpc::statusName(code));
  return true;
}

void Rpc::onDeadline() {
  if (phase_ == Phase::Responded) return;
  if (auto* stats = conn_.worker().stats()) stats->localError(metrics::LocalError::DeadlineExceeded);
  auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_at_ - start_);
  finishLocal(StatusCode::DeadlineExceeded,
              "deadline of " + std::to_string(budget.count()) + "ms exceeded at the proxy");
}

// ---------------------------------------------------------------- accounting

void Rpc::recordMetrics() {
  if (series_ == nullptr) return;
  double secs = std::chrono::duration<double>(conn_.worker().clock().now() - start_).count();
  series_->messagesReceived(in_.messages.messages());
  series_->messagesSent(out_.messages.messages());
  series_->bytesReceived(in_.bytes);
  series_->bytesSent(out_.bytes);
  series_->handled(static_cast<int>(status_.value_or(StatusCode::Cancelled)), secs);
}

void Rpc::logAccess() {
  AccessLogBuffer* log = conn_.worker().accessLog();
  if (log == nullptr || !log->enabled()) return;
  AccessRecord r;
  r.time = std::chrono::system_clock::now();
  r.client = conn_.peerIp();
  r.authority = identity_.authority();
  r.path = methodPath();
  r.listener = conn_.listener().name;
  if (cluster_index_) r.cluster = cluster().name();
  r.endpoint = attempt_.endpoint();
  r.http_status = http_status_;
  r.grpc_status = status_ ? static_cast<int>(*status_) : -1;
  r.grpc_message =
      local_message_.empty() ? resp_trailers_.get("grpc-message") : std::string_view(local_message_);
  r.duration_ms = std::chrono::duration<double, std::milli>(conn_.worker().clock().now() - start_)
                      .count();
  r.upstream_ms = attempt_.lastDurationMs();
  r.bytes_in = in_.bytes;
  r.bytes_out = out_.bytes;
  r.msgs_in = in_.messages.messages();
  r.msgs_out = out_.messages.messages();
  r.user_agent = identity_.userAgent();
  r.request_id = identity_.requestId();
  r.traceparent = identity_.traceparent();
  r.attempts = retry_.attempts();
  if (const tls::PeerIdentity* peer = conn_.peerIdentity()) r.client_identity = peer->display();
  r.subject = facts_.subject;
  log->append(r);
}

}  // namespace switchyard::proxy
