// Low-level HTTP/2 clients for tests that must see exactly what goes over the
// wire: a one-request nghttp2 client session, and raw frame read/write helpers
// for sending deliberately broken HTTP/2.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sytest {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct H2HeaderBlock {
  HeaderList fields;
  bool end_stream = false;
};

struct H2Result {
  std::string error;                  // non-empty: the exchange did not complete
  std::vector<H2HeaderBlock> blocks;  // response HEADERS blocks, in order
  std::string body;                   // response DATA payload
  int data_frames = 0;
  bool stream_closed = false;
  uint32_t stream_error_code = 0;  // RST_STREAM code (0 = closed normally)
  bool goaway = false;
  uint32_t goaway_error_code = 0;

  // Value of a field in block i ("" if absent).
  std::string Field(size_t block, const std::string& name) const;
};

// Sends one request (HEADERS with the given fields after the pseudo-headers,
// then body with END_STREAM) over a fresh cleartext HTTP/2 connection, and
// collects the response until the stream closes or timeout passes.
H2Result H2Request(const std::string& address, const std::string& path, const HeaderList& headers,
                   const std::string& body, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// A gRPC length-prefixed message (uncompressed).
std::string GrpcFrame(const std::string& message);

// Raw frames.
constexpr char kClientPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
std::string EncodeFrame(uint8_t type, uint8_t flags, uint32_t stream_id, const std::string& payload);

struct RawFrame {
  uint32_t length = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream_id = 0;
  std::string payload;
};
struct RawReadResult {
  std::vector<RawFrame> frames;  // complete frames parsed from the bytes read
  std::string bytes;             // everything read
  bool closed = false;           // peer closed (EOF or reset) before timeout
};
// Writes all of data (ignoring EPIPE/ECONNRESET: the peer may close first).
bool WriteAll(int fd, const std::string& data);
// Reads until the peer closes or timeout passes.
RawReadResult ReadUntilClosed(int fd, std::chrono::milliseconds timeout);
// GOAWAY error code of the first GOAWAY frame; false if there is none.
bool FindGoaway(const RawReadResult& r, uint32_t* error_code);

}  // namespace sytest
