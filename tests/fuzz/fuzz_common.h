// Shared by the HTTP/2 fuzz targets: the proxy configuration they run and the
// fixed bytes that open a connection, so the fuzzer's bytes start right after
// a valid preface.
#pragma once

#include <cstdlib>
#include <string>

namespace sytest::fuzz {

// Two routes (one with retries), two endpoints, small windows and limits so
// that flow control and limits are reached with short inputs.
inline const char* kProxyConfig = R"(
listeners:
  - name: public
    address: 127.0.0.1:8080
    http2:
      max_concurrent_streams: 16
      initial_stream_window: 16384
      max_header_list_size: 4096
routes:
  - match: { service: switchyard.test.Echo, method: Unary }
    cluster: echo
    timeout: { default: 5s, max: 30s }
    retry: { retry_on: [14], max_attempts: 3 }
  - match: { prefix: /switchyard. }
    cluster: echo
clusters:
  - name: echo
    endpoints: [127.0.0.1:50051, 127.0.0.1:50052]
)";

// The same with one endpoint, so every RPC shares one upstream connection
// (the backend sees the client's RPCs as streams 1, 3, ...).
inline const char* kSingleEndpointConfig = R"(
listeners:
  - name: public
    address: 127.0.0.1:8080
routes:
  - match: { service: switchyard.test.Echo, method: Unary }
    cluster: echo
    retry: { retry_on: [14], max_attempts: 2 }
  - match: { prefix: /switchyard. }
    cluster: echo
clusters:
  - name: echo
    endpoints: [127.0.0.1:50051]
)";

// Client connection preface followed by an empty SETTINGS frame.
inline std::string ClientPreface() {
  return std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24) + std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);
}
// A server's preface: an empty SETTINGS frame.
inline std::string ServerPreface() { return std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9); }

// Loop rounds per input: enough for every seed exchange to finish, small
// enough that an input that keeps the proxy busy still ends quickly.
constexpr int kMaxRounds = 2000;

// SY_FUZZ_VERBOSE=1: the HTTP/2 targets print what each input led to (when
// replaying a seed or a reproducer, to see that it reaches the code it aims at).
inline bool Verbose() {
  static const bool verbose = std::getenv("SY_FUZZ_VERBOSE") != nullptr;
  return verbose;
}

}  // namespace sytest::fuzz
