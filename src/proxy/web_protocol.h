// WebProtocol: the ProtocolAdapter for gRPC-Web (application/grpc-web[+proto]
// and application/grpc-web-text[+proto], grpc/grpc doc/PROTOCOL-WEB.md).
// Toward the backend the call is plain gRPC: content-type application/grpc,
// "te: trailers", no content-length, a base64 body decoded. Toward the client
// the response carries the gRPC-Web content type, the listener's CORS headers
// for an allowed Origin, base64 for -text, and the trailers as a final
// length-prefixed frame with flag 0x80. Flow control stays end to end: the
// client's window reopens in proportion to the decoded bytes forwarded.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "grpc/local_reply.h"
#include "grpc/web_framing.h"
#include "proxy/protocol_adapter.h"
#include "routing/cors_policy.h"

namespace switchyard::proxy {

class WebProtocol final : public ProtocolAdapter {
 public:
  // `cors` may be null (same-origin only); `origin` is the request's Origin.
  WebProtocol(grpc::WebContentType type, const routing::CorsPolicy* cors, std::string_view origin);

  std::string_view name() const override { return "grpc-web"; }

  std::optional<std::string_view> upstreamField(std::string_view name,
                                                std::string_view value) const override;
  void addUpstreamFields(const http2::HeaderList& request, http2::NvList& nva) const override;
  std::optional<std::string_view> decodeRequest(const uint8_t* data, size_t len) override;
  bool requestComplete() const override { return !type_.text || decoder_.complete(); }
  size_t clientBytesFor(size_t forwarded) override;

  bool trailersOnly() const override { return false; }
  void addResponseHeaders(const http2::HeaderList& backend, http2::NvList& nva) const override;
  void addLocalResponseHeaders(http2::NvList& nva) const override;
  size_t readResponse(FlowBuffers& flow, uint8_t* buf, size_t len, size_t* written) override;
  bool responseDrained() const override { return staged_sent_ == staged_.size(); }
  bool trailersInBody() const override { return true; }
  void endBody(const http2::NvList& trailers) override;
  size_t readBodyEnd(uint8_t* buf, size_t len, bool* done) override;

 private:
  grpc::WebContentType type_;
  std::string grpc_content_type_;  // toward the backend
  std::string web_content_type_;   // toward the client
  std::vector<grpc::HeaderField> cors_headers_;
  // -text request decoding and its window accounting.
  grpc::Base64Decoder decoder_;
  std::string decoded_;
  uint64_t text_in_ = 0;       // client bytes received
  uint64_t decoded_in_ = 0;    // gRPC bytes they decoded to
  uint64_t decoded_paid_ = 0;  // decoded bytes forwarded (or dropped)
  uint64_t text_paid_ = 0;     // client bytes whose window was reopened
  // -text response: encoded bytes not yet written (the client's window was short).
  std::string raw_;
  std::string staged_;
  size_t staged_sent_ = 0;
  // The end of the body: the trailer frame (base64 for -text), and how much went.
  std::string tail_;
  size_t tail_sent_ = 0;
};

}  // namespace switchyard::proxy
