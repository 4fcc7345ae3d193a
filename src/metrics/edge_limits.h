// Edge-limit causes: why a listener counted a client's misbehaviour ("glitch")
// or enforced one of its limits, and which limit toward a backend was hit.
// Each is a label value of a counter family (see docs/metrics.md); the
// counters themselves live in the listener and endpoint series of a shard.
#pragma once

#include <cstddef>

namespace switchyard::metrics {

// Protocol oddities a client caused, charged against its connection's budget
// (listeners[].http2.max_glitches per glitch_window).
enum class Glitch {
  EmptyData,     // DATA without payload and without END_STREAM
  Ping,          // PING (not an ACK)
  Settings,      // SETTINGS (not an ACK)
  ClientReset,   // RST_STREAM from the client on a stream still in progress
  StreamError,   // the proxy reset a stream because the client broke HTTP/2 on it
  HeaderLimit,   // a header block over the size or field-count limit
};
inline constexpr size_t kGlitchCount = 6;
const char* glitchLabel(Glitch g);

// Listener limits that ended a stream or a connection, or refused one.
enum class ListenerLimit {
  MaxGlitches,            // connection closed: GOAWAY(ENHANCE_YOUR_CALM)
  HeaderListSize,         // request headers over http2.max_header_list_size
  HeaderFields,           // request headers over http2.max_header_fields
  RequestHeadersTimeout,  // a header block not finished within request_headers_timeout
  StreamIdleTimeout,      // a stream idle for stream_idle_timeout
  MaxConnections,         // connection closed at accept: max_connections reached
  AcceptPaused,           // accept() failed (e.g. out of file descriptors); accepting paused
  StreamIdRegression,     // a new stream id lower than one already used (connection error)
  MaxConcurrentStreams,   // a new stream over http2.max_concurrent_streams: RST_STREAM(REFUSED_STREAM)
  RequestBodySize,        // an HTTP/1.1 request body over http1.max_request_body_bytes: 413
};
inline constexpr size_t kListenerLimitCount = 10;
const char* listenerLimitLabel(ListenerLimit l);

// Limits toward one backend endpoint.
enum class UpstreamLimit {
  ResponseHeaders,    // response headers/trailers over the cluster's limit: stream reset
  RequestHeaders,     // request refused before sending: over the backend's header-list limit
  PendingFull,        // RPC refused: circuit_breaker.max_pending RPCs already waiting
  PendingTimeout,     // RPC ended: no stream slot within pending_timeout
};
inline constexpr size_t kUpstreamLimitCount = 4;
const char* upstreamLimitLabel(UpstreamLimit l);

// A cluster's circuit breakers: why an RPC to the cluster was refused at once.
enum class Overflow {
  MaxActiveRpcs,  // circuit_breaker.max_active_rpcs RPCs in flight (all workers)
  MaxPending,     // circuit_breaker.max_pending RPCs already waiting for a stream slot
};
inline constexpr size_t kOverflowCount = 2;
const char* overflowLabel(Overflow o);

}  // namespace switchyard::metrics
