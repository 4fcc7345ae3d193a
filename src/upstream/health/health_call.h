// HealthCall: one grpc.health.v1.Health call (Check or Watch) on an
// UpstreamConnection, as a plain HTTP/2 stream: request headers and one
// HealthCheckRequest, then whatever comes back — serving statuses as their
// messages complete, and the call's gRPC status, taken from the trailers, a
// Trailers-Only response, a non-200 HTTP status, a stream reset, or the
// connection failing.
//
// Events are only recorded here. Each one calls `on_event`, which must not act
// at once (it runs inside the connection's nghttp2 callbacks): the owner
// schedules a look at takeStatuses()/outcome() from the top of a later loop pass.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "grpc/framing.h"
#include "grpc/status_code.h"
#include "upstream/stream_handler.h"
#include "upstream/upstream_connection.h"

namespace switchyard::upstream::health {

struct HealthCallRequest {
  const char* method;     // "Check" or "Watch"
  const char* scheme;     // "https" over TLS, else "http", as for traffic
  std::string authority;  // :authority
  std::string service;    // HealthCheckRequest.service
  std::optional<Duration> timeout{};  // sent as grpc-timeout (Check)
};

struct CallOutcome {
  switchyard::grpc::StatusCode code = switchyard::grpc::StatusCode::Ok;
  std::string message;
  bool connect_failed = false;  // the connection never came up
};


class HealthCall final : public StreamHandler {
 public:
  // A response message over `max_response_bytes` (health_check.max_response_bytes)
  // fails the call from its length prefix, before it is buffered.
  HealthCall(std::function<void()> on_event, size_t max_response_bytes);
  // Resets the stream if it is still open.
  ~HealthCall() override;
  HealthCall(const HealthCall&) = delete;
  HealthCall& operator=(const HealthCall&) = delete;

  // Opens the stream. On failure the outcome is set (and on_event called).
  void start(UpstreamConnection& conn, const HealthCallRequest& req);
  // Ends the call before it started: no connection could be made.
  void failToStart(std::string why);
  // RST_STREAM(CANCEL) if the stream is open; no more events.
  void cancel();

  // Serving statuses received since the last call, oldest first.
  std::vector<int32_t> takeStatuses();
  // Set once the call is over (or broken: stop reading it then).
  const std::optional<CallOutcome>& outcome() const { return outcome_; }

  // StreamHandler
  void onUpstreamHeaders(http2::HeaderList&& headers, bool end_stream) override;
  void onUpstreamData(const uint8_t* data, size_t len) override;
  void onUpstreamTrailers(http2::HeaderList&& trailers) override;
  void onUpstreamClosed(StreamFailure failure, uint32_t h2_error) override;
  ssize_t readRequestBody(uint8_t* buf, size_t len, uint32_t* flags) override;

 private:
  void finish(switchyard::grpc::StatusCode code, std::string message, bool connect_failed = false);
  void finishFromStatusHeaders(const http2::HeaderList& fields);

  std::function<void()> on_event_;
  UpstreamConnection* conn_ = nullptr;
  int32_t stream_id_ = -1;
  std::string body_;  // the framed request still to send
  size_t body_sent_ = 0;
  switchyard::grpc::MessageReader reader_;
  std::vector<int32_t> statuses_;
  std::optional<CallOutcome> outcome_;
};

}  // namespace switchyard::upstream::health
