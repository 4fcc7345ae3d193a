// DownstreamSide: what an Rpc needs from the client connection it arrived on:
// the listener and peer it came through, its worker, and the server-stream
// API (respond, trailers, resume, reset, consume). DownstreamConnection
// implements it over nghttp2; unit tests implement it in memory. Every call
// queues frames and schedules the connection's flush; none sends at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/duration.h"
#include "common/result.h"
#include "event/deadline_queue.h"
#include "http2/connection.h"
#include "http2/headers.h"
#include "proxy/worker_context.h"
#include "routing/cors_policy.h"
#include "tls/peer_identity.h"

namespace switchyard::metrics {
class ListenerSeries;
}

namespace switchyard::proxy {

struct ListenerInfo {
  std::string name;
  bool tls = false;
  http2::SessionSettings h2;
  Duration idle_timeout = std::chrono::minutes(5);
  Duration handshake_timeout = std::chrono::seconds(10);  // TLS only
  bool forward_client_cert = false;  // x-forwarded-client-cert to backends
  Duration request_headers_timeout = std::chrono::seconds(10);  // zero: never
  Duration stream_idle_timeout = std::chrono::minutes(5);       // zero: never
  uint32_t max_connections = 0;                                  // zero: no limit
  bool grpc_web = false;  // gRPC-Web requests are accepted
  std::shared_ptr<const routing::CorsPolicy> cors;  // grpc_web.cors; null: same origin only
  Duration max_connection_age = Duration::zero();                // zero: never (±10 % jitter)
  Duration max_connection_age_grace = std::chrono::seconds(30);  // zero: wait for the RPCs
  bool merged_reflection = false;  // the proxy answers reflection from the descriptor sets
  // connection_balance: exact: each new connection goes to the worker with the
  // fewest client connections, not to the one the kernel chose.
  bool exact_balance = false;
  uint64_t http1_max_request_body_bytes = 4 * 1024 * 1024;  // http1.max_request_body_bytes
  // Open connections of this listener over all workers (shared by them).
  std::shared_ptr<std::atomic<uint32_t>> open_connections;
  metrics::ListenerSeries* stats = nullptr;
};

class DownstreamSide {
 public:
  virtual ~DownstreamSide() = default;

  virtual WorkerContext& worker() = 0;
  virtual const ListenerInfo& listener() const = 0;
  virtual const std::string& peerIp() const = 0;
  // The client's verified TLS certificate; null without one.
  virtual const tls::PeerIdentity* peerIdentity() const { return nullptr; }

  // --- server-stream API; a failed Status means nghttp2 refused the frame.
  // Response HEADERS. end_stream: the whole response (Trailers-Only, or an
  // HTTP error); otherwise the body is pulled from Rpc::readResponseBody.
  virtual Status respond(int32_t stream_id, const http2::NvList& headers, bool end_stream) = 0;
  // Trailers ending a response whose HEADERS went out (may be called from
  // inside Rpc::readResponseBody, after it set NGHTTP2_DATA_FLAG_NO_END_STREAM).
  virtual Status sendTrailers(int32_t stream_id, const http2::NvList& trailers) = 0;
  // More response body (or the trailers) is ready: ask Rpc::readResponseBody again.
  virtual void resumeResponse(int32_t stream_id) = 0;
  // RST_STREAM with `h2_error`.
  virtual Status reset(int32_t stream_id, uint32_t h2_error) = 0;
  // The proxy passed on (or dropped) `n` request bytes: reopen the client's window.
  virtual void consume(int32_t stream_id, size_t n) = 0;

  // The deadlines of this connection's RPCs, behind one timer (made on first use).
  event::DeadlineQueue& deadlines() {
    if (!deadlines_) deadlines_ = std::make_unique<event::DeadlineQueue>(worker().base(), worker().clock());
    return *deadlines_;
  }

 private:
  // Destroyed after the implementing class, and so after its RPCs.
  std::unique_ptr<event::DeadlineQueue> deadlines_;
};

}  // namespace switchyard::proxy
