// Rpc: one gRPC call in flight, pairing a client (downstream) HTTP/2 stream
// with a backend (upstream) stream. Owned by its DownstreamConnection, keyed by
// stream id. It routes the call, forwards headers, messages and trailers both
// ways, applies the deadline, and turns every failure the proxy itself sees
// into a proper gRPC status.
//
// Flow control is end to end: bytes a side sends us are buffered here and the
// sender's window is reopened (nghttp2_session_consume) only as the other side
// takes them, so a stream's buffered bytes never exceed the window we granted.
#pragma once

#include <event2/buffer.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/c_handle.h"
#include "event/loop.h"
#include "grpc/local_reply.h"
#include "grpc/status_code.h"
#include "http2/headers.h"
#include "proxy/downstream_side.h"
#include "proxy/message_counter.h"
#include "proxy/runtime.h"
#include "upstream/stream_handler.h"
#include "upstream/pool.h"
#include "upstream/upstream_connection.h"

namespace switchyard::metrics {
class RpcSeries;
}

namespace switchyard::proxy {

struct ClusterCounters;
using EvbufferPtr = CHandle<evbuffer, evbuffer_free>;

class Rpc final : public upstream::StreamHandler {
 public:
  Rpc(DownstreamSide& conn, int32_t stream_id);
  ~Rpc() override;
  Rpc(const Rpc&) = delete;
  Rpc& operator=(const Rpc&) = delete;

  http2::HeaderList& requestHeaders() { return req_headers_; }
  int32_t streamId() const { return stream_id_; }
  bool requestEnded() const { return req_ended_; }

  // --- downstream (client) side, called by DownstreamConnection
  void onRequestHeaders(bool end_stream);
  void onRequestData(const uint8_t* data, size_t len);
  void onRequestEnd();
  // The client stream closed (normally or by RST_STREAM); the Rpc is destroyed next.
  void onDownstreamClosed(uint32_t h2_error);
  ssize_t readResponseBody(uint8_t* buf, size_t len, uint32_t* flags);
  // Ends the RPC with a proxy-made status (e.g. the drain timeout passed).
  void abort(grpc::StatusCode code, std::string message) { finishLocal(code, std::move(message)); }
  // The request headers were larger than the listener allows.
  void markHeadersTooLarge() { headers_too_large_ = true; }

  // --- upstream::StreamHandler
  void onUpstreamHeaders(http2::HeaderList&& headers, bool end_stream) override;
  void onUpstreamData(const uint8_t* data, size_t len) override;
  void onUpstreamTrailers(http2::HeaderList&& trailers) override;
  void onUpstreamClosed(upstream::StreamFailure failure, uint32_t h2_error) override;
  ssize_t readRequestBody(uint8_t* buf, size_t len, uint32_t* flags) override;

 private:
  enum class Phase {
    Headers,    // waiting for the request headers to complete
    Upstream,   // forwarding to a backend
    Responded,  // response finished toward the client (or being finished)
  };

  void route();
  bool startAttempt();
  // Whether the RPC may still be sent again: nothing went to the client, the
  // request bytes sent so far are all kept, and the deadline has not passed.
  bool canRetry() const;
  // Sends the RPC again on another endpoint after `delay` (zero: at once).
  void retry(Duration delay, const char* why);
  bool policyRetry(grpc::StatusCode code, const http2::HeaderList& headers);
  void recordEndpointResult(bool failed);
  void discardRequestBuffer();
  void buildUpstreamHeaders(http2::NvList& nva, std::string& timeout_buf,
                            std::string& xff_buf) const;
  // A frame toward the client was refused: reset the stream so the client is not left waiting.
  void checkSent(const Status& sent, const char* what);
  void forwardResponseHeaders(http2::HeaderList& headers, bool end_stream);
  // Ends the RPC toward the client with a proxy-made status, resetting the upstream stream.
  void finishLocal(grpc::StatusCode code, std::string message);
  void replyHttp(int status);
  void detachUpstream(uint32_t rst_code);
  void onDeadline();
  void resumeDownstream();
  void logAccess();
  std::string_view methodPath() const;

  DownstreamSide& conn_;
  int32_t stream_id_;
  Phase phase_ = Phase::Headers;
  RuntimePtr runtime_;
  const routing::Route* route_ = nullptr;
  int cluster_index_ = -1;
  std::string endpoint_;
  int endpoint_index_ = -1;
  upstream::Pool* pool_ = nullptr;  // valid while up_ is set
  ClusterCounters* counters_ = nullptr;

  // Retry state. sent_buf_ keeps a copy of the request bytes already sent
  // upstream, up to the cluster's retry_buffer; past that the RPC is committed.
  EvbufferPtr sent_buf_{evbuffer_new()};
  uint64_t sent_total_ = 0;
  size_t resend_pending_ = 0;  // bytes in req_buf_ the client's window already paid for
  bool body_retained_ = true;
  uint32_t attempts_ = 0;
  uint32_t transparent_retries_ = 0;
  bool counted_as_retry_ = false;
  mutable std::string attempts_buf_;

  http2::HeaderList req_headers_;
  EvbufferPtr req_buf_;   // request bytes received, not yet sent upstream
  EvbufferPtr resp_buf_;  // response bytes received, not yet sent downstream
  bool req_ended_ = false;
  bool headers_too_large_ = false;

  upstream::UpstreamConnection* up_ = nullptr;
  int32_t up_stream_ = -1;
  bool resp_headers_sent_ = false;   // response HEADERS submitted downstream
  bool resp_complete_ = false;       // nothing more will come from upstream
  bool trailers_submitted_ = false;
  http2::HeaderList resp_trailers_;
  std::vector<grpc::HeaderField> local_trailers_;
  bool use_local_trailers_ = false;

  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point deadline_at_;
  bool has_deadline_ = false;
  event::Timer deadline_timer_;

  int status_ = -1;  // grpc-status seen or made; -1 until known
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  MessageCounter msgs_in_;
  MessageCounter msgs_out_;
  metrics::RpcSeries* series_ = nullptr;
  event::Timer retry_timer_;
};

}  // namespace switchyard::proxy
