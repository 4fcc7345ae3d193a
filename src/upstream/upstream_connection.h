// UpstreamConnection: one HTTP/2 (h2c or TLS with ALPN h2) connection to one backend endpoint,
// multiplexing many RPC streams. Owned by its Pool; each open stream points
// at the StreamHandler (the RPC) it serves, and the RPC holds the stream id.
// Either side detaches from the other before it goes away.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/stream_table.h"
#include "event/loop.h"
#include "event/socket_address.h"
#include "http2/connection.h"
#include "tls/client_context.h"
#include "upstream/circuit_breaker.h"
#include "upstream/stream_handler.h"

namespace switchyard::metrics {
class EndpointSeries;
}

namespace switchyard::upstream {

struct ConnectionSettings {
  http2::SessionSettings h2;  // max_header_list_size / max_header_fields: response limits
  Duration connect_timeout = std::chrono::seconds(1);
  Duration keepalive_interval = std::chrono::seconds(300);
  Duration keepalive_timeout = std::chrono::seconds(20);
  // TLS toward the backend; null: cleartext h2c. Traffic and health checks
  // both connect with these settings (see upstream/tls_settings.h).
  std::shared_ptr<const tls::ClusterTls> tls;
  std::string tls_name;                      // SNI and the name verified
  std::shared_ptr<tls::SessionSlot> session;  // resumption; one per endpoint
  // Request header-list limit when the backend advertises none (or a larger one).
  uint32_t max_request_header_list_size = 8 * 1024;
  // Streams submitted while the connection is at the backend's stream limit
  // wait ("pending"); *pending_count (shared by every worker's connections to
  // one cluster) may not pass max_pending, and none waits past pending_timeout.
  uint32_t max_pending = 1024;
  Duration pending_timeout = std::chrono::seconds(5);
  std::shared_ptr<PendingRpcCounter> pending_count;
  // The owning loop's clock, for the pending timeout; null: the real one.
  event::Clock* clock = nullptr;

  bool operator==(const ConnectionSettings&) const = default;
};

// submit() failures of the proxy's own (negative, outside nghttp2's codes).
inline constexpr int32_t kSubmitPendingFull = -10001;
inline constexpr int32_t kSubmitHeadersTooLarge = -10002;
// What to tell the client about a failed submit().
std::string submitErrorText(int32_t error);
bool submitErrorIsResourceExhausted(int32_t error);

class UpstreamConnection final : public http2::Connection {
 public:
  using ClosedFn = std::function<void(UpstreamConnection*, http2::CloseReason)>;

  // Starts a non-blocking connect to `addr`. `on_closed` is called once, from
  // the top of a libevent callback, when the connection is finished; the owner
  // then destroys it.
  static std::unique_ptr<UpstreamConnection> connect(event_base* base,
                                                     const event::SocketAddress& addr,
                                                     const ConnectionSettings& settings,
                                                     ClosedFn on_closed,
                                                     metrics::EndpointSeries* stats = nullptr);
  // Wraps a bufferevent that is already connected to a backend, such as one
  // end of an in-memory bufferevent pair (tests, fuzzers): starts HTTP/2 and
  // reports the connection as connected on the next loop pass.
  static std::unique_ptr<UpstreamConnection> adopt(event_base* base, bufferevent* bev,
                                                   const ConnectionSettings& settings,
                                                   ClosedFn on_closed,
                                                   metrics::EndpointSeries* stats = nullptr);
  ~UpstreamConnection() override;

  // Opens a stream carrying `nva` as request headers; the body is pulled from
  // handler->readRequestBody(). Returns the stream id, or a negative nghttp2
  // error or kSubmit* code: headers over the backend's header-list limit, or
  // the pending queue full. Nothing is sent in either case.
  int32_t submit(StreamHandler* handler, const nghttp2_nv* nva, size_t nvlen);
  // Resets a stream and detaches its handler (no more events for it).
  void cancel(int32_t stream_id, uint32_t h2_error);
  // The handler stops listening without resetting the stream (it already ended).
  void detach(int32_t stream_id);
  // Tells nghttp2 the proxy passed on `n` bytes of this stream's response: opens the window.
  void consume(int32_t stream_id, size_t n);
  // A closing stream had `n` received bytes not yet passed on: give them back
  // to the connection's window (the stream's own window no longer matters).
  void consumeConnection(size_t n);
  // More request body is ready for this stream.
  void resume(int32_t stream_id);

  // Whether a new stream may be opened here now (not draining, under the
  // backend's SETTINGS_MAX_CONCURRENT_STREAMS).
  bool hasCapacity() const;
  bool draining() const { return draining_; }
  size_t activeStreams() const { return streams_.size(); }
  bool connected() const { return connected_; }
  // Why a connection that never came up failed: "connect" or "tls_handshake",
  // and a human description ("certificate verify failed: Hostname mismatch").
  const char* failureCause() const { return failure_cause_; }
  const std::string& failureDetail() const { return failure_detail_; }
  // Stops new streams; the connection closes once its streams finish.
  void drain();

 private:
  UpstreamConnection(event_base* base, bufferevent* bev, const ConnectionSettings& settings,
                     ClosedFn on_closed);

  StreamHandler* handler(int32_t stream_id) const;
  void failAll(StreamFailure failure);
  void onKeepaliveTimer();
  // TLS: ALPN must be h2. False (and the connection closing) otherwise.
  bool checkTlsSession();
  void attributeConnectFailure();
  // Pending streams (upstream_limits.cc).
  size_t requestHeaderLimit() const;
  void countLimit(metrics::UpstreamLimit limit);
  void releasePending(int32_t stream_id);
  void expirePending();
  const event::Clock& clock() const {
    return settings_.clock != nullptr ? *settings_.clock : event::realClock();
  }

  // http2::Connection hooks
  int onBeginHeaders(const nghttp2_frame* frame) override;
  int onHeader(const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value) override;
  int onFrameRecv(const nghttp2_frame* frame) override;
  int onDataChunk(int32_t stream_id, const uint8_t* data, size_t len, uint8_t flags) override;
  int onStreamClose(int32_t stream_id, uint32_t error_code) override;
  int onFrameSent(const nghttp2_frame* frame) override;
  int onHeaderLimit(const nghttp2_frame* frame, bool too_many_fields) override;
  ssize_t onReadData(int32_t stream_id, uint8_t* buf, size_t len, uint32_t* flags) override;
  void onConnected() override;
  void onClosed(http2::CloseReason reason) override;

  struct StreamState {
    StreamHandler* handler = nullptr;
    http2::HeaderList headers;  // the HEADERS block being received
    bool got_response_headers = false;
    bool sent = false;     // request HEADERS written
    bool pending = false;  // submitted over the stream limit, counted in *pending_count
    event::Clock::TimePoint submitted;
  };

  ConnectionSettings settings_;
  ClosedFn on_closed_;
  metrics::EndpointSeries* stats_ = nullptr;
  common::StreamTable<StreamState> streams_;
  event::Timer connect_timer_;
  event::Timer keepalive_timer_;
  event::Timer pending_timer_;
  bool connected_ = false;
  bool draining_ = false;
  bool ping_outstanding_ = false;
  int32_t goaway_last_stream_id_ = INT32_MAX;
  const char* failure_cause_ = "connect";
  std::string failure_detail_;
};

}  // namespace switchyard::upstream
