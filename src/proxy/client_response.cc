#include "proxy/client_response.h"

#include <nghttp2/nghttp2.h>

#include <string>

#include "common/log.h"
#include "routing/cors_policy.h"

namespace switchyard::proxy {

const char* toString(ClientResponse::State s) {
  switch (s) {
    case ClientResponse::State::None: return "none";
    case ClientResponse::State::HeadersSent: return "headers sent";
    case ClientResponse::State::TrailersReady: return "trailers ready";
    case ClientResponse::State::Ended: return "ended";
  }
  return "unknown";
}

void ClientResponse::forwardHeaders(http2::HeaderList& headers, bool end_stream) {
  encoded_ = isEncoded(headers.get("grpc-encoding"));
  if (end_stream && !protocol_->trailersOnly()) {
    // The status travels in the body: the backend's headers become the trailers.
    backend_trailers_ = std::move(headers);
    startLocal();
    state_ = State::TrailersReady;
    resume();
    return;
  }
  if (protocol_->wholeMessages()) {
    protocol_->keepResponseHeaders(headers);
    startLocal();  // nothing is sent before the status (or a stream's first message)
    return;
  }
  // Kept until the RPC ends: nghttp2 may point into it until the frame is out.
  backend_headers_ = std::move(headers);
  http2::NvList nva;
  protocol_->addResponseHeaders(backend_headers_, nva);
  state_ = end_stream ? State::Ended : State::HeadersSent;
  checkSent(conn_.respond(stream_id_, nva, end_stream), "response headers");
}

void ClientResponse::startLocal() {
  if (protocol_->wholeMessages()) {
    // The response has begun, but its headers depend on the status: they go
    // with the whole body (renderWhole).
    state_ = State::HeadersSent;
    return;
  }
  http2::NvList nva;
  protocol_->addLocalResponseHeaders(nva);
  state_ = State::HeadersSent;
  checkSent(conn_.respond(stream_id_, nva, false), "response headers");
}

void ClientResponse::backendTrailers(http2::HeaderList&& trailers) {
  backend_trailers_ = std::move(trailers);
  state_ = State::TrailersReady;
}

void ClientResponse::endBodyWith(grpc::StatusCode code, std::string_view message, bool decided) {
  decided_ = decided_ || decided;
  local_trailers_ = grpc::trailersFields(code, message);
  state_ = State::TrailersReady;
}

void ClientResponse::endWithStatus(grpc::StatusCode code, std::string_view message,
                                   std::vector<grpc::HeaderField> extra_trailers) {
  decided_ = true;
  if (state_ == State::None && !protocol_->trailersOnly()) startLocal();
  if (state_ == State::None) {
    http2::NvList nva;
    auto fields = grpc::trailersOnlyHeaders(code, message);
    for (auto& f : extra_trailers) fields.push_back(std::move(f));
    nva.addAll(fields);
    state_ = State::Ended;
    checkSent(conn_.respond(stream_id_, nva, true), "Trailers-Only response");
  } else if (state_ != State::Ended) {
    // Headers already went out: end with trailers carrying the status, after
    // dropping response bytes that can no longer be delivered whole.
    flow_.discardResponse();
    local_trailers_ = grpc::trailersFields(code, message);
    for (auto& f : extra_trailers) local_trailers_.push_back(std::move(f));
    state_ = State::TrailersReady;
    resume();  // the status is decided: the adapter's refusal no longer matters
  }
}

void ClientResponse::replyHttp(int status) {
  http_status_ = status;
  std::string code = std::to_string(status);
  http2::NvList nva;
  nva.add(":status", code);
  nva.add("content-type", "text/plain");
  state_ = State::Ended;
  checkSent(conn_.respond(stream_id_, nva, true), "HTTP error response");
}

bool ClientResponse::answerPreflight(const routing::CorsPolicy* cors, std::string_view origin) {
  state_ = State::Ended;
  http2::NvList nva;
  std::vector<grpc::HeaderField> fields;
  bool allowed = cors != nullptr && cors->allows(origin);
  if (allowed) {
    http_status_ = 204;
    fields = cors->preflightHeaders(origin);
  } else {
    http_status_ = 403;  // no CORS headers: the browser refuses the call
  }
  std::string code = std::to_string(http_status_);
  nva.add(":status", code);
  nva.addAll(fields);
  checkSent(conn_.respond(stream_id_, nva, true), "CORS preflight answer");
  return allowed;
}

void ClientResponse::resume() {
  if (!flowing()) return;
  if (protocol_->wholeMessages() && !protocol_->responseStarted()) {
    renderWhole();
    return;
  }
  conn_.resumeResponse(stream_id_);
}

ssize_t ClientResponse::readBody(uint8_t* buf, size_t len, uint32_t* flags) {
  if (state_ == State::Ended && protocol_->trailersInBody()) {
    // The trailers are the last bytes of the body.
    bool done = false;
    size_t n = protocol_->readBodyEnd(buf, len, &done);
    if (done) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  size_t written = 0;
  size_t n = protocol_->readResponse(flow_, buf, len, &written);
  if (n > 0) attempt_.consume(n);
  if (refusedNow()) refused_();  // ends the stream with the failure (state TrailersReady)
  if (flow_.responsePending() == 0 && protocol_->responseDrained() &&
      state_ == State::TrailersReady) {
    if (protocol_->trailersInBody()) {
      sendTrailers();
      // nghttp2 asks again for the rest (the trailer frame) while this returns data.
      if (written > 0) return static_cast<ssize_t>(written);
      return readBody(buf, len, flags);
    }
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    sendTrailers();
    return static_cast<ssize_t>(written);
  }
  if (written == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(written);
}

// JSON transcoding: the adapter takes the response bytes; once the status is
// known it renders the body, and the headers go with it. A server stream's
// headers go as soon as its first message is converted; its body then flows
// through readBody.
void ClientResponse::renderWhole() {
  size_t written = 0;
  size_t taken = protocol_->readResponse(flow_, nullptr, 0, &written);
  if (taken > 0) attempt_.consume(taken);
  if (refusedNow()) {
    refused_();  // the RPC answers with the failure, which comes back here
    return;
  }
  bool started = protocol_->responseStarted();  // a stream's first message is ready
  if (state_ != State::TrailersReady && !started) return;
  if (!started) sendTrailers();  // the adapter renders the whole body from the status
  http2::NvList nva;
  protocol_->addLocalResponseHeaders(nva);
  http_status_ = protocol_->httpStatus();
  checkSent(conn_.respond(stream_id_, nva, false), "response headers");
}

void ClientResponse::sendTrailers() {
  http2::NvList nva;
  if (!local_trailers_.empty()) {
    nva.addAll(local_trailers_);
  } else {
    nva.addForwardableKept(backend_trailers_);  // kept until the RPC ends
  }
  state_ = State::Ended;
  if (protocol_->trailersInBody()) {
    protocol_->endBody(nva);
    return;
  }
  checkSent(conn_.sendTrailers(stream_id_, nva), "trailers");
}

void ClientResponse::checkSent(const Status& sent, const char* what) {
  if (sent.ok()) return;
  log::main().warn("cannot send {} on stream {}: {}; resetting it", what, stream_id_, sent.error());
  (void)conn_.reset(stream_id_, NGHTTP2_INTERNAL_ERROR);
}

}  // namespace switchyard::proxy
