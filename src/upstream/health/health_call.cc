#include "upstream/health/health_call.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "grpc/health_message.h"
#include "grpc/message.h"
#include "grpc/status_map.h"
#include "grpc/timeout.h"

namespace switchyard::upstream::health {
namespace {

using switchyard::grpc::StatusCode;

constexpr char kUserAgent[] = "switchyard-health/" SY_VERSION;

int httpStatus(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return 0;
  return value;
}

}  // namespace

HealthCall::HealthCall(std::function<void()> on_event, size_t max_response_bytes)
    : on_event_(std::move(on_event)), reader_(max_response_bytes) {}

HealthCall::~HealthCall() { cancel(); }

void HealthCall::start(UpstreamConnection& conn, const HealthCallRequest& req) {
  body_ = switchyard::grpc::frameMessage(switchyard::grpc::encodeHealthCheckRequest(req.service));
  const std::string path = std::string("/grpc.health.v1.Health/") + req.method;
  std::string timeout;
  std::vector<nghttp2_nv> nva = {
      http2::makeNv(":method", "POST"),
      http2::makeNv(":scheme", req.scheme),
      http2::makeNv(":path", path),
      http2::makeNv(":authority", req.authority),
      http2::makeNv("te", "trailers"),
      http2::makeNv("content-type", "application/grpc"),
      http2::makeNv("user-agent", kUserAgent),
  };
  if (req.timeout) {
    timeout = switchyard::grpc::formatGrpcTimeout(*req.timeout);
    nva.push_back(http2::makeNv("grpc-timeout", timeout));
  }
  const int32_t id = conn.submit(this, nva.data(), nva.size());
  if (id < 0) {
    finish(StatusCode::Unavailable, "cannot open a stream: " + submitErrorText(id));
    return;
  }
  conn_ = &conn;
  stream_id_ = id;
}

void HealthCall::failToStart(std::string why) {
  finish(StatusCode::Unavailable, std::move(why), /*connect_failed=*/true);
}

void HealthCall::cancel() {
  if (conn_ != nullptr && stream_id_ >= 0) conn_->cancel(stream_id_, NGHTTP2_CANCEL);
  conn_ = nullptr;
  stream_id_ = -1;
}

std::vector<int32_t> HealthCall::takeStatuses() {
  std::vector<int32_t> out;
  out.swap(statuses_);
  return out;
}

void HealthCall::finish(StatusCode code, std::string message, bool connect_failed) {
  if (outcome_) return;
  outcome_ = CallOutcome{code, std::move(message), connect_failed};
  on_event_();
}

void HealthCall::finishFromStatusHeaders(const http2::HeaderList& fields) {
  bool found = false;
  std::string_view value = fields.get("grpc-status", &found);
  if (!found) {
    finish(StatusCode::Unknown, "the response carried no grpc-status");
    return;
  }
  auto code = switchyard::grpc::parseGrpcStatus(value);
  if (!code) {
    finish(StatusCode::Unknown, "malformed grpc-status '" + std::string(value) + "'");
    return;
  }
  if (*code == StatusCode::Ok && reader_.partial()) {
    finish(StatusCode::Internal, "the response ended inside a message");
    return;
  }
  finish(*code, switchyard::grpc::percentDecodeGrpcMessage(fields.get("grpc-message")));
}

void HealthCall::onUpstreamHeaders(http2::HeaderList&& headers, bool end_stream) {
  std::string_view status = headers.get(":status");
  if (status != "200") {
    if (end_stream && headers.has("grpc-status")) {
      finishFromStatusHeaders(headers);
      return;
    }
    finish(switchyard::grpc::statusFromHttpStatus(httpStatus(status)),
           "HTTP status " + std::string(status));
    return;
  }
  if (end_stream) finishFromStatusHeaders(headers);  // Trailers-Only
}

void HealthCall::onUpstreamData(const uint8_t* data, size_t len) {
  if (conn_ != nullptr) conn_->consume(stream_id_, len);
  if (outcome_) return;
  if (!reader_.feed(data, len)) {
    finish(StatusCode::Internal,
           std::string("HealthCheckResponse: ") + switchyard::grpc::toString(reader_.error()));
  }
  bool any = false;
  while (auto message = reader_.next()) {
    auto status = switchyard::grpc::decodeHealthCheckResponse(*message);
    if (!status) {
      finish(StatusCode::Internal, "malformed HealthCheckResponse");
      break;
    }
    statuses_.push_back(*status);
    any = true;
  }
  if (any) on_event_();
}

void HealthCall::onUpstreamTrailers(http2::HeaderList&& trailers) {
  finishFromStatusHeaders(trailers);
}

void HealthCall::onUpstreamClosed(StreamFailure failure, uint32_t h2_error) {
  conn_ = nullptr;
  stream_id_ = -1;
  switch (failure) {
    case StreamFailure::None:
      finish(StatusCode::Internal, "the stream ended without a status");
      break;
    case StreamFailure::Reset:
      finish(switchyard::grpc::statusFromRstStream(h2_error, /*sent_by_server=*/true),
             "stream reset by the backend (HTTP/2 error " + std::to_string(h2_error) + ")");
      break;
    case StreamFailure::Refused:
      finish(StatusCode::Unavailable, "stream refused");
      break;
    case StreamFailure::ConnectFailed:
      finish(StatusCode::Unavailable, "connect failed", /*connect_failed=*/true);
      break;
    case StreamFailure::ConnectionLost:
      finish(StatusCode::Unavailable, "connection lost");
      break;
    case StreamFailure::PendingTimeout:
      finish(StatusCode::Unavailable, "no stream slot on the connection in time");
      break;
    case StreamFailure::BadResponse:
      finish(StatusCode::Internal, "response headers over the cluster's limits");
      break;
  }
}

ssize_t HealthCall::readRequestBody(uint8_t* buf, size_t len, uint32_t* flags) {
  const size_t n = std::min(len, body_.size() - body_sent_);
  std::copy_n(body_.data() + body_sent_, n, buf);
  body_sent_ += n;
  if (body_sent_ == body_.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

}  // namespace switchyard::upstream::health
