// StreamHandler: what an upstream (backend) HTTP/2 stream reports to the RPC
// that owns it. Implemented by proxy::Rpc; the upstream layer knows nothing
// else about RPCs. Every call happens on the worker's thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "http2/headers.h"

namespace switchyard::upstream {

// How a backend stream ended without a normal response, and whether the
// backend can have seen the request (which decides if a retry is safe).
enum class StreamFailure {
  None,            // closed normally (trailers received)
  Reset,           // RST_STREAM from the backend (see the h2 error code)
  Refused,         // REFUSED_STREAM or above GOAWAY's last-stream-id: never processed
  ConnectFailed,   // the connection never came up: never sent
  ConnectionLost,  // the connection died with the stream open
  PendingTimeout,  // no stream slot on the connection within pending_timeout: never sent
  BadResponse,     // response headers or trailers over the cluster's limits: stream reset
};

class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // Response headers (end_stream=true: a Trailers-Only response).
  virtual void onUpstreamHeaders(http2::HeaderList&& headers, bool end_stream) = 0;
  virtual void onUpstreamData(const uint8_t* data, size_t len) = 0;
  virtual void onUpstreamTrailers(http2::HeaderList&& trailers) = 0;
  // The stream is gone; the handler is detached before this returns.
  virtual void onUpstreamClosed(StreamFailure failure, uint32_t h2_error) = 0;
  // nghttp2 wants request body bytes: same contract as nghttp2_data_source_read_callback.
  virtual ssize_t readRequestBody(uint8_t* buf, size_t len, uint32_t* flags) = 0;
};

}  // namespace switchyard::upstream
