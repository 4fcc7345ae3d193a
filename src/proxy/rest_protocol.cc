#include "proxy/rest_protocol.h"

#include <algorithm>
#include <limits>

#include "grpc/message.h"
#include "transcode/json_codec.h"

namespace switchyard::proxy {
namespace {

using grpc::StatusCode;
using config::JsonTranscodingSpec;

transcode::UnknownFields unknownFields(const JsonTranscodingSpec& spec) {
  return spec.unknown_fields == JsonTranscodingSpec::UnknownFields::Ignore
             ? transcode::UnknownFields::Ignore
             : transcode::UnknownFields::Reject;
}

std::string_view nvName(const nghttp2_nv& nv) {
  return {reinterpret_cast<const char*>(nv.name), nv.namelen};
}
std::string_view nvValue(const nghttp2_nv& nv) {
  return {reinterpret_cast<const char*>(nv.value), nv.valuelen};
}

}  // namespace

RestProtocol::RestProtocol(const transcode::TranscodingTable& table,
                           transcode::TranscodingTable::Match match, std::string_view query)
    : table_(&table),
      match_(std::move(match)),
      query_(query),
      max_request_(match_.options->max_request_body_bytes),
      max_response_(match_.options->max_response_body_bytes),
      reader_(static_cast<size_t>(match_.options->max_response_body_bytes)) {
  if (match_.binding->method->server_streaming() &&
      match_.options->stream_format == JsonTranscodingSpec::StreamFormat::Ndjson) {
    content_type_ = "application/x-ndjson";
  }
}

RestProtocol::RestProtocol(StatusCode code, std::string message, int http_status) : reader_(0) {
  fail(code, std::move(message), http_status, false);
}

std::unique_ptr<RestProtocol> RestProtocol::select(const transcode::TranscodingTable& table,
                                                   std::string_view method, std::string_view path) {
  size_t q = path.find('?');
  std::string_view query = q == std::string_view::npos ? std::string_view() : path.substr(q + 1);
  std::string_view bare = path.substr(0, q);
  if (auto match = table.match(method, bare)) {
    return std::make_unique<RestProtocol>(table, std::move(*match), query);
  }
  std::string what = std::string(method) + " " + std::string(bare);
  if (table.pathMatchesOtherMethod(method, bare)) {
    return std::make_unique<RestProtocol>(StatusCode::Unimplemented,
                                          "method " + std::string(method) + " is not bound for " +
                                              std::string(bare),
                                          405);
  }
  return std::make_unique<RestProtocol>(StatusCode::NotFound, "no HTTP rule matches " + what, 404);
}

void RestProtocol::fail(StatusCode code, std::string message, int http_status, bool too_large) {
  if (failure_) return;
  failure_ = Failure{code, std::move(message), too_large};
  failure_http_ = http_status;
}

std::string_view RestProtocol::grpcPath(std::string_view request_path) const {
  return table_ != nullptr ? std::string_view(match_.binding->grpc_path) : request_path;
}

// ------------------------------------------------------------------ request

Result<std::string> RestProtocol::finishRequest() {
  auto message = table_->codec().requestMessage(*match_.binding, match_.fields, query_, body_,
                                                unknownFields(*match_.options));
  body_.clear();
  body_.shrink_to_fit();
  if (!message.ok()) return Error{message.error()};
  return grpc::frameMessage(*message);
}

std::optional<std::string_view> RestProtocol::upstreamField(std::string_view name,
                                                            std::string_view value) const {
  if (table_ == nullptr) return value;
  if (name == ":method") return std::string_view("POST");
  if (name == ":path") return std::string_view(match_.binding->grpc_path);
  if (name == "content-type") return std::string_view("application/grpc");
  // The body changes entirely; the proxy sends the message uncompressed and
  // takes the answer uncompressed (it converts it).
  if (name == "content-length" || name == "accept-encoding" || name == "grpc-encoding" ||
      name == "grpc-accept-encoding") {
    return std::nullopt;
  }
  return value;
}

void RestProtocol::addUpstreamFields(const http2::HeaderList& request, http2::NvList& nva) const {
  if (!request.has("content-type")) nva.add("content-type", "application/grpc");
  if (!request.has("te")) nva.add("te", "trailers");
}

std::optional<std::string_view> RestProtocol::decodeRequest(const uint8_t* data, size_t len) {
  if (table_ == nullptr) return std::string_view(reinterpret_cast<const char*>(data), len);
  if (body_.size() + len > max_request_) {
    fail(StatusCode::ResourceExhausted,
         "request body exceeds json_transcoding.max_request_body_bytes (" +
             std::to_string(max_request_) + " bytes)",
         413, true);
    return std::nullopt;
  }
  body_.append(reinterpret_cast<const char*>(data), len);
  return std::string_view();
}

// The client's window reopened as the body arrived (the body is bounded);
// the converted message costs it nothing more.
size_t RestProtocol::clientBytesFor(size_t forwarded) {
  (void)forwarded;
  return 0;
}

// ----------------------------------------------------------------- response

size_t RestProtocol::readResponse(FlowBuffers& flow, uint8_t* buf, size_t len, size_t* written) {
  (void)buf;
  (void)len;
  *written = 0;
  size_t pending = flow.responsePending();
  if (pending == 0) return 0;
  raw_.resize(pending);
  size_t taken = flow.takeResponse(reinterpret_cast<uint8_t*>(raw_.data()), pending);
  if (failure_ || table_ == nullptr) return taken;
  if (!reader_.feed(reinterpret_cast<const uint8_t*>(raw_.data()), taken)) {
    bool too_large = reader_.error() == grpc::MessageReader::Error::TooLarge;
    fail(StatusCode::Internal,
         too_large ? "response exceeds json_transcoding.max_response_body_bytes (" +
                         std::to_string(max_response_) + " bytes)"
                   : std::string("the backend's response message is compressed"),
         500, too_large);
    return taken;
  }
  bool array = match_.options->stream_format == JsonTranscodingSpec::StreamFormat::Array;
  while (auto message = reader_.next()) {
    if (message_count_ > 0 && !match_.binding->method->server_streaming()) {
      fail(StatusCode::Internal, "the backend sent more than one message for a unary method", 500,
           false);
      return taken;
    }
    auto json = table_->codec().responseJson(*match_.binding, *message);
    if (!json.ok()) {
      fail(StatusCode::Internal, "cannot convert the response to JSON: " + json.error(), 500, false);
      return taken;
    }
    if (match_.binding->method->server_streaming()) {
      if (array && message_count_ > 0) messages_ += ',';
      messages_ += *json;
      if (!array) messages_ += '\n';
    } else {
      messages_ = std::move(*json);
    }
    ++message_count_;
    if (messages_.size() > max_response_) {
      fail(StatusCode::Internal,
           "response exceeds json_transcoding.max_response_body_bytes (" +
               std::to_string(max_response_) + " bytes)",
           500, true);
      return taken;
    }
  }
  return taken;
}

void RestProtocol::endBody(const http2::NvList& trailers) {
  StatusCode code = StatusCode::Unknown;
  std::string message;
  for (size_t i = 0; i < trailers.size(); ++i) {
    const nghttp2_nv& nv = trailers.data()[i];
    if (nvName(nv) == "grpc-status") {
      code = grpc::parseGrpcStatus(nvValue(nv)).value_or(StatusCode::Unknown);
    } else if (nvName(nv) == "grpc-message") {
      message = grpc::percentDecodeGrpcMessage(nvValue(nv));
    }
  }
  if (code == StatusCode::Ok && failure_) {
    code = failure_->code;
    message = failure_->message;
  }
  bool streaming = table_ != nullptr && match_.binding->method->server_streaming();
  if (code == StatusCode::Ok && !streaming && message_count_ == 0) {
    code = StatusCode::Internal;
    message = "the backend sent no response message";
  }
  if (code == StatusCode::Ok) {
    http_status_ = 200;
    bool array = match_.options->stream_format == JsonTranscodingSpec::StreamFormat::Array;
    out_ = streaming && array ? "[" + messages_ + "]" : std::move(messages_);
  } else {
    // A proxy-made failure keeps its own HTTP status (413 for a body too large).
    bool own = failure_ && failure_->code == code && failure_->message == message && failure_http_ != 0;
    http_status_ = own ? failure_http_ : transcode::httpStatusFor(code);
    content_type_ = "application/json";
    out_ = transcode::errorJson(code, message);
  }
  messages_.clear();
  status_text_ = std::to_string(http_status_);
  content_length_ = std::to_string(out_.size());
  out_sent_ = 0;
}

void RestProtocol::addLocalResponseHeaders(http2::NvList& nva) const {
  nva.add(":status", status_text_);
  nva.add("content-type", content_type_);
  nva.add("content-length", content_length_);
}

size_t RestProtocol::readBodyEnd(uint8_t* buf, size_t len, bool* done) {
  size_t n = std::min(len, out_.size() - out_sent_);
  std::copy_n(out_.data() + out_sent_, n, buf);
  out_sent_ += n;
  *done = out_sent_ == out_.size();
  return n;
}

}  // namespace switchyard::proxy
