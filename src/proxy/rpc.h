// Rpc: one gRPC call in flight, pairing a client (downstream) HTTP/2 stream
// with a backend (upstream) stream. Owned by its DownstreamConnection, keyed by
// stream id. Its request goes through one visible sequence of phases:
//
//   request headers → validate → local → match route → policy (the route's
//     RequestFilters: client certificate, authenticate, authorize, limit)
//     → choose cluster → deadline → balance → attempt (UpstreamAttempt)
//     → response
//
// and any phase may answer the call itself with a gRPC status. The local
// phase hands calls the proxy serves itself (merged reflection) to a
// LocalExchange, which answers them without any upstream attempt. The pieces
// that are not phases live in their own objects: the request from the client
// (ClientRequest: how its body is decoded, checked, queued for the attempt
// and paid for; it reports a refusal, the Rpc decides what that ends), the
// response toward the client (ClientResponse: the Rpc decides what to answer,
// it knows how), the deadline (RpcDeadline), its metrics and access-log line
// (RpcRecord), the headers of a forwarded request (UpstreamRequestHeaders),
// the backend stream of the current try (UpstreamAttempt), what is needed to
// send the call again and whether a status earns a retry (RetryState), and
// the buffered bytes with their window accounting (FlowBuffers, which keeps
// flow control end to end).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "event/loop.h"
#include "grpc/local_reply.h"
#include "grpc/status_code.h"
#include "http2/headers.h"
#include "metrics/worker_stats.h"
#include "proxy/client_request.h"
#include "proxy/client_response.h"
#include "proxy/downstream_side.h"
#include "proxy/flow_buffers.h"
#include "proxy/local_exchange.h"
#include "proxy/message_counter.h"
#include "proxy/protocol_adapter.h"
#include "proxy/request_filter.h"
#include "proxy/request_identity.h"
#include "proxy/retry_state.h"
#include "proxy/rpc_deadline.h"
#include "proxy/rpc_record.h"
#include "proxy/runtime.h"
#include "proxy/upstream_attempt.h"
#include "upstream/stream_handler.h"

namespace switchyard::proxy {

class Rpc final : public upstream::StreamHandler {
 public:
  // Where the RPC is in its life.
  enum class Phase {
    Headers,    // waiting for the request headers to complete
    Local,      // served by the proxy itself (LocalExchange), no backend
    Upstream,   // forwarding to a backend (or waiting to retry)
    Responded,  // the response toward the client is finished (or being finished)
  };
  // The client's half of the stream (ClientRequest).
  using RequestState = ClientRequest::State;
  // What went to the client on this stream (ClientResponse).
  using ResponseState = ClientResponse::State;

  Rpc(DownstreamSide& conn, int32_t stream_id);
  ~Rpc() override;
  Rpc(const Rpc&) = delete;
  Rpc& operator=(const Rpc&) = delete;
  // One Rpc is made and destroyed per call, and it is past malloc's
  // per-thread cache: its memory is recycled per worker (common::BlockRecycler).
  static void* operator new(size_t size);
  static void operator delete(void* block, size_t size);

  http2::HeaderList& requestHeaders() { return req_headers_; }
  int32_t streamId() const { return stream_id_; }
  bool requestEnded() const { return request_.ended(); }
  Phase phase() const { return phase_; }
  ResponseState responseState() const { return response_.state(); }
  UpstreamAttempt::State upstreamState() const { return attempt_.state(); }
  // The status the RPC ended with (seen from the backend or made here), once known.
  std::optional<grpc::StatusCode> status() const { return status_; }

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
  // The request phases, in order; each returns false once it answered the RPC.
  bool validate();
  // A CORS preflight (OPTIONS) on a gRPC-Web listener: answered here.
  bool answerPreflight();
  // Picks the ProtocolAdapter from the content type; false if none fits.
  bool selectProtocol();
  // A call the proxy serves itself: starts the LocalExchange, returns false.
  bool serveLocally();
  bool matchRoute();
  bool applyPolicy();
  bool chooseCluster();
  bool applyDeadline();
  // balance + attempt: picks an endpoint and opens a stream to it.
  bool startAttempt();
  // The cluster's max_active_rpcs breaker: false (and answered) on overflow.
  bool admitToCluster();

  // JSON transcoding: the request body, converted whole, goes to an attempt.
  void startWholeRequest();

  // The response phase (the response itself is a ClientResponse).
  // More response body or the trailers can go to the client.
  void resumeDownstream();
  // Moves the LocalExchange on: handles queued requests, queues the answers.
  void pumpLocal();
  // Ends the RPC toward the client with a proxy-made status, resetting the upstream stream.
  void finishLocal(grpc::StatusCode code, std::string message,
                   std::vector<grpc::HeaderField> extra_trailers = {});
  // A response message over the route's size limit: RESOURCE_EXHAUSTED, backend stream reset.
  void refuseOversizedResponse();
  // finishLocal for a failure the proxy counts in local_errors_total{cause}.
  void fail(metrics::LocalError cause, grpc::StatusCode code, std::string message);
  void fail(ClientRequest::Refusal refused);
  void count(metrics::LocalError cause);
  // JSON transcoding: the adapter refused the response (too large, does not convert).
  void refuseResponse();
  void replyHttp(int status);

  // Retries.
  // Whether the RPC may still be sent again: nothing went to the client, the
  // request bytes sent so far are all kept, and the deadline has not passed.
  bool canRetry() const;
  // Sends the RPC again on another endpoint after `delay` (zero: at once).
  void retry(Duration delay, const char* why);
  bool policyRetry(grpc::StatusCode code, const http2::HeaderList& headers);

  void cancelUpstream(uint32_t h2_error);
  // Nothing more goes upstream or to the local call: the client's window reopens for the rest.
  void discardRequest();
  void onDeadline();
  void logAccess();
  std::string_view methodPath() const;
  const upstream::ClusterSnapshot& cluster() const { return *runtime_->clusters[*cluster_index_]; }

  DownstreamSide& conn_;
  const int32_t stream_id_;
  Phase phase_ = Phase::Headers;
  bool headers_too_large_ = false;
  http2::HeaderList req_headers_;
  // How the client speaks (native gRPC unless the content type says otherwise).
  ProtocolAdapter* protocol_ = &nativeProtocol();
  std::unique_ptr<ProtocolAdapter> owned_protocol_;

  RuntimePtr runtime_;  // the snapshot the RPC started with
  const routing::Route* route_ = nullptr;
  std::optional<size_t> cluster_index_;  // into runtime_->clusters, once routed
  PolicyFacts facts_;                    // what the policy steps learnt of the caller
  upstream::ActiveRpcSlot active_slot_;  // its place under circuit_breaker.max_active_rpcs

  std::unique_ptr<LocalExchange> local_;  // the local phase's call, if it took the RPC
  UpstreamAttempt attempt_;
  RetryState retry_;
  event::Timer retry_timer_;
  FlowBuffers flow_;
  ClientResponse response_;  // toward the client: its state, headers, body and trailers
  ClientRequest request_;    // from the client: its state, body decoding and window, traffic

  RpcRecord record_;  // its metric series and access-log line; when it began
  RpcDeadline deadline_;

  std::optional<grpc::StatusCode> status_;
  Traffic out_;  // backend -> client (client -> backend: request_.traffic())

  // Request id, tracing and caller fields (forwarded, and in the access log).
  RequestIdentity identity_;
};

}  // namespace switchyard::proxy
