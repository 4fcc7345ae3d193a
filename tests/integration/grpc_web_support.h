// gRPC-Web through the real daemon with curl as the client: request bodies
// (binary and base64 text), the curl command line, and a reader for the
// response body (messages, then the trailer frame with flag 0x80). The
// base64 and framing code here is written independently of the daemon's.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness.h"

namespace sytest {

// One length-prefixed message (flag 0).
std::string WebFrame(const std::string& message);
std::string Base64(const std::string& bytes);
// Decodes base64 that may carry padding between segments; nullopt if invalid.
std::optional<std::string> Unbase64(const std::string& text);

struct WebResponse {
  int http_status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; last value wins
  std::string body;                            // raw (still base64 for -text)
  std::vector<std::string> messages;           // data frames, in order
  std::map<std::string, std::string> trailers;  // from the trailer frame
  bool has_trailer_frame = false;
  std::string error;  // why the body could not be parsed
  std::string curl_err;
};

// Splits a (decoded) gRPC-Web body into messages and the trailer frame.
void ParseWebBody(const std::string& body, WebResponse* out);

struct CurlRequest {
  std::string url;
  std::string method = "POST";
  std::vector<std::string> headers;  // "name: value"
  std::string body;
  // false: no body at all, so the request ends with its HEADERS. For calls the
  // proxy answers from the headers alone: curl 7.88 may report the
  // RST_STREAM(NO_ERROR) that follows an early complete response as an error
  // while it is still uploading (RFC 9113 8.1 says clients keep the response).
  bool send_body = true;
  bool http2 = true;  // --http2-prior-knowledge (cleartext) or --http2 (TLS)
  bool text = false;  // decode the response body as base64 before parsing
  std::vector<std::string> extra_args;
};

// Runs curl (bounded by 30 s); fills the status, headers and parsed body.
WebResponse RunCurl(const CurlRequest& request, const TempDir& dir);

}  // namespace sytest
