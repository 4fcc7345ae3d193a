#include "http2/connection.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "common/log.h"
#include "http2/session_memory.h"
#include "http2/tls_io.h"

namespace switchyard::http2 {
namespace {

// Output is generated only while the socket's pending output is below this;
// the write callback resumes generation once it drains to kLowWater.
constexpr size_t kHighWater = 256 * 1024;
constexpr size_t kLowWater = 64 * 1024;
// Plain sockets are read by a read event of our own rather than by the
// bufferevent, which asks FIONREAD and then reads at most 4 KiB per wake-up in
// libevent 2.1: up to kReadChunk per read(), and up to kReadBudget per wake-up
// so one busy peer cannot starve the others.
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kReadBudget = 256 * 1024;
// TLS bufferevents move at most this much per callback (libevent's default is 16 KiB).
constexpr ssize_t kMaxSingleIo = 256 * 1024;
// Direct TLS: queued output is handed to SSL_write in pieces of at most this
// (at least one full record, so a retried partial write is never shorter).
constexpr size_t kTlsWriteChunk = 64 * 1024;
constexpr size_t kTlsRecord = 16 * 1024;
// Rounds of (generate kHighWater, write) per flush before yielding to the loop.
constexpr int kMaxWriteRounds = 4;
// The stream limit nghttp2 itself is given on the server side: none (its
// default, 2^32-1); Connection::admitStream() enforces the advertised one.
constexpr uint32_t kNghttp2StreamLimit = 0xffffffffu;
// One read block per worker thread: its bytes are handed to nghttp2 before
// the next read, and nothing on the read path reads another socket meanwhile.
uint8_t* readBlock() {
  static thread_local std::array<uint8_t, kReadChunk> buf;
  return buf.data();
}
}  // namespace

bool isStreamProtocolError(uint32_t code) {
  switch (code) {
    case NGHTTP2_PROTOCOL_ERROR:
    case NGHTTP2_FLOW_CONTROL_ERROR:
    case NGHTTP2_STREAM_CLOSED:
    case NGHTTP2_FRAME_SIZE_ERROR:
    case NGHTTP2_REFUSED_STREAM:
    case NGHTTP2_COMPRESSION_ERROR:
      return true;
    default:
      return false;
  }
}

const char* toString(CloseReason r) {
  switch (r) {
    case CloseReason::Done: return "done";
    case CloseReason::PeerEof: return "peer closed";
    case CloseReason::IoError: return "I/O error";
    case CloseReason::ConnectFailed: return "connect failed";
    case CloseReason::ProtocolError: return "HTTP/2 protocol error";
    case CloseReason::NotHttp2: return "not HTTP/2";
    case CloseReason::Timeout: return "timeout";
    case CloseReason::Shutdown: return "shutdown";
  }
  return "unknown";
}

// nghttp2 C callbacks: each casts user_data back to the Connection and forwards
// to one virtual hook. No exception crosses this boundary: the hooks are noexcept
// by contract (the data path does not throw).
struct CallbackTrampolines {
  static Connection* self(void* user_data) { return static_cast<Connection*>(user_data); }

  static int beginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* ud) {
    return self(ud)->onBeginFrame(*hd);
  }
  static int beginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    auto* c = self(ud);
    c->block_bytes_ = 0;
    c->block_fields_ = 0;
    c->block_over_limit_ = false;
    if (c->role_ == Role::Server && frame->hd.type == NGHTTP2_HEADERS &&
        frame->headers.cat == NGHTTP2_HCAT_REQUEST && !c->admitStream(frame->hd.stream_id)) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // the block is skipped, the stream reset
    }
    return c->onBeginHeaders(frame);
  }
  // Counts each field as it is decoded and stops the block at the limit, so
  // an HPACK bomb (a large indexed value referenced thousands of times) costs
  // neither CPU nor memory past max_header_list_size.
  static int header(nghttp2_session*, const nghttp2_frame* frame, nghttp2_rcbuf* name,
                    nghttp2_rcbuf* value, uint8_t, void* ud) {
    auto* c = self(ud);
    if (c->block_over_limit_) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    c->block_bytes_ += nghttp2_rcbuf_get_buf(name).len + nghttp2_rcbuf_get_buf(value).len + 32;
    ++c->block_fields_;
    bool too_many = c->block_fields_ > c->settings_.max_header_fields;
    if (too_many || c->block_bytes_ > c->settings_.max_header_list_size) {
      c->block_over_limit_ = true;
      return c->onHeaderLimit(frame, too_many);
    }
    return c->onHeader(frame, name, value);
  }
  static int frameRecv(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    auto* c = self(ud);
    bool glitch = false;
    auto cause = metrics::Glitch::EmptyData;
    switch (frame->hd.type) {
      case NGHTTP2_DATA:
        glitch = frame->hd.length == 0 && !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM);
        break;
      case NGHTTP2_PING:
        glitch = !(frame->hd.flags & NGHTTP2_FLAG_ACK);
        cause = metrics::Glitch::Ping;
        break;
      case NGHTTP2_SETTINGS:
        glitch = !(frame->hd.flags & NGHTTP2_FLAG_ACK);
        cause = metrics::Glitch::Settings;
        break;
      case NGHTTP2_RST_STREAM:
        // A client that cancels streams it opened makes us start work for
        // nothing (rapid reset); a legitimate client does it now and then.
        glitch = c->role_ == Role::Server && frame->rst_stream.error_code != NGHTTP2_NO_ERROR;
        cause = metrics::Glitch::ClientReset;
        break;
      default:
        break;
    }
    if (glitch && !c->chargeGlitch(cause)) return 0;
    return c->onFrameRecv(frame);
  }
  static int dataChunk(nghttp2_session*, uint8_t flags, int32_t stream_id, const uint8_t* data,
                       size_t len, void* ud) {
    return self(ud)->onDataChunk(stream_id, data, len, flags);
  }
  static int streamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* ud) {
    auto* c = self(ud);
    if (c->role_ == Role::Server && (stream_id & 1) == 1) {  // a client-initiated stream
      if (c->refused_streams_.erase(stream_id) != 0) return 0;  // never reached the subclass
      if (c->open_client_streams_ > 0) --c->open_client_streams_;
    }
    return c->onStreamClose(stream_id, error_code);
  }
  // A frame nghttp2 rejected: a stream error (the stream is reset) or a
  // connection error. Charged now, while the input is being processed, so a
  // client past its budget cannot start more streams in the same read.
  static int invalidFrame(nghttp2_session*, const nghttp2_frame* frame, int, void* ud) {
    auto* c = self(ud);
    if (frame->hd.stream_id != 0) c->charged_resets_.insert(frame->hd.stream_id);
    c->chargeGlitch(metrics::Glitch::StreamError);
    return 0;
  }
  static int frameSent(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    auto* c = self(ud);
    // A reset the peer provoked by breaking HTTP/2 on a stream ("MadeYouReset"),
    // unless it was charged already as an invalid frame.
    if (frame->hd.type == NGHTTP2_RST_STREAM && isStreamProtocolError(frame->rst_stream.error_code) &&
        c->charged_resets_.erase(frame->hd.stream_id) == 0) {
      c->chargeGlitch(metrics::Glitch::StreamError);
    }
    return c->onFrameSent(frame);
  }
  static int frameNotSent(nghttp2_session*, const nghttp2_frame* frame, int err, void* ud) {
    return self(ud)->onFrameNotSent(frame, err);
  }
  // DATA payloads are read into the end of what flush() is filling and sent
  // by sendData with no copy through nghttp2's frame buffer; when the sink
  // has no room (or no flush is under way) the provider fills nghttp2's
  // buffer and the frame comes back from mem_send like any other.
  static ssize_t readData(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t len,
                          uint32_t* flags, nghttp2_data_source*, void* ud) {
    auto* c = self(ud);
    uint8_t* direct = c->sink_.reserve(stream_id, len);
    if (direct == nullptr) return c->onReadData(stream_id, buf, len, flags);
    ssize_t n = c->onReadData(stream_id, direct, len, flags);
    if (n >= 0) *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    return n;
  }
  static int sendData(nghttp2_session*, nghttp2_frame* frame, const uint8_t* framehd,
                      size_t length, nghttp2_data_source*, void* ud) {
    // A frame that is not the one just reserved would put bytes out of order.
    if (!self(ud)->sink_.commit(frame, framehd, length)) return NGHTTP2_ERR_CALLBACK_FAILURE;
    return 0;
  }
};

nghttp2_session_callbacks* Connection::callbacks() {
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c = nullptr;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_begin_frame_callback(c, CallbackTrampolines::beginFrame);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(c, CallbackTrampolines::invalidFrame);
    nghttp2_session_callbacks_set_on_begin_headers_callback(c, CallbackTrampolines::beginHeaders);
    nghttp2_session_callbacks_set_on_header_callback2(c, CallbackTrampolines::header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(c, CallbackTrampolines::frameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c, CallbackTrampolines::dataChunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(c, CallbackTrampolines::streamClose);
    nghttp2_session_callbacks_set_on_frame_send_callback(c, CallbackTrampolines::frameSent);
    nghttp2_session_callbacks_set_on_frame_not_send_callback(c, CallbackTrampolines::frameNotSent);
    nghttp2_session_callbacks_set_send_data_callback(c, CallbackTrampolines::sendData);
    return c;
  }();
  return cbs;
}

Connection::Connection(event_base* base, bufferevent* bev, Role role,
                       const SessionSettings& settings)
    : bev_(bev),
      role_(role),
      settings_(settings),
      flush_(base,
             [this] {
               if (!closed_) flush();
               finishIfDone();
             }),
      last_activity_(std::chrono::steady_clock::now()),
      glitch_window_start_(last_activity_) {
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  // Flow control is end to end: we consume a stream's bytes only once the
  // other side has taken them (see proxy/rpc.cc).
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  nghttp2_option_set_max_settings(opt, 32);
  nghttp2_option_set_max_continuations(opt, 8);
  nghttp2_session* s = nullptr;
  if (role == Role::Server) {
    // Rapid-reset protection (CVE-2023-44487): a burst of 1000 resets, then 33/s.
    nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 33);
    // nghttp2 keeps up to max_concurrent_streams closed streams for RFC 7540
    // priorities; its own limit is unlimited here (see start()), so keep none.
    nghttp2_option_set_no_closed_streams(opt, 1);
    nghttp2_session_server_new3(&s, callbacks(), this, opt, sessionMemory());
  } else {
    nghttp2_session_client_new3(&s, callbacks(), this, opt, sessionMemory());
  }
  nghttp2_option_del(opt);
  session_.reset(s);
  bufferevent_setcb(bev_.get(), &Connection::readCb, &Connection::writeCb, &Connection::eventCb,
                    this);
  bufferevent_setwatermark(bev_.get(), EV_WRITE, kLowWater, 0);
  bufferevent_set_max_single_read(bev_.get(), kMaxSingleIo);
  bufferevent_set_max_single_write(bev_.get(), kMaxSingleIo);
  // Only a socket bufferevent has an fd to read directly; OpenSSL and
  // in-memory (pair) bufferevents go through the bufferevent's own buffers.
  socket_io_ = bufferevent_openssl_get_ssl(bev_.get()) == nullptr &&
               bufferevent_pair_get_partner(bev_.get()) == nullptr;
  // A new bufferevent starts with EV_WRITE enabled; writeDirect() owns it from here.
  if (socket_io_) bufferevent_disable(bev_.get(), EV_WRITE);
  // An accepted socket is connected already; a client's reports BEV_EVENT_CONNECTED.
  got_connected_ = role == Role::Server;
}

Connection::~Connection() {
  // Free the session before the socket: nghttp2_session_del fires no callbacks.
  session_.reset();
  read_event_.reset();  // before the bufferevent closes the socket
  write_event_.reset();
  bev_.reset();
}

void Connection::start() {
  std::array<nghttp2_settings_entry, 5> iv{{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings_.initial_stream_window},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, settings_.max_frame_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings_.max_header_list_size},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  }};
  if (role_ == Role::Server && !socket_io_) {
    SSL* ssl = bufferevent_openssl_get_ssl(bev_.get());
    if (ssl != nullptr && SSL_is_init_finished(ssl)) takeOverTls(ssl);
  }
  // A server must not send ENABLE_PUSH; a client must not advertise stream limits it
  // does not need, but it is harmless.
  if (role_ == Role::Server) {
    sendServerSettings(iv.data(), 4);
  } else {
    nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, iv.data(), iv.size());
  }
  if (settings_.initial_connection_window > 65535) {
    nghttp2_session_set_local_window_size(session_.get(), NGHTTP2_FLAG_NONE, 0,
                                          static_cast<int32_t>(settings_.initial_connection_window));
  }
  if (socket_io_) {
    startSocketReads();
  } else {
    bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
  }
  scheduleFlush();
}

// Read by socketReadCb; written directly by flush(), with the bufferevent's
// write event enabled only while output is left over (see writeDirect()).
// A plain socket's bufferevent still reports connect completion and write errors.
void Connection::startSocketReads() {
  read_event_.reset(event_new(bufferevent_get_base(bev_.get()), bufferevent_getfd(bev_.get()),
                              EV_READ | EV_PERSIST, &Connection::socketReadCb, this));
  event_add(read_event_.get(), nullptr);
  // Bytes the bufferevent or OpenSSL already hold raise no readiness on the socket.
  if (ssl_ != nullptr &&
      (evbuffer_get_length(bufferevent_get_input(bev_.get())) > 0 || SSL_has_pending(ssl_))) {
    event_active(read_event_.get(), EV_READ, 1);
  }
}

// The handshake (its timeout, ALPN, SNI, certificate checks and session
// resumption) ran on the OpenSSL bufferevent; HTTP/2 then reads and writes the
// SSL object itself, like a plain socket: SSL_read straight into the read
// block and nghttp2, and generated frames SSL_write'n in the same pass, with no
// evbuffer copies and no write event armed per flush. The bufferevent keeps
// owning the SSL object and the socket, so closing stays as it was
// (ConnectionStart::closed, UpstreamConnection::onClosed).
//
// Server role: called from start(), before anything is generated. Client role:
// called as the bufferevent reports the handshake done, before it wrote or
// read any application data (libevent reports BEV_EVENT_CONNECTED before its
// first SSL_write or SSL_read); the frames generated into its output while it
// was connecting (the preface and SETTINGS) go out first, in order.
void Connection::takeOverTls(SSL* ssl) {
  ssl_ = ssl;
  prepareDirectTls(ssl);
  bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  tls_out_.reset(evbuffer_new());
  evbuffer* queued = bufferevent_get_output(bev_.get());
  if (evbuffer_get_length(queued) > 0 && evbuffer_add_buffer(tls_out_.get(), queued) != 0) {
    log::main().debug("TLS handover: the bufferevent's output could not be moved");
    closeNow(CloseReason::IoError);
    return;
  }
  write_event_.reset(event_new(bufferevent_get_base(bev_.get()), bufferevent_getfd(bev_.get()),
                               EV_WRITE | EV_PERSIST, &Connection::tlsWriteCb, this));
  socket_io_ = true;
}

evbuffer* Connection::output() const {
  return ssl_ != nullptr ? tls_out_.get() : bufferevent_get_output(bev_.get());
}

// RFC 9113 5.1.2: a stream over the peer's limit is a stream error
// (REFUSED_STREAM lets the client retry it). nghttp2 1.52 makes it a
// connection error once our SETTINGS are acknowledged, which would fail every
// admitted stream on the connection. So nghttp2 is given no limit
// (its own default, unlimited) and the SETTINGS frame it encodes
// is rewritten to advertise max_concurrent_streams before it is written;
// admitStream() enforces that limit. One SETTINGS frame goes out either way,
// so the client's ACK matches nghttp2's record of it.
void Connection::sendServerSettings(const nghttp2_settings_entry* iv, size_t n) {
  std::array<nghttp2_settings_entry, 8> local{};
  n = std::min(n, local.size());
  std::copy(iv, iv + n, local.begin());
  for (size_t i = 0; i < n; ++i) {
    if (local[i].settings_id == NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) {
      local[i].value = kNghttp2StreamLimit;
    }
  }
  nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, local.data(), n);
  // Nothing else is queued yet: the next frame nghttp2 produces is this SETTINGS.
  const uint8_t* data = nullptr;
  ssize_t len = nghttp2_session_mem_send(session_.get(), &data);
  if (len <= 0) return;  // an error here surfaces again on the first flush()
  std::string frame(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  constexpr size_t kFrameHeader = 9, kEntry = 6;
  for (size_t at = kFrameHeader; at + kEntry <= frame.size(); at += kEntry) {
    uint16_t id = static_cast<uint16_t>((static_cast<uint8_t>(frame[at]) << 8) |
                                        static_cast<uint8_t>(frame[at + 1]));
    if (id != NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) continue;
    const uint32_t v = settings_.max_concurrent_streams;
    for (int b = 0; b < 4; ++b) frame[at + 2 + b] = static_cast<char>(v >> (24 - 8 * b));
  }
  evbuffer_add(output(), frame.data(), frame.size());
}

bool Connection::admitStream(int32_t stream_id) {
  if (open_client_streams_ < settings_.max_concurrent_streams) {
    ++open_client_streams_;
    return true;
  }
  // Queued before nghttp2's own reset for the refused block, which is then not
  // sent; charged now (not when sent) so a flood stops within this read.
  nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_REFUSED_STREAM);
  refused_streams_.insert(stream_id);
  charged_resets_.insert(stream_id);
  onStreamRefused(stream_id);
  chargeGlitch(metrics::Glitch::StreamError);
  return false;
}

nghttp2_data_provider Connection::dataProvider() const {
  nghttp2_data_provider p;
  p.source.ptr = nullptr;  // always resolved through stream user data, never a raw pointer
  p.read_callback = CallbackTrampolines::readData;
  return p;
}

void Connection::terminate(uint32_t h2_error, CloseReason reason) {
  if (closed_) return;
  nghttp2_session_terminate_session(session_.get(), h2_error);
  closing_after_write_ = true;
  close_reason_ = reason;
  scheduleFlush();
}

void Connection::closeNow(CloseReason reason) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  stopReading();
  bufferevent_disable(bev_.get(), EV_WRITE);
  if (write_event_) event_del(write_event_.get());
  tls_write_armed_ = false;
  scheduleFlush();  // reports onClosed() from the top of the loop
}

bufferevent* Connection::releaseBufferevent(CloseReason reason) {
  closeNow(reason);
  read_event_.reset();
  bufferevent_setcb(bev_.get(), nullptr, nullptr, nullptr, nullptr);
  return bev_.release();
}

bool Connection::chargeGlitch(metrics::Glitch cause, uint32_t cost) {
  if (calmed_) return false;
  onGlitch(cause);
  auto now = std::chrono::steady_clock::now();
  if (now - glitch_window_start_ > settings_.glitch_window) {
    glitch_window_start_ = now;
    glitches_ = 0;
  }
  glitches_ += cost;
  if (glitches_ <= settings_.max_glitches) return true;
  calmed_ = true;
  log::main().warn("HTTP/2 peer exceeded its misbehaviour budget ({} in {}ms, last: {}); sending "
                   "GOAWAY(ENHANCE_YOUR_CALM)",
                   glitches_,
                   std::chrono::duration_cast<std::chrono::milliseconds>(settings_.glitch_window)
                       .count(),
                   metrics::glitchLabel(cause));
  nghttp2_session_terminate_session(session_.get(), NGHTTP2_ENHANCE_YOUR_CALM);
  closing_after_write_ = true;
  close_reason_ = CloseReason::ProtocolError;
  onGlitchBudgetSpent();
  scheduleFlush();
  return false;
}

void Connection::readCb(bufferevent*, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (!c->closed_) c->onReadable();
  c->finishIfDone();
}

void Connection::writeCb(bufferevent*, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (!c->closed_) c->flush();
  c->finishIfDone();
}

void Connection::eventCb(bufferevent*, short what, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (!c->closed_) c->onEvent(what);
  c->finishIfDone();
}

void Connection::onEvent(short what) {
  if (what & BEV_EVENT_CONNECTED) {
    got_connected_ = true;
    onConnected();
    if (closed_) return;
    if (role_ == Role::Client && !socket_io_) {
      // A TLS backend: its handshake is done; HTTP/2 goes on on the direct path.
      if (SSL* ssl = bufferevent_openssl_get_ssl(bev_.get()); ssl != nullptr) {
        takeOverTls(ssl);
        if (closed_) return;
        startSocketReads();
      }
    }
    flush();
    return;
  }
  if (what & BEV_EVENT_EOF) {
    closeNow(CloseReason::PeerEof);
  } else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
    closeNow(role_ == Role::Client && !got_connected_ ? CloseReason::ConnectFailed
                                                      : CloseReason::IoError);
  }
}

void Connection::socketReadCb(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (!c->closed_) {
    if (c->ssl_ != nullptr) {
      c->onTlsReadable();
    } else {
      c->onSocketReadable();
    }
  }
  c->finishIfDone();
}

void Connection::tlsWriteCb(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (!c->closed_) {
    if (c->tls_read_wants_write_) {
      // A read that had to write first (a TLS alert or key update reply).
      c->tls_read_wants_write_ = false;
      if (!c->closing_after_write_) event_add(c->read_event_.get(), nullptr);
      c->onTlsReadable();
    } else {
      c->flush();
    }
  }
  c->finishIfDone();
}

void Connection::onTlsReadable() {
  uint8_t* buf = readBlock();
  evbuffer* carried = bufferevent_get_input(bev_.get());  // read during the handshake
  if (evbuffer_get_length(carried) > 0 && !receiveAll(carried)) return;
  tls_write_wants_read_ = false;  // the flush below retries a write that waited for this
  size_t total = 0;
  while (!closed_ && total < kReadBudget) {
    TlsIoResult r = tlsRead(ssl_, buf, kReadChunk);
    if (r.status == TlsIo::Done) {
      total += r.bytes;
      if (!receive(buf, r.bytes)) return;
      continue;
    }
    if (r.status == TlsIo::WantRead) break;
    if (r.status == TlsIo::WantWrite) {
      // Wait for writability instead of spinning on readability meanwhile.
      tls_read_wants_write_ = true;
      event_del(read_event_.get());
      break;
    }
    closeNow(r.status == TlsIo::Closed ? CloseReason::PeerEof : CloseReason::IoError);
    return;
  }
  if (closed_) return;
  // Records OpenSSL has buffered already raise no readiness on the socket.
  if (total >= kReadBudget && !tls_read_wants_write_ && SSL_has_pending(ssl_)) {
    event_active(read_event_.get(), EV_READ, 1);
  }
  flush();
}

void Connection::onSocketReadable() {
  uint8_t* buf = readBlock();
  evutil_socket_t fd = bufferevent_getfd(bev_.get());
  // A client socket that ends before it connected never reached the peer.
  const bool connecting = role_ == Role::Client && !got_connected_;
  size_t total = 0;
  while (!closed_ && total < kReadBudget) {
    ssize_t got = read(fd, buf, kReadChunk);
    if (got > 0) {
      total += static_cast<size_t>(got);
      if (!receive(buf, static_cast<size_t>(got))) return;
      if (static_cast<size_t>(got) < kReadChunk) break;  // the socket is drained
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    closeNow(connecting ? CloseReason::ConnectFailed
                        : got == 0 ? CloseReason::PeerEof : CloseReason::IoError);
    return;
  }
  if (!closed_) flush();
}

void Connection::onReadable() {
  if (receiveAll(bufferevent_get_input(bev_.get()))) flush();
}

bool Connection::receiveAll(evbuffer* in) {
  while (!closed_ && evbuffer_get_length(in) > 0) {
    std::array<evbuffer_iovec, 16> vec;
    int n = evbuffer_peek(in, -1, nullptr, vec.data(), static_cast<int>(vec.size()));
    if (n <= 0) break;
    size_t used = 0;
    for (int i = 0; i < n && i < static_cast<int>(vec.size()); ++i) {
      if (!receive(static_cast<const uint8_t*>(vec[i].iov_base), vec[i].iov_len)) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return false;
      }
      used += vec[i].iov_len;
    }
    evbuffer_drain(in, used);
  }
  return !closed_;
}

bool Connection::receive(const uint8_t* data, size_t len) {
  // Once per read rather than per frame: a read holds many frames, and the
  // keepalive that asks lastActivity() works in seconds.
  last_activity_ = std::chrono::steady_clock::now();
  ssize_t rv = nghttp2_session_mem_recv(session_.get(), data, len);
  if (rv >= 0) return !closed_;
  onProtocolError(static_cast<int>(rv));
  if (closed_) return false;
  if (rv == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
    closing_after_write_ = true;
    close_reason_ = CloseReason::NotHttp2;
  } else {
    // nghttp2 has queued GOAWAY for protocol violations; make sure one goes out.
    nghttp2_session_terminate_session(session_.get(), NGHTTP2_PROTOCOL_ERROR);
    closing_after_write_ = true;
    close_reason_ = CloseReason::ProtocolError;
  }
  stopReading();
  flush();
  return false;
}

void Connection::stopReading() {
  if (read_event_) event_del(read_event_.get());
  bufferevent_disable(bev_.get(), EV_READ);
}

void Connection::writeDirect(evbuffer* out) {
  if (!socket_io_ || !got_connected_) return;
  if (ssl_ != nullptr) {
    writeTlsQueued();
    if (!closed_) watchWritable(out);
    return;
  }
  if (evbuffer_get_length(out) > 0) {
    // A bufferevent keeps its output's front frozen outside its own writes.
    // On EAGAIN or an error the bytes stay queued; the bufferevent then writes
    // them, or reports the error through the event callback.
    evbuffer_unfreeze(out, 1);
    evbuffer_write(out, bufferevent_getfd(bev_.get()));
    evbuffer_freeze(out, 1);
  }
  watchWritable(out);
}

void Connection::writeTlsQueued() {
  evbuffer* out = tls_out_.get();
  while (!closed_ && evbuffer_get_length(out) > 0) {
    size_t left = evbuffer_get_length(out);
    // The front chunk as it is when it holds a record or more, else joined up.
    evbuffer_iovec front{};
    evbuffer_peek(out, -1, nullptr, &front, 1);
    size_t n = front.iov_len;
    const uint8_t* data = static_cast<const uint8_t*>(front.iov_base);
    if (n < std::min(left, kTlsRecord)) {
      n = std::min(left, kTlsWriteChunk);
      data = evbuffer_pullup(out, static_cast<ssize_t>(n));
    }
    TlsIoResult r = tlsWrite(ssl_, data, n);
    evbuffer_drain(out, r.bytes);
    tls_write_wants_read_ = r.status == TlsIo::WantRead;
    if (r.status == TlsIo::Done) continue;
    if (r.status != TlsIo::WantRead && r.status != TlsIo::WantWrite) closeNow(CloseReason::IoError);
    return;
  }
}

size_t Connection::writeNow(const uint8_t* block, size_t len) {
  if (ssl_ != nullptr) {
    TlsIoResult r = tlsWrite(ssl_, block, len);
    tls_write_wants_read_ = r.status == TlsIo::WantRead;
    if (r.status != TlsIo::Done && r.status != TlsIo::WantRead && r.status != TlsIo::WantWrite) {
      closeNow(CloseReason::IoError);
    }
    return r.bytes;
  }
  size_t written = 0;
  while (written < len) {
    ssize_t w = write(bufferevent_getfd(bev_.get()), block + written, len - written);
    if (w > 0) {
      written += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    // EAGAIN, or an error the bufferevent reports when it tries the rest.
    break;
  }
  return written;
}

void Connection::watchWritable(evbuffer* out) {
  if (ssl_ != nullptr) {
    // A write that waits for readability is retried by the read event.
    bool want = (evbuffer_get_length(out) > 0 && !tls_write_wants_read_) || tls_read_wants_write_;
    if (want != tls_write_armed_) {
      tls_write_armed_ = want;
      if (want) {
        event_add(write_event_.get(), nullptr);
      } else {
        event_del(write_event_.get());
      }
    }
    return;
  }
  bool pending = evbuffer_get_length(out) > 0;
  if (pending != write_enabled_) {
    write_enabled_ = pending;
    if (pending) {
      bufferevent_enable(bev_.get(), EV_WRITE);
    } else {
      bufferevent_disable(bev_.get(), EV_WRITE);
    }
  }
}

// Frames nghttp2 produces for a plain socket whose output buffer is empty are
// gathered here and written with one write(); only what the socket does not
// take goes to the bufferevent's output (written when the socket drains).
// One block per worker thread: it is empty again before flush() returns.
namespace {
constexpr size_t kStagingSize = kHighWater + 32 * 1024;
}  // namespace

Connection::Generated Connection::generateDirect(evbuffer* out) {
  static thread_local std::unique_ptr<uint8_t[]> staging(new uint8_t[kStagingSize]);
  uint8_t* block = staging.get();
  size_t used = 0;
  Generated result = Generated::Done;
  // DATA payloads land in the block directly (see readData); detached on every return.
  sink_.toBlock(block, &used, kStagingSize, kHighWater);
  struct Detach {
    FrameSink& sink;
    ~Detach() { sink.detach(); }
  } detach{sink_};
  for (;;) {
    if (used >= kHighWater) {
      result = Generated::More;
      break;
    }
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_.get(), &data);
    if (n < 0) {
      log::main().debug("nghttp2_session_mem_send: {}", nghttp2_strerror(static_cast<int>(n)));
      return Generated::Failed;
    }
    if (n == 0) break;
    size_t len = static_cast<size_t>(n);
    if (used + len > kStagingSize) {
      // A frame too large for the block (a big header block): keep the order
      // by queuing what is staged and this frame, and write them from there.
      evbuffer_add(out, block, used);
      evbuffer_add(out, data, len);
      return Generated::Queued;
    }
    std::memcpy(block + used, data, len);
    used += len;
  }
  size_t written = writeNow(block, used);
  if (closed_) return Generated::Failed;
  if (written < used) {
    evbuffer_add(out, block + written, used - written);
    return Generated::Queued;
  }
  return result;
}

bool Connection::flush() {
  evbuffer* out = output();
  for (int round = 0;; ++round) {
    bool more = false;  // stopped at the high-water mark with frames still to go
    bool wrote = false;  // generateDirect() wrote everything it made
    if (!closing_after_write_ || nghttp2_session_want_write(session_.get())) {
      if (socket_io_ && got_connected_ && evbuffer_get_length(out) == 0) {
        Generated g = generateDirect(out);
        if (g == Generated::Failed) {
          closeNow(CloseReason::IoError);
          return false;
        }
        more = g == Generated::More;
        wrote = g != Generated::Queued;
      }
      if (!wrote) sink_.toBuffer(out, kHighWater);
      for (; !wrote;) {
        if (evbuffer_get_length(out) >= kHighWater) {
          more = true;
          break;
        }
        const uint8_t* data = nullptr;
        ssize_t n = nghttp2_session_mem_send(session_.get(), &data);
        if (n < 0) {
          log::main().debug("nghttp2_session_mem_send: {}", nghttp2_strerror(static_cast<int>(n)));
          sink_.detach();
          closeNow(CloseReason::IoError);
          return false;
        }
        if (n == 0) break;
        evbuffer_add(out, data, static_cast<size_t>(n));
      }
      sink_.detach();
    }
    if (wrote) {
      watchWritable(out);
    } else {
      writeDirect(out);
    }
    // A direct write that emptied the buffer leaves no write event to call us
    // back: keep going, but yield to other connections after a few rounds.
    if (!more || !socket_io_ || evbuffer_get_length(out) > 0) break;
    if (round + 1 == kMaxWriteRounds) {
      scheduleFlush();
      break;
    }
  }
  bool idle = !nghttp2_session_want_read(session_.get()) &&
              !nghttp2_session_want_write(session_.get());
  if ((closing_after_write_ || idle) && evbuffer_get_length(out) == 0) {
    closeNow(closing_after_write_ ? close_reason_ : CloseReason::Done);
    return false;
  }
  return true;
}

void Connection::finishIfDone() {
  if (closed_ && !reported_) {
    reported_ = true;
    onClosed(close_reason_);  // may delete this
  }
}

}  // namespace switchyard::http2
