// Connection: one HTTP/2 connection over a bufferevent (plain TCP, OpenSSL, or
// an in-memory bufferevent pair in tests and fuzzers; a plain socket, and a
// TLS socket of either role once its handshake is done, are read and written
// directly),
// driving an nghttp2 session that does no I/O of its own. Bytes read from the
// socket are fed to nghttp2 in one pass per read event; frames nghttp2 wants
// to send are written once per loop pass (flush), and only while the socket's
// output buffer is below a high-water mark, which is how a slow peer pushes
// back on the rest of the proxy.
//
// Subclasses (the client-facing and the backend-facing connections) receive
// nghttp2's events through the virtual hooks below. Lifetime rule: a
// Connection is never destroyed from inside one of its own nghttp2 callbacks;
// when it is finished it calls onClosed() from the top of a libevent callback.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_set>

#include "common/c_handle.h"
#include "common/duration.h"
#include "event/loop.h"
#include "http2/frame_sink.h"
#include "metrics/edge_limits.h"

namespace switchyard::http2 {

using SessionPtr = CHandle<nghttp2_session, nghttp2_session_del>;
using BufferEventPtr = CHandle<bufferevent, bufferevent_free>;
using EventPtr = CHandle<::event, event_free>;
using EvbufferPtr = CHandle<evbuffer, evbuffer_free>;

struct SessionSettings {
  uint32_t max_concurrent_streams = 1024;
  uint32_t initial_stream_window = 256 * 1024;
  uint32_t initial_connection_window = 4 * 1024 * 1024;
  uint32_t max_frame_size = 16384;
  // Advertised, and enforced on every received header block as it is decoded.
  uint32_t max_header_list_size = 16 * 1024;
  uint32_t max_header_fields = 100;
  // Misbehaviour budget: max_glitches per glitch_window (see chargeGlitch()).
  uint32_t max_glitches = 1000;
  Duration glitch_window = std::chrono::seconds(10);

  bool operator==(const SessionSettings&) const = default;
};

enum class Role { Server, Client };

// Why a connection ended; used for logs and for the status RPCs on it get.
enum class CloseReason {
  Done,           // both sides finished (GOAWAY exchanged or idle close)
  PeerEof,        // the peer closed the socket
  IoError,        // read/write error or TLS failure
  ConnectFailed,  // client role: TCP connect failed or timed out
  ProtocolError,  // the peer broke HTTP/2; we sent GOAWAY
  NotHttp2,       // server role: the peer did not start with the HTTP/2 preface
  Timeout,        // idle or keepalive timeout
  Shutdown,       // we are stopping
};
const char* toString(CloseReason r);

// RST_STREAM codes that say the peer broke HTTP/2 on that stream.
bool isStreamProtocolError(uint32_t h2_error);

// The edge events of a server connection: a client going over a limit or
// wasting the connection's work. Connection's default hooks pass them to its
// observer (setEdgeObserver), an object that counts and answers them.
class EdgeObserver {
 public:
  virtual ~EdgeObserver() = default;
  // See the Connection hooks of the same names.
  virtual int onBeginFrame(const nghttp2_frame_hd& hd) = 0;
  virtual int onHeaderLimit(const nghttp2_frame* frame, bool too_many_fields) = 0;
  virtual void onGlitch(metrics::Glitch cause) = 0;
  virtual void onGlitchBudgetSpent() = 0;
  virtual void onStreamRefused(int32_t stream_id) = 0;
};

class Connection {
 public:
  Connection(event_base* base, bufferevent* bev, Role role, const SessionSettings& settings);
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends our SETTINGS and starts reading. For a client, call once the TCP
  // connect has been started: writes are buffered until it completes.
  void start();

  // Makes pending frames go out on a later loop pass. Safe from anywhere on
  // this connection's thread, including other connections' callbacks.
  void scheduleFlush() { flush_.schedule(); }

  bufferevent* bev() const { return bev_.get(); }
  bool closed() const { return closed_; }

  // Sends GOAWAY(error) and closes once it is written.
  void terminate(uint32_t h2_error, CloseReason reason);

  // Per-connection misbehaviour accounting (HTTP/2 "glitches": empty DATA,
  // PING/SETTINGS floods, resets the peer provoked...). `cost` glitches are
  // charged; once more than max_glitches fall in one glitch_window, GOAWAY
  // (ENHANCE_YOUR_CALM) is queued and the connection closes after writing it.
  // Returns false once the budget is spent. Safe inside nghttp2 callbacks.
  bool chargeGlitch(metrics::Glitch cause, uint32_t cost = 1);

 protected:
  // --- nghttp2 events (return 0, NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE to reset
  // just that stream, or NGHTTP2_ERR_CALLBACK_FAILURE to kill the connection).
  virtual int onBeginHeaders(const nghttp2_frame* frame) = 0;
  virtual int onHeader(const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value) = 0;
  virtual int onFrameRecv(const nghttp2_frame* frame) = 0;
  virtual int onDataChunk(int32_t stream_id, const uint8_t* data, size_t len, uint8_t flags) = 0;
  virtual int onStreamClose(int32_t stream_id, uint32_t error_code) = 0;
  virtual int onFrameSent(const nghttp2_frame*) { return 0; }
  virtual int onFrameNotSent(const nghttp2_frame*, int) { return 0; }
  // Data provider: fill buf, set *flags; NGHTTP2_ERR_DEFERRED to pause.
  // `buf` is usually the end of what the connection is about to write, not
  // nghttp2's frame buffer (NGHTTP2_DATA_FLAG_NO_COPY is set for the
  // provider): write exactly the bytes returned, and never read buf back
  // after returning.
  virtual ssize_t onReadData(int32_t stream_id, uint8_t* buf, size_t len, uint32_t* flags) = 0;
  // The socket connected (client role, and TLS after the handshake).
  virtual void onConnected() {}
  // The connection is finished. The subclass's owner should destroy it; this
  // is always called from the top of a libevent callback, so it may delete this.
  virtual void onClosed(CloseReason reason) = 0;
  // Received bytes that nghttp2 rejected (used for logging/metrics).
  virtual void onProtocolError(int nghttp2_error) { (void)nghttp2_error; }
  // A frame header arrived (before its payload). Return NGHTTP2_ERR_CALLBACK_FAILURE
  // to treat it as a connection error.
  virtual int onBeginFrame(const nghttp2_frame_hd& hd) {
    return edge_ != nullptr ? edge_->onBeginFrame(hd) : 0;
  }
  // The header block being received went over max_header_list_size (or
  // max_header_fields when too_many_fields). No more fields of this block are
  // delivered or checked; the return value goes back to nghttp2, and the
  // default, NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE, resets the stream.
  virtual int onHeaderLimit(const nghttp2_frame* frame, bool too_many_fields) {
    if (edge_ != nullptr) return edge_->onHeaderLimit(frame, too_many_fields);
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  // A glitch was charged / the budget is spent (GOAWAY(ENHANCE_YOUR_CALM) queued).
  virtual void onGlitch(metrics::Glitch cause) {
    if (edge_ != nullptr) edge_->onGlitch(cause);
  }
  virtual void onGlitchBudgetSpent() {
    if (edge_ != nullptr) edge_->onGlitchBudgetSpent();
  }
  // Server role: a new stream over max_concurrent_streams was refused with
  // RST_STREAM(REFUSED_STREAM); onBeginHeaders is not called for it.
  virtual void onStreamRefused(int32_t stream_id) {
    if (edge_ != nullptr) edge_->onStreamRefused(stream_id);
  }
  // The hooks above go to `observer` (which outlives this connection) unless overridden.
  void setEdgeObserver(EdgeObserver* observer) { edge_ = observer; }

  // The session; only subclasses drive it (their owners use their stream APIs).
  nghttp2_session* session() const { return session_.get(); }
  // Data provider to pass to nghttp2_submit_request/response.
  nghttp2_data_provider dataProvider() const;

  // Where raw bytes go to be written after the frames queued so far (the
  // bufferevent's output, or on the direct TLS path the connection's own).
  evbuffer* output() const;

  // Closes now (no more reads or writes) and reports reason via onClosed().
  void closeNow(CloseReason reason);
  // Gives the bufferevent (with its socket) to another owner, which speaks
  // another protocol on it (TLS with ALPN http/1.1); this connection is then
  // closed as if by closeNow(reason) and bev() is null from here on.
  bufferevent* releaseBufferevent(CloseReason reason);
  // Called by subclasses after a connect attempt completes on client role.
  Role role() const { return role_; }
  // When bytes last arrived from the peer, for idle timeouts and keepalive.
  std::chrono::steady_clock::time_point lastActivity() const { return last_activity_; }

  const SessionSettings& sessionSettings() const { return settings_; }

 private:
  static void readCb(bufferevent* bev, void* arg);
  static void writeCb(bufferevent* bev, void* arg);
  static void eventCb(bufferevent* bev, short what, void* arg);
  static void socketReadCb(evutil_socket_t fd, short what, void* arg);
  static void tlsWriteCb(evutil_socket_t fd, short what, void* arg);
  void onReadable();        // what the bufferevent read (in-memory pairs)
  void onSocketReadable();  // plain TCP: read the socket here
  void onTlsReadable();     // direct TLS: SSL_read the socket here
  // TLS handshake done on the OpenSSL bufferevent (server role: before start()
  // generates anything; client role: when it reports connected): from here on
  // SSL_read/SSL_write on its socket; the bufferevent only owns SSL and fd.
  void takeOverTls(SSL* ssl);
  // socket_io_: starts the read event on the socket (socketReadCb).
  void startSocketReads();
  // Writes block[0..len) to the socket now; returns how much it took (the
  // rest is queued by the caller), or nothing after a fatal error (closed_).
  size_t writeNow(const uint8_t* block, size_t len);
  // Direct TLS: writes what output() holds, as far as the socket takes it.
  void writeTlsQueued();
  // Feeds bytes to nghttp2; false (after queuing GOAWAY and closing or
  // stopping reads) if the peer broke the protocol or the connection closed.
  bool receive(const uint8_t* data, size_t len);
  // receive()s everything `in` holds; false as receive() returns false.
  bool receiveAll(evbuffer* in);
  void stopReading();
  void writeDirect(evbuffer* out);
  // Turns the bufferevent's write event on while `out` holds bytes (socket_io_).
  void watchWritable(evbuffer* out);
  // socket_io_ with nothing queued: generates frames into a per-thread block
  // and writes it to the socket at once (see connection.cc).
  enum class Generated { Done, More, Queued, Failed };
  Generated generateDirect(evbuffer* out);
  void onEvent(short what);
  // Returns false if the connection failed while flushing.
  bool flush();
  // After any top-level callback: if done, report onClosed.
  void finishIfDone();

  static nghttp2_session_callbacks* callbacks();
  // Server role: sends our SETTINGS now, advertising max_concurrent_streams
  // while nghttp2 keeps an unlimited stream count of its own (see start()).
  void sendServerSettings(const nghttp2_settings_entry* iv, size_t n);
  // Server role: counts a new client stream against max_concurrent_streams,
  // or refuses it (RST_STREAM(REFUSED_STREAM)) and returns false.
  bool admitStream(int32_t stream_id);

  BufferEventPtr bev_;
  EventPtr read_event_;  // socket_io_ only
  // Direct TLS (socket_io_ with ssl_): ssl_ belongs to bev_; write_event_ is
  // armed while tls_out_ holds bytes or a read waits for writability.
  SSL* ssl_ = nullptr;
  EventPtr write_event_;
  EvbufferPtr tls_out_;
  bool tls_write_armed_ = false;
  bool tls_read_wants_write_ = false;  // a read waits for writability
  bool tls_write_wants_read_ = false;  // a write waits for readability
  SessionPtr session_;
  Role role_;
  SessionSettings settings_;
  event::Deferred flush_;
  bool closed_ = false;
  bool closing_after_write_ = false;
  bool reported_ = false;
  bool got_connected_ = false;
  bool socket_io_ = false;      // read and write the fd directly (plain socket, or TLS once started)
  bool write_enabled_ = false;  // socket_io_: the bufferevent's write event is on
  CloseReason close_reason_ = CloseReason::Done;
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::steady_clock::time_point glitch_window_start_;
  uint64_t glitches_ = 0;
  bool calmed_ = false;  // GOAWAY(ENHANCE_YOUR_CALM) queued
  // Streams whose reset was charged when their invalid frame arrived (not again when sent).
  std::unordered_set<int32_t> charged_resets_;
  // The header block being received: decoded bytes (name + value + 32 per
  // field, RFC 7541 4.1) and fields so far; over_limit once either passed.
  size_t block_bytes_ = 0;
  uint32_t block_fields_ = 0;
  bool block_over_limit_ = false;
  // Server role: client streams open now (admitted by admitStream, not yet
  // closed), and the refused ones whose close must not be counted down.
  uint32_t open_client_streams_ = 0;
  std::unordered_set<int32_t> refused_streams_;
  EdgeObserver* edge_ = nullptr;  // see setEdgeObserver
  // What flush() is filling while it runs nghttp2_session_mem_send: DATA
  // payloads are read straight into it (NO_COPY; see frame_sink.h).
  FrameSink sink_;

  friend struct CallbackTrampolines;
};

}  // namespace switchyard::http2
