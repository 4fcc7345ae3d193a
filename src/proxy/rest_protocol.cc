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
      reader_(static_cast<size_t>(match_.options->max_response_body_bytes)),
      writer_(match_.options->stream_format == JsonTranscodingSpec::StreamFormat::Ndjson
                  ? transcode::JsonStreamWriter::Format::Ndjson
                  : transcode::JsonStreamWriter::Format::Array) {
  if (streaming() && match_.options->stream_format == JsonTranscodingSpec::StreamFormat::Ndjson) {
    content_type_ = "application/x-ndjson";
  }
}

RestProtocol::RestProtocol(StatusCode code, std::string message, int http_status)
    : reader_(0), writer_(transcode::JsonStreamWriter::Format::Array) {
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
  *written = 0;
  if (!streaming()) return readWhole(flow);
  return readStream(flow, buf, len, written);
}

size_t RestProtocol::readWhole(FlowBuffers& flow) {
  size_t pending = flow.responsePending();
  if (pending == 0) return 0;
  raw_.resize(pending);
  size_t taken = flow.takeResponse(reinterpret_cast<uint8_t*>(raw_.data()), pending);
  if (failure_ || table_ == nullptr) return taken;
  if (!reader_.feed(reinterpret_cast<const uint8_t*>(raw_.data()), taken)) {
    failReader();
    return taken;
  }
  while (auto message = reader_.next()) {
    if (message_count_ > 0) {
      fail(StatusCode::Internal, "the backend sent more than one message for a unary method", 500,
           false);
      return taken;
    }
    auto json = table_->codec().responseJson(*match_.binding, *message);
    if (!json.ok()) {
      fail(StatusCode::Internal, "cannot convert the response to JSON: " + json.error(), 500, false);
      return taken;
    }
    message_ = std::move(*json);
    ++message_count_;
    if (message_.size() > max_response_) {
      fail(StatusCode::Internal,
           "response exceeds json_transcoding.max_response_body_bytes (" +
               std::to_string(max_response_) + " bytes)",
           500, true);
      return taken;
    }
  }
  return taken;
}

size_t RestProtocol::readStream(FlowBuffers& flow, uint8_t* buf, size_t len, size_t* written) {
  size_t taken = 0;
  while (true) {
    size_t n = std::min(len - *written, staged_.size() - staged_sent_);
    if (n > 0) {
      std::copy_n(staged_.data() + staged_sent_, n, buf + *written);
      staged_sent_ += n;
      *written += n;
    }
    // The client's window is full: nothing more is taken from the backend.
    if (staged_sent_ < staged_.size()) break;
    staged_.clear();
    staged_sent_ = 0;
    if (failure_) break;
    // Before the headers (no buffer) the first message decides them.
    if (buf == nullptr && writer_.started()) break;
    taken += pullMessage(flow);
    auto message = failure_ ? std::nullopt : reader_.next();
    if (!message) break;
    auto json = table_->codec().responseJson(*match_.binding, *message);
    if (!json.ok()) {
      fail(StatusCode::Internal, "cannot convert the response to JSON: " + json.error(), 500, false);
      break;
    }
    if (json->size() > max_response_) {
      fail(StatusCode::Internal,
           "a stream message exceeds json_transcoding.max_response_body_bytes (" +
               std::to_string(max_response_) + " bytes)",
           500, true);
      break;
    }
    staged_ = writer_.message(*json);
    ++message_count_;
  }
  return taken;
}

size_t RestProtocol::pullMessage(FlowBuffers& flow) {
  size_t taken = 0;
  while (!reader_.ready() && flow.responsePending() > 0) {
    size_t want = std::min(flow.responsePending(), reader_.wanted());
    raw_.resize(want);
    size_t got = flow.takeResponse(reinterpret_cast<uint8_t*>(raw_.data()), want);
    taken += got;
    if (!reader_.feed(reinterpret_cast<const uint8_t*>(raw_.data()), got)) {
      failReader();
      break;
    }
  }
  return taken;
}

void RestProtocol::failReader() {
  bool too_large = reader_.error() == grpc::MessageReader::Error::TooLarge;
  fail(StatusCode::Internal,
       too_large ? "response exceeds json_transcoding.max_response_body_bytes (" +
                       std::to_string(max_response_) + " bytes)"
                 : std::string("the backend's response message is compressed"),
       500, too_large);
}

void RestProtocol::keepResponseHeaders(const http2::HeaderList& backend) {
  for (const auto& field : backend.fields()) {
    keepMetadata("grpc-metadata-", field.name, field.value);
  }
}

void RestProtocol::keepMetadata(std::string_view prefix, std::string_view name, std::string_view value) {
  if (table_ == nullptr || name.empty() || name.front() == ':' || name.rfind("grpc-", 0) == 0 ||
      name == "content-type" || name == "content-length" || name == "te" || name == "trailer" ||
      http2::isHopByHop(name)) {
    return;
  }
  // Binary (-bin) values arrive base64 encoded, as gRPC sends them: they stay so.
  std::string header(prefix);
  header += name;
  metadata_.emplace_back(std::move(header), std::string(value));
}

void RestProtocol::endBody(const http2::NvList& trailers) {
  StatusCode code = StatusCode::Unknown;
  std::string message;
  bool started = writer_.started();
  for (size_t i = 0; i < trailers.size(); ++i) {
    const nghttp2_nv& nv = trailers.data()[i];
    if (nvName(nv) == "grpc-status") {
      code = grpc::parseGrpcStatus(nvValue(nv)).value_or(StatusCode::Unknown);
    } else if (nvName(nv) == "grpc-message") {
      message = grpc::percentDecodeGrpcMessage(nvValue(nv));
    } else if (!started) {
      keepMetadata("grpc-trailer-", nvName(nv), nvValue(nv));  // the headers have not gone yet
    }
  }
  if (code == StatusCode::Ok && failure_) {
    code = failure_->code;
    message = failure_->message;
  }
  out_sent_ = 0;
  if (started) {
    // HTTP 200 and the first messages went out: the status ends the stream.
    out_ = code == StatusCode::Ok ? writer_.end() : writer_.error(transcode::errorJson(code, message));
    return;
  }
  if (code == StatusCode::Ok && !streaming() && message_count_ == 0) {
    code = StatusCode::Internal;
    message = "the backend sent no response message";
  }
  if (code == StatusCode::Ok) {
    http_status_ = 200;
    out_ = streaming() ? writer_.end() : std::move(message_);
  } else {
    // A proxy-made failure keeps its own HTTP status (413 for a body too large).
    bool own = failure_ && failure_->code == code && failure_->message == message && failure_http_ != 0;
    http_status_ = own ? failure_http_ : transcode::httpStatusFor(code);
    content_type_ = "application/json";
    out_ = transcode::errorJson(code, message);
  }
  message_.clear();
  status_text_ = std::to_string(http_status_);
  content_length_ = std::to_string(out_.size());
}

void RestProtocol::addLocalResponseHeaders(http2::NvList& nva) const {
  nva.reserve(3 + metadata_.size());
  nva.add(":status", status_text_);
  nva.add("content-type", content_type_);
  // A stream's length is not known when its headers go.
  if (!writer_.started()) nva.add("content-length", content_length_);
  for (const auto& [name, value] : metadata_) nva.add(name, value);
}

size_t RestProtocol::readBodyEnd(uint8_t* buf, size_t len, bool* done) {
  size_t n = std::min(len, out_.size() - out_sent_);
  std::copy_n(out_.data() + out_sent_, n, buf);
  out_sent_ += n;
  *done = out_sent_ == out_.size();
  return n;
}

}  // namespace switchyard::proxy
