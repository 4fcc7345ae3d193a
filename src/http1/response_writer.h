// Response serialisation for HTTP/1.1: the status line and fields of a
// response head, and the chunked transfer coding of its body (RFC 9112 7.1).
// Pure: builds bytes, sends nothing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::http1 {

using Fields = std::vector<std::pair<std::string_view, std::string_view>>;

// How the body of a response is delimited.
enum class BodyFraming {
  None,           // no body: Content-Length: 0 unless the fields give one
  ContentLength,  // the fields carry Content-Length
  Chunked,        // Transfer-Encoding: chunked (HTTP/1.1 clients)
  UntilClose,     // the connection's end ends the body (HTTP/1.0 clients)
};

// The reason phrase of `status` ("" for unknown codes, which is valid).
std::string_view reasonPhrase(int status);

// Appends the head: status line, `fields` (names as given; pseudo-fields and
// connection-specific ones are skipped), the framing field and Connection.
// `keep_alive_header`: say "Connection: keep-alive" (an HTTP/1.0 client asked for it).
void appendHead(std::string& out, int status, const Fields& fields, BodyFraming framing,
                bool close, bool keep_alive_header = false);

// "<hex size>\r\n" before `n` bytes of chunk data; "\r\n" follows the data.
void appendChunkHeader(std::string& out, size_t n);
inline constexpr std::string_view kChunkEnd = "\r\n";
// The last chunk, trailer fields (may be empty) and the final CRLF.
void appendLastChunk(std::string& out, const Fields& trailers);

// A whole response with a short text body (errors the connection answers itself).
std::string textResponse(int status, std::string_view body, bool close,
                         const Fields& extra = {});

// Whether a field must not be copied into an HTTP/1.1 message by the proxy
// (pseudo-fields, connection-specific and framing fields it writes itself).
bool isFramingOrHopField(std::string_view name);

}  // namespace switchyard::http1
