#include "proxy/rpc.h"

#include "common/block_recycler.h"
#include "common/log.h"
#include "grpc/content_type.h"
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
#include "proxy/upstream_request_headers.h"
#include "proxy/web_protocol.h"
#include "routing/metric_labels.h"

namespace switchyard::proxy {
namespace {

using grpc::StatusCode;

// Up to 64 Rpc blocks (about 100 KiB) kept per worker thread.
using RpcBlocks = common::BlockRecycler<sizeof(Rpc), 64>;
static_assert(alignof(Rpc) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

}  // namespace

void* Rpc::operator new(size_t size) {
  return size == sizeof(Rpc) ? RpcBlocks::allocate() : ::operator new(size);
}

void Rpc::operator delete(void* block, size_t size) {
  if (size == sizeof(Rpc)) {
    RpcBlocks::release(block);
  } else {
    ::operator delete(block);
  }
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
      response_(conn, stream_id, flow_, attempt_, [this] { refuseResponse(); }),
      request_(conn, stream_id, req_headers_, flow_, attempt_, retry_),
      record_(conn.worker()),
      deadline_(conn.deadlines(), conn.worker().clock(), record_.start(),
                [this] { onDeadline(); }) {}

Rpc::~Rpc() {
  cancelUpstream(NGHTTP2_CANCEL);
  record_.recordMetrics(status_, request_.traffic(), out_);
  logAccess();
}

std::string_view Rpc::methodPath() const { return protocol_->grpcPath(req_headers_.get(":path")); }

// ------------------------------------------------------------ request phases

// The RPC's pipeline. Each phase either passes the call on or answers it
// itself (and returns false); new per-RPC policy goes in as a phase here.
void Rpc::onRequestHeaders(bool end_stream) {
  if (end_stream) request_.end();  // native gRPC until validate(): nothing to refuse
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
  if (headers_too_large_) {
    fail(metrics::LocalError::HeadersTooLarge, StatusCode::ResourceExhausted,
         "request headers exceed " + std::to_string(conn_.listener().h2.max_header_list_size) + " bytes");
    return false;
  }
  if (conn_.listener().grpc_web && req_headers_.get(":method") == "OPTIONS" &&
      req_headers_.has("access-control-request-method")) {
    return answerPreflight();
  }
  if (!selectProtocol()) {
    // gRPC spec: a server SHOULD answer a non-gRPC content-type with HTTP 415.
    count(metrics::LocalError::BadRequest);
    replyHttp(415);
    return false;
  }
  if (phase_ == Phase::Responded) return false;  // the adapter refused it (no JSON binding)
  auto method = protocol_->upstreamField(":method", req_headers_.get(":method"));
  if (!method || *method != "POST") {
    count(metrics::LocalError::MethodNotAllowed);
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
    response_.setProtocol(*protocol_);
    request_.setProtocol(*protocol_);
    return true;
  }
  // gRPC-Web where the listener does not serve it stays a 415, as without transcoding.
  if (web || runtime_->transcoding == nullptr) return false;
  // Not gRPC: a REST request for JSON transcoding, or refused with a JSON error.
  owned_protocol_ = RestProtocol::select(*runtime_->transcoding, req_headers_.get(":method"),
                                         req_headers_.get(":path"));
  protocol_ = owned_protocol_.get();
  response_.setProtocol(*protocol_);
  request_.setProtocol(*protocol_);
  if (const auto& refused = protocol_->failure()) {
    fail(metrics::LocalError::NoRoute, refused->code, refused->message);
  }
  return true;
}

bool Rpc::answerPreflight() {
  phase_ = Phase::Responded;
  if (!response_.answerPreflight(conn_.listener().cors.get(), req_headers_.get("origin"))) {
    count(metrics::LocalError::BadRequest);
  }
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
  record_.countAs(routing::kUnmatched, routing::kUnmatched, "", protocol_->name());
  fail(metrics::LocalError::NoRoute, StatusCode::Unimplemented, "no route for method " + std::string(path));
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
      auto labels = routing::metricLabels(*route_, methodPath());
      record_.countAs(labels.service, labels.method, "", protocol_->name());  // no cluster chosen
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
  record_.countAs(call->service(), call->method(), "", protocol_->name());
  local_ = std::make_unique<LocalExchange>(std::move(call));
  if (!applyDeadline()) return false;
  phase_ = Phase::Local;
  response_.startLocal();
  if (request_.ended()) local_->requestEnded();
  pumpLocal();
  return false;
}

void Rpc::pumpLocal() {
  if (phase_ != Phase::Local) return;
  LocalExchange::Step step = local_->pump(flow_.responsePending());
  request_.pay(step.consumed);
  if (!step.response.empty()) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(step.response.data());
    out_.feed(bytes, step.response.size());
    flow_.addResponse(bytes, step.response.size());
  }
  if (step.end) {
    // The local call ended with its own status (OK or not): like a gRPC
    // server, its answers made before the status are whole messages and are
    // delivered first; the status follows as trailers.
    request_.pay(local_->release());
    phase_ = Phase::Responded;
    status_ = step.end->code;
    if (step.end->code != StatusCode::Ok) record_.setLocalMessage(step.end->message);
    deadline_.cancel();
    response_.endBodyWith(step.end->code, step.end->message, /*decided=*/true);
  }
  resumeDownstream();
}

bool Rpc::chooseCluster() {
  RequestHeadersView headers(req_headers_);
  cluster_index_ = conn_.worker().clusters().choice().choose(*runtime_, *route_, headers);
  retry_.joinCounters(conn_.worker().clusters().counters(cluster().name()));
  auto labels = routing::metricLabels(*route_, methodPath());
  record_.countAs(labels.service, labels.method, cluster().name(), protocol_->name());
  request_.route(route_->max_request_message_bytes, cluster().spec->retry_buffer);
  out_.messages.setLimit(route_->max_response_message_bytes);
  return true;
}

bool Rpc::applyDeadline() {
  std::string_view timeout_text;
  if (deadline_.start(req_headers_, route_, &timeout_text)) return true;
  fail(metrics::LocalError::BadRequest, StatusCode::Internal,
       "malformed grpc-timeout header: \"" + std::string(timeout_text) + "\"");
  return false;
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
    fail(metrics::LocalError::NoHealthyEndpoint, StatusCode::Unavailable,
         "no healthy endpoint in cluster " + cluster().name());
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
  int rv = attempt_.start(up, this,
                          {req_headers_, cluster(), route_->request_headers, facts_, *protocol_,
                           conn_, identity_, retry_.attempts(), deadline_.left()});
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

// ------------------------------------------------------- request body (flow)

void Rpc::onRequestData(const uint8_t* data, size_t len) {
  if (phase_ == Phase::Responded) {
    request_.drop(len);  // nobody will forward these bytes
    return;
  }
  ClientRequest::Chunk chunk = request_.decode(data, len);
  if (chunk.refused) return fail(std::move(*chunk.refused));
  if (chunk.kept) return;  // whole messages: converted once the body ended
  if (phase_ == Phase::Local) {
    local_->feed(reinterpret_cast<const uint8_t*>(chunk.grpc.data()), chunk.grpc.size());
    pumpLocal();
    return;
  }
  if (auto refused = request_.forward(chunk.grpc)) fail(std::move(*refused));
}

void Rpc::onRequestEnd() {
  auto incomplete = request_.end();
  if (incomplete && phase_ != Phase::Responded) return fail(std::move(*incomplete));
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
  if (auto refused = request_.finishWhole()) return fail(std::move(*refused));
  startAttempt();
}

ssize_t Rpc::readRequestBody(uint8_t* buf, size_t len, uint32_t* flags) {
  return request_.read(buf, len, flags);
}

void Rpc::onDownstreamClosed(uint32_t h2_error) {
  // The client went away (RST_STREAM CANCEL, or an early close): the backend must see
  // its call cancelled. If the backend had already finished, say so with NO_ERROR.
  cancelUpstream(attempt_.state() == UpstreamAttempt::State::Done ? NGHTTP2_NO_ERROR
                                                                   : NGHTTP2_CANCEL);
  if (!status_ || (response_.state() != ResponseState::Ended && h2_error != NGHTTP2_NO_ERROR)) {
    status_ = StatusCode::Cancelled;
  }
  discardRequest();
  deadline_.cancel();
  phase_ = Phase::Responded;
}

// ------------------------------------------------------------ response phase

void Rpc::onUpstreamHeaders(http2::HeaderList&& headers, bool end_stream) {
  if (phase_ != Phase::Upstream) return;
  attempt_.setState(UpstreamAttempt::State::HeadersReceived);
  if (auto refused = answerForResponseHeaders(headers)) {
    finishLocal(refused->code, std::move(refused->message));
    return;
  }
  if (end_stream) {
    bool has_grpc_status = false;
    std::string_view grpc_status = headers.get("grpc-status", &has_grpc_status);
    auto code = has_grpc_status ? grpc::parseGrpcStatus(grpc_status).value_or(StatusCode::Unknown)
                                : StatusCode::Unknown;
    attempt_.recordResult(code == StatusCode::Unavailable, static_cast<int>(code));
    if (policyRetry(code, headers)) return;
    // Trailers-Only stays Trailers-Only.
    attempt_.setState(UpstreamAttempt::State::Done);
    status_ = code;
    deadline_.cancel();
  }
  response_.forwardHeaders(headers, end_stream);
}

void Rpc::onUpstreamData(const uint8_t* data, size_t len) {
  if (phase_ != Phase::Upstream || !response_.flowing()) {
    attempt_.consume(len);
    return;
  }
  out_.feed(data, len);
  if (out_.messages.oversized() != 0) {
    attempt_.consume(len);
    refuseOversizedResponse();
    return;
  }
  if (out_.messages.compressed() && !response_.encoded()) {
    attempt_.consume(len);
    finishLocal(StatusCode::Internal, "backend sent a compressed message without grpc-encoding");
    return;
  }
  flow_.addResponse(data, len);
  resumeDownstream();
}

void Rpc::onUpstreamTrailers(http2::HeaderList&& trailers) {
  if (phase_ != Phase::Upstream || response_.state() == ResponseState::Ended) return;
  bool found = false;
  std::string_view gs = trailers.get("grpc-status", &found);
  deadline_.cancel();
  attempt_.setState(UpstreamAttempt::State::Done);
  if (auto replaced = answerForTrailers(found, out_.messages.partial())) {
    status_ = replaced->code;
    response_.endBodyWith(replaced->code, replaced->message, /*decided=*/false);
  } else {
    status_ = grpc::parseGrpcStatus(gs).value_or(StatusCode::Unknown);
    response_.backendTrailers(std::move(trailers));
  }
  // Outlier detection sees the status in trailers too, not only in Trailers-Only.
  attempt_.recordResult(status_ == StatusCode::Unavailable, static_cast<int>(*status_));
  resumeDownstream();
}

ssize_t Rpc::readResponseBody(uint8_t* buf, size_t len, uint32_t* flags) {
  // Answers drained: requests held back for room can go on.
  if (local_ != nullptr && local_->waiting() && flow_.responsePending() == 0) pumpLocal();
  return response_.readBody(buf, len, flags);
}

void Rpc::resumeDownstream() {
  response_.resume();
}

void Rpc::refuseResponse() {
  const auto& failure = protocol_->failure();
  fail(failure->too_large ? metrics::LocalError::BodyTooLarge : metrics::LocalError::TranscodeFailed,
       failure->code, failure->message);  // the response renders the status
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
  if (answer.cause) count(*answer.cause);
  finishLocal(answer.code, std::move(answer.message));
}

// -------------------------------------------------------------------- endings

void Rpc::finishLocal(StatusCode code, std::string message,
                      std::vector<grpc::HeaderField> extra_trailers) {
  if (phase_ == Phase::Responded) return;
  phase_ = Phase::Responded;
  status_ = code;
  record_.setLocalMessage(message);
  deadline_.cancel();
  cancelUpstream(NGHTTP2_CANCEL);
  discardRequest();
  response_.endWithStatus(code, message, std::move(extra_trailers));
}

void Rpc::refuseOversizedResponse() {
  fail(metrics::LocalError::MessageTooLarge, StatusCode::ResourceExhausted,
       messageTooLargeText("response", out_.messages.oversized(), route_->max_response_message_bytes));
}

void Rpc::fail(metrics::LocalError cause, StatusCode code, std::string message) {
  count(cause);
  finishLocal(code, std::move(message));
}

void Rpc::fail(ClientRequest::Refusal refused) {
  fail(refused.cause, refused.code, std::move(refused.message));
}

void Rpc::count(metrics::LocalError cause) {
  if (auto* stats = conn_.worker().stats()) stats->localError(cause);
}

void Rpc::replyHttp(int status) {
  phase_ = Phase::Responded;
  // No grpc-status is sent: log the one a gRPC client derives from the HTTP status.
  status_ = grpc::statusFromHttpStatus(status);
  response_.replyHttp(status);
}

void Rpc::cancelUpstream(uint32_t h2_error) {
  // Response bytes still buffered were counted against the backend's window.
  attempt_.cancel(h2_error, flow_.responsePending());
}

void Rpc::discardRequest() {
  request_.discard();
  if (local_ != nullptr) request_.pay(local_->release());  // what the local call did not handle
}

// -------------------------------------------------------------------- retries

bool Rpc::canRetry() const {
  if (phase_ != Phase::Upstream || response_.state() != ResponseState::None ||
      !retry_.bodyRetained()) {
    return false;
  }
  return deadline_.allows();
}

void Rpc::retry(Duration delay, const char* why) {
  // Put the bytes already sent back in front of what is still queued.
  flow_.replayRequest();
  retry_.replayed();
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
  if (!route_->retry || !canRetry()) return false;
  auto delay = retry_.policyDelay(*route_->retry, cluster().spec->retry_budget,
                                  static_cast<int>(code), headers, conn_.worker(),
                                  attempt_.endpointStats());
  if (!delay) return false;
  if (!deadline_.allows(*delay)) return false;
  retry_.enterBudget();
  if (auto* ep = attempt_.endpointStats()) ep->policyRetry();
  // The backend has answered; NO_ERROR tells it we will send nothing more.
  cancelUpstream(NGHTTP2_NO_ERROR);
  retry(*delay, grpc::statusName(code));
  return true;
}

void Rpc::onDeadline() {
  if (phase_ == Phase::Responded) return;
  fail(metrics::LocalError::DeadlineExceeded, StatusCode::DeadlineExceeded,
       "deadline of " + std::to_string(deadline_.budget().count()) + "ms exceeded at the proxy");
}

// ---------------------------------------------------------------- accounting

void Rpc::logAccess() {
  AccessLogBuffer* log = conn_.worker().accessLog();
  if (log == nullptr || !log->enabled()) return;
  AccessRecord r;
  r.client = conn_.peerIp();
  r.authority = identity_.authority();
  r.path = methodPath();
  r.listener = conn_.listener().name;
  if (cluster_index_) r.cluster = cluster().name();
  r.endpoint = attempt_.endpoint();
  r.http_status = response_.httpStatus();
  r.upstream_ms = attempt_.lastDurationMs();
  r.user_agent = identity_.userAgent();
  r.request_id = identity_.requestId();
  r.traceparent = identity_.traceparent();
  r.attempts = retry_.attempts();
  if (const tls::PeerIdentity* peer = conn_.peerIdentity()) r.client_identity = peer->display();
  r.subject = facts_.subject;
  record_.logAccess(r, *log, status_, response_.backendMessage(), request_.traffic(), out_);
}

}  // namespace switchyard::proxy
