// ClientResponse: the response of one RPC toward its client, on the
// downstream stream. It holds the stream's response state, the :status that
// went out, and the status trailers (the backend's, forwarded as they are, or
// a status the proxy made), and knows how each kind of answer goes out:
//
//   - the backend's headers are forwarded (through the ProtocolAdapter);
//   - a status while nothing was sent is a Trailers-Only HEADERS block (or,
//     where the adapter cannot carry that, headers then trailers);
//   - a status once headers went out is trailers after the body, whose
//     undeliverable rest is dropped (trailers in the body for gRPC-Web; for
//     JSON transcoding the whole body is rendered with its headers);
//   - an HTTP error or a CORS preflight answer ends the stream at once.
//
// The body is pulled from the RPC's FlowBuffers through its adapter; the
// response bytes taken reopen the backend's window (UpstreamAttempt::consume).
// Owned by the Rpc, which decides *what* to answer; this object knows *how*.
// A frame nghttp2 refuses resets the client stream so the client is not left
// waiting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "grpc/local_reply.h"
#include "grpc/status_code.h"
#include "http2/headers.h"
#include "proxy/downstream_side.h"
#include "proxy/flow_buffers.h"
#include "proxy/protocol_adapter.h"
#include "proxy/upstream_attempt.h"

namespace switchyard::routing {
class CorsPolicy;
}

namespace switchyard::proxy {

class ClientResponse {
 public:
  // What went to the client on this stream.
  enum class State {
    None,           // nothing yet: a failure can still be a Trailers-Only response
    HeadersSent,    // response HEADERS queued; the body flows
    TrailersReady,  // the body is complete; trailers go once the buffered body drained
    Ended,          // END_STREAM queued (trailers, Trailers-Only or an HTTP error)
  };

  // `flow` and `attempt` belong to the same RPC and outlive this object.
  // `refused` is called when the adapter refused the response (a message
  // that does not convert, or one over its limit) before the RPC decided its
  // status: the RPC then ends the call with the adapter's failure, through
  // endWithStatus, which renders it.
  ClientResponse(DownstreamSide& conn, int32_t stream_id, FlowBuffers& flow, UpstreamAttempt& attempt,
                 std::function<void()> refused)
      : conn_(conn), stream_id_(stream_id), flow_(flow), attempt_(attempt), refused_(std::move(refused)) {}
  ClientResponse(const ClientResponse&) = delete;
  ClientResponse& operator=(const ClientResponse&) = delete;

  // How the client speaks (the Rpc's choice; native gRPC until set).
  void setProtocol(ProtocolAdapter& protocol) { protocol_ = &protocol; }

  State state() const { return state_; }
  // Headers went out and the body (or the trailers) can still follow.
  bool flowing() const { return state_ == State::HeadersSent || state_ == State::TrailersReady; }
  // The backend's response headers name a grpc-encoding (compressed messages allowed).
  bool encoded() const { return encoded_; }
  // The :status sent to the client (for the access log).
  int httpStatus() const { return http_status_; }
  // The grpc-message of the backend's trailers, if they are what went out.
  std::string_view backendMessage() const { return backend_trailers_.get("grpc-message"); }

  // The backend's response headers; end_stream: a Trailers-Only response.
  void forwardHeaders(http2::HeaderList& headers, bool end_stream);
  // Starts a response with the adapter's headers for a proxy-made response;
  // its status follows as trailers (in the body for gRPC-Web).
  void startLocal();
  // The backend's trailers end the body once it drained.
  void backendTrailers(http2::HeaderList&& trailers);
  // A status made here ends the body once it drained (a backend that broke
  // the gRPC framing or omitted grpc-status, or a local call that ended).
  // `decided`: the call's status is final (the RPC answered it itself).
  void endBodyWith(grpc::StatusCode code, std::string_view message, bool decided);
  // Ends the response with a proxy-made status: Trailers-Only while nothing
  // was sent, else trailers after dropping the buffered body.
  void endWithStatus(grpc::StatusCode code, std::string_view message,
                     std::vector<grpc::HeaderField> extra_trailers);
  // An HTTP error without grpc-status (415, 405): the whole response.
  void replyHttp(int status);
  // Answers a CORS preflight: 204 with the policy's headers when it allows
  // `origin`, else 403 without them. Returns whether it was allowed.
  bool answerPreflight(const routing::CorsPolicy* cors, std::string_view origin);

  // More body or the trailers can go: asks the connection to pull again, or
  // for whole messages renders the body once the status is known (a server
  // stream's headers go once its first message converted; its body then flows).
  void resume();
  // nghttp2's read callback for the response body.
  ssize_t readBody(uint8_t* buf, size_t len, uint32_t* flags);

 private:
  void renderWhole();
  // The adapter refused the response while the status is still open.
  bool refusedNow() const { return !decided_ && protocol_->failure(); }
  void sendTrailers();
  void checkSent(const Status& sent, const char* what);

  DownstreamSide& conn_;
  const int32_t stream_id_;
  FlowBuffers& flow_;
  UpstreamAttempt& attempt_;
  std::function<void()> refused_;
  ProtocolAdapter* protocol_ = &nativeProtocol();
  State state_ = State::None;
  bool encoded_ = false;
  bool decided_ = false;  // the RPC made the final status itself
  int http_status_ = 200;
  // The backend's response headers and trailers, forwarded by reference
  // (NvList::addKept): they stay until the RPC ends.
  http2::HeaderList backend_headers_;
  http2::HeaderList backend_trailers_;             // forwarded as they are
  std::vector<grpc::HeaderField> local_trailers_;  // if set, sent instead of backend_trailers_
};

const char* toString(ClientResponse::State s);

// gRPC: a message with the compressed flag set and no grpc-encoding (or
// "identity") is a protocol error, INTERNAL. The proxy checks it because the
// gRPC library at the other end may not.
inline bool isEncoded(std::string_view grpc_encoding) {
  return !grpc_encoding.empty() && grpc_encoding != "identity";
}

}  // namespace switchyard::proxy
