// UpstreamAttempt: one try of an RPC on one backend: the endpoint the
// balancer picked, its pool, and the upstream connection and stream carrying
// the call. The RPC owns it; the upstream connection refers back to the RPC
// (StreamHandler) until either side detaches. The endpoint stays known after
// the stream ends (for the access log, and so a retry avoids it). The request
// HEADERS of the last stream opened are kept here until the next attempt or
// the RPC's end: nghttp2 holds pointers into them until it has written the
// frame or dropped it, which it does for a stream reset before it went out
// (cancel) and for a connection that closed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "event/clock.h"
#include "http2/headers.h"
#include "proxy/cluster_table.h"
#include "proxy/upstream_request_headers.h"
#include "upstream/stream_handler.h"
#include "upstream/upstream_connection.h"

namespace switchyard::metrics {
class EndpointSeries;
}

namespace switchyard::proxy {

class UpstreamAttempt {
 public:
  // The backend stream as the RPC sees it.
  enum class State {
    Idle,             // no stream (none yet, or the last one was given up for a retry)
    Sent,             // request HEADERS submitted; waiting for the response
    HeadersReceived,  // response HEADERS received; body flowing
    Done,             // the backend finished its response (trailers or Trailers-Only)
  };

  // `clock` times the attempt (upstream duration, latency histogram).
  explicit UpstreamAttempt(const event::Clock& clock) : clock_(clock) {}
  ~UpstreamAttempt() { cancel(NGHTTP2_CANCEL, 0); }
  UpstreamAttempt(const UpstreamAttempt&) = delete;
  UpstreamAttempt& operator=(const UpstreamAttempt&) = delete;

  // Remembers the balancer's pick (the endpoint of this attempt).
  void picked(const ClusterTable::Pick& pick);
  // Opens the stream on `conn` (from the picked pool) with the request HEADERS
  // made from `request`. Returns 0 or a negative nghttp2 error. The previous
  // stream, if any, is over (closed, or reset with cancel()).
  int start(upstream::UpstreamConnection* conn, upstream::StreamHandler* handler,
            const UpstreamRequestInputs& request);

  State state() const { return state_; }
  void setState(State s) { state_ = s; }
  // A stream is open and attached to the RPC.
  bool open() const { return conn_ != nullptr; }
  // The connection the open stream is on; null when none is open.
  const upstream::UpstreamConnection* connection() const { return conn_; }
  std::string_view endpoint() const { return endpoint_; }
  std::optional<size_t> endpointIndex() const { return endpoint_index_; }

  // More request body is queued.
  void resume() const;
  // The proxy passed on `n` response bytes: reopen the backend's window.
  void consume(size_t n) const;
  // The attempt's outcome: passive health (failed, for outlier detection),
  // and the endpoint's metrics (grpc_code and the attempt's duration).
  void recordResult(bool failed, int grpc_code);
  // The picked endpoint's metric series (null without metrics).
  metrics::EndpointSeries* endpointStats() const { return stats_; }
  // Duration of the last attempt whose result was recorded; < 0 if none.
  double lastDurationMs() const { return last_ms_; }
  // Resets the stream with `h2_error` and detaches, giving back the window
  // of `unconsumed` response bytes first. No-op when no stream is open.
  void cancel(uint32_t h2_error, size_t unconsumed);
  // The stream ended on the backend's side (the connection reported it):
  // detach, giving `unconsumed` bytes back to the connection's window.
  void closed(size_t unconsumed);

 private:
  void detach();

  const event::Clock& clock_;
  State state_ = State::Idle;
  std::string_view endpoint_;  // in the RPC's Runtime snapshot, which it keeps alive
  std::optional<size_t> endpoint_index_;
  upstream::Pool* pool_ = nullptr;                 // set while a stream is open
  metrics::EndpointSeries* stats_ = nullptr;       // of the picked endpoint
  event::Clock::TimePoint started_;
  double last_ms_ = -1;
  upstream::UpstreamConnection* conn_ = nullptr;  // set while a stream is open
  int32_t stream_id_ = 0;
  std::optional<UpstreamRequestHeaders> headers_;  // of the last stream opened
};

const char* toString(UpstreamAttempt::State s);

}  // namespace switchyard::proxy
