// JsonCodec: the message conversions of JSON transcoding, with libprotobuf's
// JSON converters (JsonToBinaryString / BinaryToJsonString) over the
// catalog's types, resolved through a TypeCache made once per descriptor pool
// snapshot; no JSON is mapped by hand here. The converters go between JSON
// and the wire format directly, so a plain response is never parsed into a
// message, and a request's parts (body, path fields, query parameters) are
// converted one by one and concatenated, which merges them as MergeFrom would.
//
// Request: the body (`body: "*"` the whole message, `body: "field"` that
// field) then the path variables and query parameters (`a.b=v`, repeated
// fields may repeat) give one request message. Response: the message, or its
// `response_body` field, as JSON. Streams: a JSON array or newline-delimited
// JSON. Errors: gRPC status → HTTP status as google.rpc.Code specifies, with a
// body {"code", "message", "details"}.
#pragma once

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "grpc/status_code.h"
#include "schema/descriptor_catalog.h"
#include "transcode/binding_table.h"
#include "transcode/type_cache.h"

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
  Result<std::string> responseJson(const HttpBinding& binding, const std::string& message) const;

  // Makes what the binding's conversions need now (on the thread that
  // builds the codec): its types in the TypeCache, their type URLs, and the
  // response prototype, so the workers' conversions find them without the
  // factory's lock. Not thread-safe; call before sharing the codec.
  void prepare(const HttpBinding& binding);

 private:
  struct Prepared {
    const google::protobuf::Message* prototype = nullptr;
    std::string url;
  };
  std::unique_ptr<google::protobuf::Message> newMessage(const google::protobuf::Descriptor* type) const;
  std::string urlOf(const google::protobuf::Descriptor* type) const;
  // Converts `json` (a `url` message) and appends its wire form to `binary`.
  Status appendJson(const std::string& json, const std::string& url, std::string* binary,
                    UnknownFields unknown, const std::string& what) const;
  Result<std::string> printJson(const std::string& binary, const std::string& url,
                                const google::protobuf::util::JsonPrintOptions& opts) const;

  schema::CatalogPtr catalog_;
  // Resolving is thread-safe; the converters' interface is not const.
  mutable TypeCache types_;
  mutable google::protobuf::DynamicMessageFactory factory_;
  // Made by prepare(); read-only once the codec is shared.
  std::unordered_map<const google::protobuf::Descriptor*, Prepared> prepared_;
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
