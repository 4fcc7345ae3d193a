// ProtocolAdapter: how an RPC's client speaks, as seen by the Rpc. The Rpc
// always talks gRPC over HTTP/2 to the backend; the adapter translates the
// client's side of it. Native gRPC passes everything through unchanged
// (nativeProtocol()); gRPC-Web (WebProtocol, web_protocol.h) rewrites the
// content type, may base64-decode the request and encode the response, and
// carries the trailers as the last message of the response body. The Rpc
// consults the adapter at each point where the two differ, nowhere else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "http2/headers.h"
#include "proxy/flow_buffers.h"

namespace switchyard::proxy {

class ProtocolAdapter {
 public:
  virtual ~ProtocolAdapter() = default;

  // The metrics and access-log name: "grpc", "grpc-web".
  virtual std::string_view name() const = 0;

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
  // The response headers toward the client, from the backend's.
  virtual void addResponseHeaders(const http2::HeaderList& backend, http2::NvList& nva) const {
    nva.addForwardable(backend);
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
