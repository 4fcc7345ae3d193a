// ClientRequest: the request of one RPC from its client, on the downstream
// stream. It holds the request stream state and the request's traffic counts,
// and knows how the client's body moves toward the backend:
//
//   - each chunk is decoded through the ProtocolAdapter (gRPC-Web text is
//     base64-decoded; a JSON body is kept by the adapter until it ends);
//   - the gRPC bytes are checked for a message over the route's limit and for
//     a compressed message without grpc-encoding, then queued in the RPC's
//     FlowBuffers for the attempt;
//   - a whole-message request (JSON transcoding) becomes one gRPC message
//     once its body ended;
//   - the attempt reads the queued bytes (read), which leaves them kept in
//     the queue while a retry may replay them (RetryState) and reopens the client's window by what they cost it
//     (pay); bytes nobody will forward reopen it at once (drop, discard).
//
// Owned by the Rpc, which decides *what* to do with the call; this object
// knows *how* the bytes move. A chunk it refuses comes back as a Refusal, the
// status the Rpc ends the call with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "grpc/status_code.h"
#include "http2/headers.h"
#include "metrics/worker_stats.h"
#include "proxy/downstream_side.h"
#include "proxy/flow_buffers.h"
#include "proxy/message_counter.h"
#include "proxy/protocol_adapter.h"
#include "proxy/retry_state.h"
#include "proxy/upstream_attempt.h"

namespace switchyard::proxy {

class ClientRequest {
 public:
  // The client's half of the stream (RFC 9113 5.1, seen from the server).
  enum class State {
    Open,              // the client may send more
    HalfClosedRemote,  // the client sent END_STREAM
  };

  // Why the request is refused: the Rpc ends the call with this status,
  // counted in local_errors_total{cause}.
  struct Refusal {
    metrics::LocalError cause;
    grpc::StatusCode code;
    std::string message;
  };

  // A chunk of the client's body after decoding.
  struct Chunk {
    std::optional<Refusal> refused;  // the body is malformed (or over the adapter's limit)
    bool kept = false;               // whole messages: the adapter keeps the body until it ends
    std::string_view grpc;           // else the gRPC bytes it carried (valid until the next chunk)
  };

  // `headers` (the request's), `flow`, `attempt` and `retry` belong to the
  // same RPC and outlive this object.
  ClientRequest(DownstreamSide& conn, int32_t stream_id, const http2::HeaderList& headers,
                FlowBuffers& flow, UpstreamAttempt& attempt, RetryState& retry)
      : conn_(conn), stream_id_(stream_id), headers_(headers), flow_(flow), attempt_(attempt), retry_(retry) {}
  ClientRequest(const ClientRequest&) = delete;
  ClientRequest& operator=(const ClientRequest&) = delete;

  // How the client speaks (the Rpc's choice; native gRPC until set).
  void setProtocol(ProtocolAdapter& protocol) { protocol_ = &protocol; }
  // The route's request message limit and the cluster's retry_buffer, once chosen.
  void route(uint64_t max_message, uint64_t retry_buffer) {
    traffic_.messages.setLimit(max_message);
    max_message_ = max_message;
    retry_buffer_ = retry_buffer;
  }

  State state() const { return state_; }
  bool ended() const { return state_ == State::HalfClosedRemote; }
  // client -> backend, for the RPC's metrics and access-log line.
  const Traffic& traffic() const { return traffic_; }

  // The client sent END_STREAM. A refusal when its body ended inside an
  // encoding unit (a gRPC-Web text body cut inside a base64 group).
  std::optional<Refusal> end();

  // Bytes nobody will forward (the call is answered): the client's window
  // reopens at once.
  void drop(size_t len);
  // Decodes a chunk of the client's body; the gRPC bytes are counted.
  Chunk decode(const uint8_t* data, size_t len);
  // Queues decoded gRPC bytes for the attempt, after the framing checks; a
  // refusal when a message is over the route's limit or compressed without
  // grpc-encoding (the client's window is then reopened for them at once).
  std::optional<Refusal> forward(std::string_view grpc);
  // Whole messages: the body ended; the one gRPC message it makes is queued
  // for the attempt, or the refusal (does not convert, over the limit).
  std::optional<Refusal> finishWhole();

  // The attempt's read callback: takes queued bytes (kept for a retry),
  // pays the client; END_STREAM once the client ended and all is taken.
  ssize_t read(uint8_t* buf, size_t len, uint32_t* flags);
  // The client's window reopens for what `forwarded` decoded bytes cost it.
  void pay(size_t forwarded);
  // Nothing more goes upstream: queued bytes are paid for and dropped, as are the kept ones.
  void discard();

 private:
  std::optional<Refusal> oversized();

  DownstreamSide& conn_;
  const int32_t stream_id_;
  const http2::HeaderList& headers_;
  FlowBuffers& flow_;
  UpstreamAttempt& attempt_;
  RetryState& retry_;
  ProtocolAdapter* protocol_ = &nativeProtocol();
  State state_ = State::Open;
  Traffic traffic_;
  uint64_t max_message_ = 0;
  uint64_t retry_buffer_ = 0;
};

}  // namespace switchyard::proxy
