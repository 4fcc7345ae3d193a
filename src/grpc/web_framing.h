// gRPC-Web on the wire (grpc/grpc doc/PROTOCOL-WEB.md), as pure functions:
// which content types are gRPC-Web, the base64 body of "grpc-web-text" in
// both directions (streamed: input may be cut at any byte, and padding may
// appear between segments), and the trailer frame (flag 0x80) that carries
// the status in the response body instead of HTTP trailers. No I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::grpc {

struct WebContentType {
  bool text = false;     // application/grpc-web-text: the body is base64
  std::string codec;     // "+proto", "+json", ... or "" (proto)
  // The content type the backend gets: "application/grpc" + codec.
  std::string grpcContentType() const { return "application/grpc" + codec; }
  // The content type of the response to the client.
  std::string webContentType() const {
    return std::string(text ? "application/grpc-web-text" : "application/grpc-web") + codec;
  }
};

// "application/grpc-web", "application/grpc-web+proto", "application/grpc-web-text",
// "application/grpc-web-text+proto", with optional ";" parameters; type and
// subtype compare case-insensitively. nullopt for anything else (including
// plain "application/grpc").
std::optional<WebContentType> parseWebContentType(std::string_view ct);

// Encoded size of `len` bytes.
constexpr size_t base64Size(size_t len) { return (len + 2) / 3 * 4; }
// Standard base64 (RFC 4648 4) with padding, written to `out` (base64Size(len)
// bytes); returns how many were written.
size_t base64EncodeTo(const uint8_t* data, size_t len, char* out);
// The same, appended to a string.
void base64Encode(const uint8_t* data, size_t len, std::string& out);

// Decodes a base64 stream delivered in pieces cut anywhere. Padding ends a
// 4-character group and decoding continues with the next group (gRPC-Web
// clients may pad each message). Anything outside the alphabet, or padding
// in the wrong place, is an error; feed() then returns false and stays false.
class Base64Decoder {
 public:
  bool feed(const uint8_t* data, size_t len, std::string& out);
  // True when no partial group is left (the stream may end here).
  bool complete() const { return held_ == 0 && !failed_; }
  bool failed() const { return failed_; }

 private:
  bool flushGroup(std::string& out);
  uint8_t group_[4] = {};
  size_t held_ = 0;
  bool failed_ = false;
};

// The length-prefixed trailer frame: 0x80, a 4-byte big-endian length, then
// "name:value\r\n" per field (names lower case, as HTTP/1.1 header lines).
std::string trailerFrame(const std::vector<std::pair<std::string_view, std::string_view>>& fields);

// Parses a trailer frame's block back into fields (for tests and clients).
// nullopt if a line has no ':'.
std::optional<std::vector<std::pair<std::string, std::string>>> parseTrailerBlock(
    std::string_view block);

}  // namespace switchyard::grpc
