// JsonCodec: the message conversions of JSON transcoding, with libprotobuf's
// JSON utilities (JsonStringToMessage / MessageToJsonString) over dynamic
// messages of the catalog's types; no JSON is mapped by hand here.
//
// Request: the body (`body: "*"` the whole message, `body: "field"` that
// field) then the path variables and query parameters (`a.b=v`, repeated
// fields may repeat) give one request message. Response: the message, or its
// `response_body` field, as JSON. Streams: a JSON array or newline-delimited
// JSON. Errors: gRPC status → HTTP status as google.rpc.Code specifies, with a
// body {"code", "message", "details"}.
#pragma once

#include <google/protobuf/dynamic_message.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "grpc/status_code.h"
#include "schema/descriptor_catalog.h"
#include "transcode/binding_table.h"

namespace switchyard::transcode {

enum class UnknownFields { Reject, Ignore };

class JsonCodec {
 public:
  explicit JsonCodec(schema::CatalogPtr catalog);

  // The serialized gRPC request message. An error (bad JSON, an unknown
  // field when rejecting them, a wrong type) is text naming the field: the
  // caller answers HTTP 400 and sends nothing to the backend.
  Result<std::string> requestMessage(const HttpBinding& binding, const PathBindings& path_fields,
                                     std::string_view query, std::string_view body,
                                     UnknownFields unknown) const;
  // One serialized response message as JSON (its response_body field if the binding names one).
  Result<std::string> responseJson(const HttpBinding& binding, std::string_view message) const;

  // Makes the binding's request and response prototypes now (on the thread
  // that builds the codec), so the workers' conversions find them without
  // the factory's lock. Not thread-safe; call before sharing the codec.
  void prepare(const HttpBinding& binding);

 private:
  std::unique_ptr<google::protobuf::Message> newMessage(const google::protobuf::Descriptor* type) const;
  Status mergeJson(const std::string& json, google::protobuf::Message* into, UnknownFields unknown,
                   const std::string& what) const;

  schema::CatalogPtr catalog_;
  mutable google::protobuf::DynamicMessageFactory factory_;
  // Prototypes made by prepare(); read-only once the codec is shared.
  std::unordered_map<const google::protobuf::Descriptor*, const google::protobuf::Message*> prototypes_;
};

// HTTP status for a gRPC status (google/rpc/code.proto).
int httpStatusFor(grpc::StatusCode code);
// {"code": <n>, "message": "...", "details": []}, in google.rpc.Status field order.
std::string errorJson(grpc::StatusCode code, std::string_view message);

// Server streaming as one HTTP body, written as the messages arrive: a JSON
// array ("[" with the first element, "," between, "]" at the end; "[]" when
// there was none), or one JSON value per line (ndjson). A failure after
// messages went out is the last element (or line): {"error": <errorJson>},
// as grpc-gateway reports an error in the middle of a stream.
class JsonStreamWriter {
 public:
  enum class Format { Array, Ndjson };
  explicit JsonStreamWriter(Format f) : format_(f) {}
  // The text that carries one message's JSON (with what comes before it).
  std::string message(std::string_view json);
  // The text that ends a stream that finished OK.
  std::string end() const;
  // The text that ends a stream that failed with `error_json`.
  std::string error(std::string_view error_json) const;
  // Whether any message was written.
  bool started() const { return !first_; }

 private:
  Format format_;
  bool first_ = true;
};

}  // namespace switchyard::transcode
