// A raw HTTP/2 backend (nghttp2 server session on a loopback socket) for the
// answers a gRPC server library will not give: non-200 statuses, RST_STREAM
// with a chosen code, and a small SETTINGS_MAX_CONCURRENT_STREAMS.
//
// What each request gets is chosen by its method name (the last :path
// segment):
//   Ok          200, one empty gRPC message, trailers grpc-status 0
//   HoldOk      the same, after holding the stream for `hold`
//   StatusNNN   :status NNN, content-type text/plain, no grpc-status
//   ResetNN     RST_STREAM with error code NN (decimal)
//   HeaderBomb  response headers that decode to ~120 MB (one 2 KB value
//               indexed, then referenced 60,000 times); 60 KB on the wire
//   TrailerBomb a normal response whose trailers are such a bomb
//   GoawayMid   response headers and one message, then GOAWAY and close
//   BadLength   a message whose prefix declares 100 bytes, 10 sent, then
//               trailers grpc-status 0
//   CutPrefix   3 of a message prefix's 5 bytes, then trailers grpc-status 0
//   CompressedNoEncoding  a message with the compressed flag set and no
//               grpc-encoding header, then trailers grpc-status 0
//   BadHpack    a response HEADERS frame whose block is not valid HPACK
//   Endless     1 KiB messages for as long as flow control allows, never
//               trailers
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace sytest {

class ScriptedH2Backend {
 public:
  // Listens on 127.0.0.1 (a free port) and serves until destroyed.
  explicit ScriptedH2Backend(uint32_t max_concurrent_streams = 100,
                             std::chrono::milliseconds hold = std::chrono::milliseconds(300));
  ~ScriptedH2Backend();
  ScriptedH2Backend(const ScriptedH2Backend&) = delete;
  ScriptedH2Backend& operator=(const ScriptedH2Backend&) = delete;

  const std::string& address() const { return address_; }
  bool ok() const { return listen_fd_ >= 0; }

  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  // RST_STREAM frames received from the proxy.
  int resetsReceived() const { return resets_.load(); }
  // The most streams ever open at once on one connection.
  int maxConcurrentOnOneConnection() const { return max_concurrent_.load(); }
  // Streams open right now, over all connections.
  int openStreams() const { return open_streams_.load(); }
  // Body bytes the Endless streams have sent, over all of them.
  uint64_t endlessBytes() const { return endless_bytes_.load(); }

 private:
  void run();

  uint32_t max_concurrent_streams_;
  std::chrono::milliseconds hold_;
  int listen_fd_ = -1;
  std::string address_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> max_concurrent_{0};
  std::atomic<int> open_streams_{0};
  std::atomic<int> resets_{0};
  std::atomic<uint64_t> endless_bytes_{0};
  std::thread thread_;
};

}  // namespace sytest
