#include "http1/request_parser.h"

#include <algorithm>
#include <cctype>
#include <climits>

namespace switchyard::http1 {
namespace {

constexpr size_t kFieldOverhead = 32;  // RFC 7541 4.1, as the HTTP/2 limit counts

RequestParser* self(http_parser* p) { return static_cast<RequestParser*>(p->data); }

void appendLower(std::string& out, const char* at, size_t len) {
  size_t start = out.size();
  out.append(at, len);
  std::transform(out.begin() + static_cast<std::ptrdiff_t>(start), out.end(), out.begin() + static_cast<std::ptrdiff_t>(start),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
}

}  // namespace

std::string_view RequestHead::get(std::string_view name) const {
  for (const auto& [n, v] : fields) {
    if (n == name) return v;
  }
  return {};
}

const char* toString(ParseError e) {
  switch (e) {
    case ParseError::None: return "none";
    case ParseError::Malformed: return "malformed request";
    case ParseError::HeadersTooLarge: return "request headers too large";
    case ParseError::TooManyFields: return "too many request header fields";
    case ParseError::BodyTooLarge: return "request body too large";
  }
  return "unknown";
}

const http_parser_settings& RequestParser::settings() {
  static const http_parser_settings s = [] {
    http_parser_settings v;
    http_parser_settings_init(&v);
    v.on_message_begin = &RequestParser::onMessageBegin;
    v.on_url = &RequestParser::onUrl;
    v.on_header_field = &RequestParser::onHeaderField;
    v.on_header_value = &RequestParser::onHeaderValue;
    v.on_headers_complete = &RequestParser::onHeadersComplete;
    v.on_body = &RequestParser::onBody;
    v.on_message_complete = &RequestParser::onMessageComplete;
    return v;
  }();
  return s;
}

RequestParser::RequestParser(const RequestLimits& limits, Events& events)
    : limits_(limits), events_(events) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

size_t RequestParser::feed(const uint8_t* data, size_t len) {
  if (error_ != ParseError::None || paused_ || len == 0) return 0;
  size_t n = http_parser_execute(&parser_, &settings(), reinterpret_cast<const char*>(data), len);
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_PAUSED) {
    // Paused by onMessageComplete: the request ends with the byte that paused it.
    return n;
  }
  if (err != HPE_OK && error_ == ParseError::None) {
    parser_errno_ = err;
    error_ = err == HPE_HEADER_OVERFLOW ? ParseError::HeadersTooLarge : ParseError::Malformed;
  }
  // http_parser also stops after a request that upgrades (CONNECT,
  // "Upgrade:"); it is answered as plain HTTP/1.1 and what follows is read
  // as the next request.
  return n;
}

void RequestParser::resume() {
  if (!paused_) return;
  paused_ = false;
  http_parser_pause(&parser_, 0);
}

void RequestParser::finish() {
  if (error_ != ParseError::None || !in_request_) return;
  // An EOF inside a request (http_parser tells only through an execute of 0 bytes).
  http_parser_execute(&parser_, &settings(), nullptr, 0);
  if (in_request_ && error_ == ParseError::None) error_ = ParseError::Malformed;
}

std::string RequestParser::errorText() const {
  if (error_ == ParseError::Malformed && parser_errno_ != HPE_OK) {
    return std::string(toString(error_)) + " (" + http_errno_description(parser_errno_) + ")";
  }
  return toString(error_);
}

void RequestParser::fail(ParseError e) {
  if (error_ == ParseError::None) error_ = e;
}

bool RequestParser::countHeaderBytes(size_t n) {
  header_bytes_ += n;
  if (header_bytes_ > limits_.max_header_bytes) {
    fail(ParseError::HeadersTooLarge);
    return false;
  }
  return true;
}

int RequestParser::onMessageBegin(http_parser* p) {
  auto* s = self(p);
  s->head_ = RequestHead{};
  s->in_value_ = false;
  s->header_bytes_ = 0;
  s->body_bytes_ = 0;
  s->in_request_ = true;
  s->head_done_ = false;
  return 0;
}

int RequestParser::onUrl(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->countHeaderBytes(len)) return 1;
  s->head_.target.append(at, len);
  return 0;
}

int RequestParser::onHeaderField(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->countHeaderBytes(len)) return 1;
  if (s->in_value_ || s->head_.fields.empty()) {
    if (s->head_.fields.size() >= s->limits_.max_header_fields) {
      s->fail(ParseError::TooManyFields);
      return 1;
    }
    if (!s->countHeaderBytes(kFieldOverhead)) return 1;
    s->head_.fields.emplace_back();
    s->in_value_ = false;
  }
  appendLower(s->head_.fields.back().first, at, len);
  return 0;
}

int RequestParser::onHeaderValue(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->countHeaderBytes(len)) return 1;
  s->in_value_ = true;
  s->head_.fields.back().second.append(at, len);
  return 0;
}

int RequestParser::onHeadersComplete(http_parser* p) {
  auto* s = self(p);
  RequestHead& h = s->head_;
  h.method = http_method_str(static_cast<http_method>(p->method));
  h.version_major = p->http_major;
  h.version_minor = p->http_minor;
  h.keep_alive = http_should_keep_alive(p) != 0;
  h.chunked = (p->flags & F_CHUNKED) != 0;
  if (!h.chunked && p->content_length != ULLONG_MAX) h.content_length = p->content_length;
  h.has_body = h.chunked || (h.content_length && *h.content_length > 0);
  for (const auto& [n, v] : h.fields) {
    if (n == "expect") {
      std::string lower = v;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      h.expect_continue = lower == "100-continue";
    }
  }
  if (h.content_length && *h.content_length > s->limits_.max_body_bytes) {
    s->fail(ParseError::BodyTooLarge);
    return -1;  // an error (1 would mean "no body"): nothing of the body is read
  }
  s->head_done_ = true;
  s->events_.onRequestHead(std::move(h));
  return 0;
}

int RequestParser::onBody(http_parser* p, const char* at, size_t len) {
  auto* s = self(p);
  s->body_bytes_ += len;
  if (s->body_bytes_ > s->limits_.max_body_bytes) {
    s->fail(ParseError::BodyTooLarge);
    return 1;
  }
  s->events_.onRequestBody(reinterpret_cast<const uint8_t*>(at), len);
  return 0;
}

int RequestParser::onMessageComplete(http_parser* p) {
  auto* s = self(p);
  s->in_request_ = false;
  s->paused_ = true;
  http_parser_pause(p, 1);
  s->events_.onRequestComplete();
  return 0;
}

}  // namespace switchyard::http1
