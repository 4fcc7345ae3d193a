// RequestParser: HTTP/1.x requests read from a byte stream with
// libhttp-parser, one at a time. It hands out each request's head (method,
// target, version, fields with lower-cased names), its body bytes (chunked
// encoding removed) and its end, and enforces the limits on header size,
// field count and body size. After a request ends it pauses: bytes after it
// (a pipelined request) stay unparsed until resume(). Pure: no I/O.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::http1 {

struct RequestLimits {
  // Request line plus fields, counted as name + value + 32 per field (the
  // HTTP/2 header-list accounting, so one listener limit means the same).
  size_t max_header_bytes = 16 * 1024;
  uint32_t max_header_fields = 100;
  uint64_t max_body_bytes = 4 * 1024 * 1024;
};

struct RequestHead {
  std::string method;
  std::string target;  // as sent: origin-form "/a?b", or absolute-form
  unsigned version_major = 1;
  unsigned version_minor = 1;
  std::vector<std::pair<std::string, std::string>> fields;  // names lower-cased
  bool keep_alive = true;        // per version and Connection
  bool has_body = false;         // Content-Length > 0 or chunked
  bool chunked = false;
  std::optional<uint64_t> content_length;
  bool expect_continue = false;  // Expect: 100-continue

  // First value of `name` (lower case), or empty.
  std::string_view get(std::string_view name) const;
};

enum class ParseError {
  None,
  Malformed,       // not HTTP/1.x (400)
  HeadersTooLarge, // over max_header_bytes (431)
  TooManyFields,   // over max_header_fields (431)
  BodyTooLarge,    // over max_body_bytes (413)
};

class RequestParser {
 public:
  class Events {
   public:
    virtual ~Events() = default;
    virtual void onRequestHead(RequestHead&& head) = 0;
    virtual void onRequestBody(const uint8_t* data, size_t len) = 0;
    virtual void onRequestComplete() = 0;
  };

  RequestParser(const RequestLimits& limits, Events& events);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses up to `len` bytes; returns how many it took. It stops early once a
  // request is complete (paused) or on an error (error() says which).
  size_t feed(const uint8_t* data, size_t len);
  // After onRequestComplete: parse the next request.
  void resume();
  // The client closed its side; a request cut short is malformed.
  void finish();

  bool paused() const { return paused_; }
  ParseError error() const { return error_; }
  std::string errorText() const;
  // A request has begun (any byte of it) and not yet completed.
  bool inRequest() const { return in_request_; }
  // The head of the current request was handed out.
  bool headDone() const { return head_done_; }
  // What was read of a head that was not handed out (for the access log of
  // a request refused while its head was read): target and fields so far,
  // and the method once the head ended.
  const RequestHead& partialHead() const { return head_; }

 private:
  static int onMessageBegin(http_parser* p);
  static int onUrl(http_parser* p, const char* at, size_t len);
  static int onHeaderField(http_parser* p, const char* at, size_t len);
  static int onHeaderValue(http_parser* p, const char* at, size_t len);
  static int onHeadersComplete(http_parser* p);
  static int onBody(http_parser* p, const char* at, size_t len);
  static int onMessageComplete(http_parser* p);
  static const http_parser_settings& settings();

  bool countHeaderBytes(size_t n);
  void fail(ParseError e);

  RequestLimits limits_;
  Events& events_;
  http_parser parser_;
  RequestHead head_;
  bool in_value_ = false;  // the last header callback was a value
  size_t header_bytes_ = 0;
  uint64_t body_bytes_ = 0;
  bool in_request_ = false;
  bool head_done_ = false;
  bool paused_ = false;
  ParseError error_ = ParseError::None;
  http_errno parser_errno_ = HPE_OK;
};

const char* toString(ParseError e);

}  // namespace switchyard::http1
