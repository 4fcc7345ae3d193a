// RestProtocol: the ProtocolAdapter for JSON transcoding (routes with
// `json_transcoding`). A REST request (GET /v1/shelves/1/books/2, POST with a
// JSON body, query parameters) matched to a google.api.http binding becomes
// one gRPC request: POST /pkg.Service/Method, content-type application/grpc,
// te: trailers, the message converted from the path fields, query and body by
// the TranscodingTable's JsonCodec. The body is kept whole (bounded by
// json_transcoding.max_request_body_bytes) and converted when it ends, before
// the backend is contacted, so a body that does not convert reaches no
// backend.
//
// A unary response is rendered once the status is known: the message (or its
// response_body field) as JSON with HTTP 200, or an error {"code","message",
// "details"} with the HTTP status google.rpc.Code gives the gRPC status. A
// server stream is sent as it arrives (a JSON array or newline-delimited
// JSON, transcode::JsonStreamWriter): its headers (HTTP 200) go with the first
// converted message, each later message is taken from the backend only once
// the client took the one before (flow control stays end to end), and a
// failure after that is the stream's last element {"error": {...}}. A stream
// that fails before its first message is answered like a unary error.
//
// The backend's metadata reaches the client as HTTP headers, named as
// grpc-gateway names them: grpc-metadata-<name> for its response headers, and
// grpc-trailer-<name> for its trailers when the status is known before the
// headers go (unary, or a stream that ended before its first message).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grpc/framing.h"
#include "http2/headers.h"
#include "proxy/protocol_adapter.h"
#include "transcode/transcoding_table.h"

namespace switchyard::proxy {

class RestProtocol final : public ProtocolAdapter {
 public:
  // A request its binding matched; `query` is the text after '?'.
  RestProtocol(const transcode::TranscodingTable& table, transcode::TranscodingTable::Match match,
               std::string_view query);
  // A request refused before routing (no binding): only renders the error,
  // with this HTTP status.
  RestProtocol(grpc::StatusCode code, std::string message, int http_status);

  // The adapter for a non-gRPC request on a runtime with JSON transcoding:
  // a binding's, or a refusal (404 no binding, 405 the path has others).
  static std::unique_ptr<RestProtocol> select(const transcode::TranscodingTable& table,
                                              std::string_view method, std::string_view path);

  std::string_view name() const override { return "json"; }
  const std::optional<Failure>& failure() const override { return failure_; }
  std::string_view grpcPath(std::string_view request_path) const override;
  bool wholeMessages() const override { return true; }
  Result<std::string> finishRequest() override;
  int httpStatus() const override { return http_status_; }

  std::optional<std::string_view> upstreamField(std::string_view name,
                                                std::string_view value) const override;
  void addUpstreamFields(const http2::HeaderList& request, http2::NvList& nva) const override;
  std::optional<std::string_view> decodeRequest(const uint8_t* data, size_t len) override;
  size_t clientBytesFor(size_t forwarded) override;

  bool trailersOnly() const override { return false; }
  bool responseStarted() const override { return writer_.started(); }
  void keepResponseHeaders(const http2::HeaderList& backend) override;
  void addLocalResponseHeaders(http2::NvList& nva) const override;
  size_t readResponse(FlowBuffers& flow, uint8_t* buf, size_t len, size_t* written) override;
  bool responseDrained() const override { return staged_sent_ == staged_.size(); }
  bool trailersInBody() const override { return true; }
  void endBody(const http2::NvList& trailers) override;
  size_t readBodyEnd(uint8_t* buf, size_t len, bool* done) override;

 private:
  void fail(grpc::StatusCode code, std::string message, int http_status, bool too_large);
  bool streaming() const { return table_ != nullptr && match_.binding->method->server_streaming(); }
  // Unary: takes every byte and converts the message (nothing is written).
  size_t readWhole(FlowBuffers& flow);
  // Server stream: writes the staged message, then takes and converts the
  // next one, while `buf` has room (buf null: only the first message).
  size_t readStream(FlowBuffers& flow, uint8_t* buf, size_t len, size_t* written);
  // Feeds the reader from `flow` up to one complete message; returns the bytes taken.
  size_t pullMessage(FlowBuffers& flow);
  void failReader();
  // A backend field as <prefix><name> (grpc-metadata- for its headers,
  // grpc-trailer- for its trailers), unless gRPC or HTTP reserves it.
  void keepMetadata(std::string_view prefix, std::string_view name, std::string_view value);

  const transcode::TranscodingTable* table_ = nullptr;  // null for a refusal
  transcode::TranscodingTable::Match match_;
  std::string query_;
  std::string body_;  // the JSON request body, whole
  uint64_t max_request_ = 0;
  uint64_t max_response_ = 0;
  std::optional<Failure> failure_;
  int failure_http_ = 0;  // the HTTP status of failure_ (0: from its code)

  grpc::MessageReader reader_;
  std::string raw_;      // scratch for bytes taken from the flow
  std::string message_;  // unary: the response message's JSON
  size_t message_count_ = 0;
  // Server stream: the format, and the converted message not yet written.
  transcode::JsonStreamWriter writer_;
  std::string staged_;
  size_t staged_sent_ = 0;
  // grpc-metadata-/grpc-trailer-<name> headers for the client, from the backend's fields.
  std::vector<std::pair<std::string, std::string>> metadata_;

  int http_status_ = 200;
  std::string status_text_ = "200";
  std::string content_type_ = "application/json";
  std::string content_length_;
  std::string out_;  // the rendered body, or the stream's end
  size_t out_sent_ = 0;
};

}  // namespace switchyard::proxy
