#include "proxy/web_protocol.h"

#include <algorithm>

namespace switchyard::proxy {
namespace {

bool isPseudo(std::string_view name) { return !name.empty() && name.front() == ':'; }

}  // namespace

WebProtocol::WebProtocol(grpc::WebContentType type, const routing::CorsPolicy* cors,
                         std::string_view origin)
    : type_(std::move(type)),
      grpc_content_type_(type_.grpcContentType()),
      web_content_type_(type_.webContentType()) {
  if (cors != nullptr && !origin.empty() && cors->allows(origin)) {
    cors_headers_ = cors->responseHeaders(origin);
  }
}

// ------------------------------------------------------------------ request

std::optional<std::string_view> WebProtocol::upstreamField(std::string_view name,
                                                           std::string_view value) const {
  if (name == "content-type") return std::string_view(grpc_content_type_);
  // The body may change length (base64), and gRPC uses none.
  if (name == "content-length") return std::nullopt;
  // Browser-only fields that mean nothing to a gRPC backend.
  if (name == "origin" || name == "referer" || name.rfind("sec-", 0) == 0) return std::nullopt;
  return value;
}

void WebProtocol::addUpstreamFields(const http2::HeaderList& request, http2::NvList& nva) const {
  // gRPC over HTTP/2 requires "te: trailers"; browsers never send it.
  if (!request.has("te")) nva.add("te", "trailers");
}

std::optional<std::string_view> WebProtocol::decodeRequest(const uint8_t* data, size_t len) {
  if (!type_.text) return std::string_view(reinterpret_cast<const char*>(data), len);
  decoded_.clear();
  if (!decoder_.feed(data, len, decoded_)) return std::nullopt;
  text_in_ += len;
  decoded_in_ += decoded_.size();
  return std::string_view(decoded_);
}

size_t WebProtocol::clientBytesFor(size_t forwarded) {
  if (!type_.text) return forwarded;
  decoded_paid_ = std::min(decoded_in_, decoded_paid_ + forwarded);
  // All decoded bytes gone: every client byte received (pending base64
  // characters included) is paid for; otherwise in proportion.
  uint64_t target = decoded_paid_ >= decoded_in_ ? text_in_ : decoded_paid_ * text_in_ / decoded_in_;
  size_t pay = target > text_paid_ ? static_cast<size_t>(target - text_paid_) : 0;
  text_paid_ = std::max(text_paid_, target);
  return pay;
}

// ----------------------------------------------------------------- response

void WebProtocol::addResponseHeaders(const http2::HeaderList& backend, http2::NvList& nva) const {
  for (const auto& field : backend.fields()) {
    std::string_view name = field.name;
    if (http2::isHopByHop(name) || name == "content-type" || name == "content-length") continue;
    nva.add(name, field.value);
  }
  nva.add("content-type", web_content_type_);
  nva.addAll(cors_headers_);
}

void WebProtocol::addLocalResponseHeaders(http2::NvList& nva) const {
  nva.add(":status", "200");
  nva.add("content-type", web_content_type_);
  nva.addAll(cors_headers_);
}

size_t WebProtocol::readResponse(FlowBuffers& flow, uint8_t* buf, size_t len, size_t* written) {
  if (!type_.text) {
    size_t n = flow.takeResponse(buf, len);
    *written = n;
    return n;
  }
  size_t taken = 0;
  if (staged_sent_ == staged_.size()) {
    staged_.clear();
    staged_sent_ = 0;
    // Whole 3-byte groups, so padding appears only where the backend's bytes
    // paused (clients must accept padding between segments).
    size_t pending = flow.responsePending();
    size_t take = std::min(pending, std::max<size_t>(len, 4) / 4 * 3);
    if (take < pending) take -= take % 3;
    if (take > 0) {
      raw_.resize(take);
      taken = flow.takeResponse(reinterpret_cast<uint8_t*>(raw_.data()), take);
      grpc::base64Encode(reinterpret_cast<const uint8_t*>(raw_.data()), taken, staged_);
    }
  }
  // Base64 output waits here when the client's window is smaller than a group.
  size_t n = std::min(len, staged_.size() - staged_sent_);
  std::copy_n(staged_.data() + staged_sent_, n, buf);
  staged_sent_ += n;
  *written = n;
  return taken;
}

void WebProtocol::endBody(const http2::NvList& trailers) {
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  fields.reserve(trailers.size());
  for (size_t i = 0; i < trailers.size(); ++i) {
    const nghttp2_nv& nv = trailers.data()[i];
    std::string_view name(reinterpret_cast<const char*>(nv.name), nv.namelen);
    if (isPseudo(name) || name == "content-type" || name == "content-length") continue;
    fields.emplace_back(name, std::string_view(reinterpret_cast<const char*>(nv.value), nv.valuelen));
  }
  std::string frame = grpc::trailerFrame(fields);
  tail_.clear();
  if (type_.text) {
    grpc::base64Encode(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), tail_);
  } else {
    tail_ = std::move(frame);
  }
  tail_sent_ = 0;
}

size_t WebProtocol::readBodyEnd(uint8_t* buf, size_t len, bool* done) {
  size_t n = std::min(len, tail_.size() - tail_sent_);
  std::copy_n(tail_.data() + tail_sent_, n, buf);
  tail_sent_ += n;
  *done = tail_sent_ == tail_.size();
  return n;
}

}  // namespace switchyard::proxy
