// ProtocolAdapter: how an RPC's client speaks, as seen by the Rpc. The Rpc
// always talks gRPC over HTTP/2 to the backend; the adapter translates the
// client's side of it. Native gRPC passes everything through unchanged
// (nativeProtocol()); gRPC-Web (WebProtocol, web_protocol.h) rewrites the
// content type, may base64-decode the request and encode the response, and
// carries the trailers as the last message of the response body; JSON
// transcoding (RestProtocol, rest_protocol.h) converts whole messages: the
// request body is taken whole and becomes one gRPC message before any attempt,
// and the response headers wait until the status is known (a unary response,
// rendered whole) or the first message of a server stream is converted (the
// stream then flows message by message). The Rpc consults the adapter at each
// point where the protocols differ, nowhere else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "grpc/status_code.h"

#include "http2/headers.h"
#include "proxy/flow_buffers.h"

namespace switchyard::proxy {

class ProtocolAdapter {
 public:
  virtual ~ProtocolAdapter() = default;

  // The metrics and access-log name: "grpc", "grpc-web", "json".
  virtual std::string_view name() const = 0;

  // Why the adapter refused the call (its own limits, a body that does not
  // convert), once it has; the Rpc ends the call with this status.
  struct Failure {
    grpc::StatusCode code = grpc::StatusCode::Internal;
    std::string message;
    bool too_large = false;  // counted as body_too_large rather than bad_request
  };
  virtual const std::optional<Failure>& failure() const {
    static const std::optional<Failure> none;
    return none;
  }

  // The gRPC method path ("/pkg.Service/Method") of a request with this :path.
  virtual std::string_view grpcPath(std::string_view request_path) const { return request_path; }
  // Whole-message conversion (JSON transcoding): decodeRequest keeps the body
  // (the Rpc reopens the client's window itself) and finishRequest makes the
  // gRPC request once the body ended; the backend is not contacted before.
  // On the response side nothing goes to the client until the status is
  // known: readResponse takes the backend's bytes (buf unused), endBody makes
  // the whole body, then addLocalResponseHeaders the headers for it.
  virtual bool wholeMessages() const { return false; }
  // The framed gRPC request message; an error (text naming the field) is
  // answered INVALID_ARGUMENT and nothing reaches the backend.
  virtual Result<std::string> finishRequest() { return std::string(); }
  // The HTTP status the response carries (for the access log).
  virtual int httpStatus() const { return 200; }
  // Whole-message conversion of a server stream: the response headers wait,
  // as for a whole response, until this says the first message is ready to
  // go (or the status is known); from then on the body flows through
  // readResponse and endBody like gRPC-Web's, under the client's window.
  virtual bool responseStarted() const { return false; }
  // Whole-message conversion: the backend's response headers, kept for the
  // headers addLocalResponseHeaders makes later (its metadata).
  virtual void keepResponseHeaders(const http2::HeaderList& backend) { (void)backend; }

  // --- request (client -> backend)
  // The value a client request field is forwarded with upstream; nullopt drops it.
  virtual std::optional<std::string_view> upstreamField(std::string_view name,
                                                        std::string_view value) const {
    (void)name;
    return value;
  }
  // Fields added to the request sent upstream.
  virtual void addUpstreamFields(const http2::HeaderList& request, http2::NvList& nva) const {
    (void)request;
    (void)nva;
  }
  // The gRPC bytes carried by a chunk of the client's body (valid until the
  // next call); nullopt when the body is malformed.
  virtual std::optional<std::string_view> decodeRequest(const uint8_t* data, size_t len) {
    return std::string_view(reinterpret_cast<const char*>(data), len);
  }
  // False when the client's body ended in the middle of an encoding unit.
  virtual bool requestComplete() const { return true; }
  // Client bytes whose window may reopen once `forwarded` decoded bytes left.
  virtual size_t clientBytesFor(size_t forwarded) { return forwarded; }

  // --- response (backend -> client)
  // Whether a Trailers-Only response (or a proxy-made status before any
  // response headers) may go to the client as one HEADERS block.
  virtual bool trailersOnly() const { return true; }
  // The response headers toward the client, from the backend's. `backend`
  // is kept until the RPC ends, so its fields may go by reference (addKept).
  virtual void addResponseHeaders(const http2::HeaderList& backend, http2::NvList& nva) const {
    nva.addForwardableKept(backend);
  }
  // The response headers of a response started by the proxy: one it answers
  // itself (a local call such as merged reflection), or a proxy-made status
  // when trailersOnly() is false.
  virtual void addLocalResponseHeaders(http2::NvList& nva) const {
    nva.add(":status", "200");
    nva.add("content-type", "application/grpc");
  }
  // Moves response bytes from `flow` into `buf` (at most `len` bytes written,
  // count in *written); returns how many bytes were taken from `flow`.
  virtual size_t readResponse(FlowBuffers& flow, uint8_t* buf, size_t len, size_t* written) {
    size_t n = flow.takeResponse(buf, len);
    *written = n;
    return n;
  }
  // False while readResponse holds bytes it took but has not written yet.
  virtual bool responseDrained() const { return true; }
  // Whether trailers go in the response body (then endBody replaces HTTP trailers).
  virtual bool trailersInBody() const { return false; }
  // Takes the trailers to send as the end of the body.
  virtual void endBody(const http2::NvList& trailers) { (void)trailers; }
  // The rest of the body's end (after endBody); *done once all of it was written.
  virtual size_t readBodyEnd(uint8_t* buf, size_t len, bool* done) {
    (void)buf;
    (void)len;
    *done = true;
    return 0;
  }
};

// Native gRPC: everything passes through. Stateless; shared by every RPC.
ProtocolAdapter& nativeProtocol();

}  // namespace switchyard::proxy
