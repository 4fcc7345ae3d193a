// sy_bench_h2_floor: what nghttp2 itself costs for one gRPC unary exchange
// through a proxy, with no proxy logic and no I/O.
//
//   sy_bench_h2_floor [--iterations 20000] [--size 16]
//
// Four nghttp2 sessions in one thread, wired by memory buffers:
//
//   client ──> proxy server side ══ proxy client side ──> backend
//
// The two proxy-side sessions use the daemon's own session options and
// allocator (http2::sessionMemory) and its header handling: received fields
// are kept by reference (http2::HeaderList, no copies) and forwarded by
// reference through an http2::NvList (NvList::addKept: nghttp2 copies no
// field either), DATA forwarded through deferred data providers resumed when
// bytes arrive, flow control consumed by hand as the daemon does
// (no_auto_window_update). The request carries the exact header set
// sy_bench_load (gRPC C++ 1.51) sends, grpc-timeout changing per call; the
// proxy replaces grpc-timeout (never indexed), adds x-request-id (never indexed) and
// x-forwarded-for, as the daemon does with its defaults. The backend answers
// as the gRPC C++ backend does: :status, content-type, grpc-accept-encoding,
// one message, then grpc-status trailers.
//
// Per iteration: the client sends HEADERS + DATA, the proxy decodes them and
// re-encodes them towards the backend, the backend answers with HEADERS +
// DATA + trailers, the proxy decodes and re-encodes them towards the client,
// and the client reads them (window updates included). Every exchange is
// checked (status, message bytes) so a broken pipe cannot look fast.
//
// The work of each party is done inside its own non-inlined function
// (ProxySide::work, ClientSide::work, BackendSide::work), so a callgrind run
// attributes instructions to each by inclusive cost:
//
//   valgrind --tool=callgrind --callgrind-out-file=OUT sy_bench_h2_floor --iterations 5000
//   callgrind_annotate --inclusive=yes OUT | grep -E 'ProxySide::work|ClientSide::work|BackendSide::work'
//
// scripts/bench.sh --cases callgrind-h2floor does exactly that. Without
// valgrind the last line reports wall-clock nanoseconds per exchange:
//   RESULT iterations=N ok=N ns_per_exchange=X
#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "http2/headers.h"
#include "http2/session_memory.h"

namespace {

using switchyard::http2::HeaderList;
using switchyard::http2::NvList;
using switchyard::http2::view;

// One direction of a connection: bytes written by one session, read by the other.
using Wire = std::string;

// The header set gRPC C++ 1.51 (sy_bench_load) puts on every unary call.
struct RequestFields {
  std::string timeout;  // changes per call, as a real deadline does
  std::vector<nghttp2_nv> nva(std::string_view authority, std::string_view path) const {
    auto nv = [](std::string_view n, std::string_view v) { return switchyard::http2::makeNv(n, v); };
    return {nv(":path", path),
            nv(":authority", authority),
            nv(":method", "POST"),
            nv(":scheme", "http"),
            nv("content-type", "application/grpc"),
            nv("te", "trailers"),
            nv("grpc-accept-encoding", "identity, deflate, gzip"),
            nv("grpc-timeout", timeout),
            nv("user-agent", "grpc-c++/1.51.1 grpc-c/29.0.0 (linux; chttp2)")};
  }
};

// A gRPC message: 5-byte prefix + Payload{bytes data = size bytes}.
std::string grpcMessage(size_t size) {
  std::string proto;
  proto.push_back(0x0a);  // field 1, length-delimited
  size_t n = size;
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    proto.push_back(static_cast<char>(n ? b | 0x80 : b));
  } while (n);
  proto.append(size, 'x');
  std::string msg(5, '\0');
  uint32_t len = static_cast<uint32_t>(proto.size());
  msg[1] = static_cast<char>(len >> 24);
  msg[2] = static_cast<char>(len >> 16);
  msg[3] = static_cast<char>(len >> 8);
  msg[4] = static_cast<char>(len);
  return msg + proto;
}

// Sends everything the session has queued onto the wire.
size_t drain(nghttp2_session* s, Wire& out) {
  size_t total = 0;
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(s, &data);
    if (n < 0) {
      std::fprintf(stderr, "h2_floor: mem_send: %s\n", nghttp2_strerror(static_cast<int>(n)));
      std::exit(1);
    }
    if (n == 0) return total;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    total += static_cast<size_t>(n);
  }
}

// Feeds everything on the wire to the session.
size_t feed(nghttp2_session* s, Wire& in) {
  size_t n = in.size();
  if (n == 0) return 0;
  ssize_t rv = nghttp2_session_mem_recv(s, reinterpret_cast<const uint8_t*>(in.data()), n);
  if (rv < 0 || static_cast<size_t>(rv) != n) {
    std::fprintf(stderr, "h2_floor: mem_recv: %s\n", nghttp2_strerror(static_cast<int>(rv)));
    std::exit(1);
  }
  in.clear();
  return n;
}

// Body bytes waiting to be read by a data provider, and whether the body ended.
struct Body {
  std::string bytes;
  size_t off = 0;
  bool ended = false;
  size_t pending() const { return bytes.size() - off; }
  size_t take(uint8_t* buf, size_t len) {
    size_t n = std::min(len, pending());
    std::memcpy(buf, bytes.data() + off, n);
    off += n;
    if (off == bytes.size()) {
      bytes.clear();
      off = 0;
    }
    return n;
  }
};

// ------------------------------------------------------------------ client

class ClientSide {
 public:
  ClientSide(size_t size) : message_(grpcMessage(size)) {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback2(cb, &ClientSide::onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &ClientSide::onData);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, &ClientSide::onClose);
    nghttp2_session_client_new(&s_, cb, this);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(s_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~ClientSide() { nghttp2_session_del(s_); }

  // Starts call number `i`.
  __attribute__((noinline)) void start(uint64_t i, Wire& out) {
    RequestFields f;
    f.timeout = std::to_string(29999 - i % 97) + "m";
    auto nva = f.nva("127.0.0.1:50051", "/switchyard.bench.Bench/Unary");
    nghttp2_data_provider prd{};
    prd.read_callback = &ClientSide::readBody;
    sent_ = 0;
    status_ok_ = false;
    received_ = 0;
    closed_ = false;
    nghttp2_submit_request(s_, nullptr, nva.data(), nva.size(), &prd, this);
    drain(s_, out);
  }
  __attribute__((noinline)) size_t work(Wire& in, Wire& out) {
    size_t moved = feed(s_, in);
    return moved + drain(s_, out);
  }
  bool done() const { return closed_; }
  bool ok() const { return status_ok_ && received_ == message_.size(); }

 private:
  static ssize_t readBody(nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
                          nghttp2_data_source*, void* ud) {
    auto* c = static_cast<ClientSide*>(ud);
    size_t n = std::min(len, c->message_.size() - c->sent_);
    std::memcpy(buf, c->message_.data() + c->sent_, n);
    c->sent_ += n;
    if (c->sent_ == c->message_.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  static int onHeader(nghttp2_session*, const nghttp2_frame*, nghttp2_rcbuf* name,
                      nghttp2_rcbuf* value, uint8_t, void* ud) {
    auto* c = static_cast<ClientSide*>(ud);
    if (view(name) == "grpc-status" && view(value) == "0") c->status_ok_ = true;
    return 0;
  }
  static int onData(nghttp2_session*, uint8_t, int32_t, const uint8_t*, size_t len, void* ud) {
    static_cast<ClientSide*>(ud)->received_ += len;
    return 0;
  }
  static int onClose(nghttp2_session*, int32_t, uint32_t, void* ud) {
    static_cast<ClientSide*>(ud)->closed_ = true;
    return 0;
  }

  nghttp2_session* s_ = nullptr;
  std::string message_;
  size_t sent_ = 0;
  size_t received_ = 0;
  bool status_ok_ = false;
  bool closed_ = false;
};

// ----------------------------------------------------------------- backend

class BackendSide {
 public:
  BackendSide(size_t size) : message_(grpcMessage(size)) {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &BackendSide::onFrame);
    nghttp2_session_server_new(&s_, cb, this);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(s_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~BackendSide() { nghttp2_session_del(s_); }

  __attribute__((noinline)) size_t work(Wire& in, Wire& out) {
    size_t moved = feed(s_, in);
    return moved + drain(s_, out);
  }

 private:
  static int onFrame(nghttp2_session* s, const nghttp2_frame* frame, void* ud) {
    if (frame->hd.stream_id == 0 || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    auto* b = static_cast<BackendSide*>(ud);
    b->sent_ = 0;
    const nghttp2_nv nva[] = {switchyard::http2::makeNv(":status", "200"),
                              switchyard::http2::makeNv("content-type", "application/grpc"),
                              switchyard::http2::makeNv("grpc-accept-encoding", "identity, deflate, gzip")};
    nghttp2_data_provider prd{};
    prd.read_callback = &BackendSide::readBody;
    nghttp2_submit_response(s, frame->hd.stream_id, nva, 3, &prd);
    return 0;
  }
  static ssize_t readBody(nghttp2_session* s, int32_t id, uint8_t* buf, size_t len, uint32_t* flags,
                          nghttp2_data_source*, void* ud) {
    auto* b = static_cast<BackendSide*>(ud);
    size_t n = std::min(len, b->message_.size() - b->sent_);
    std::memcpy(buf, b->message_.data() + b->sent_, n);
    b->sent_ += n;
    if (b->sent_ == b->message_.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      const nghttp2_nv trailers[] = {switchyard::http2::makeNv("grpc-status", "0")};
      nghttp2_submit_trailer(s, id, trailers, 1);
    }
    return static_cast<ssize_t>(n);
  }

  nghttp2_session* s_ = nullptr;
  std::string message_;
  size_t sent_ = 0;
};

// ------------------------------------------------------------------- proxy

// The proxy's two sessions and the one call in flight between them.
class ProxySide {
 public:
  ProxySide() {
    down_ = newSession(true);
    up_ = newSession(false);
    // The daemon's SETTINGS (http2::SessionSettings defaults).
    const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1024},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 256 * 1024},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, 16384},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 16 * 1024},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    nghttp2_submit_settings(down_, NGHTTP2_FLAG_NONE, iv, 4);
    nghttp2_submit_settings(up_, NGHTTP2_FLAG_NONE, iv, 5);
    for (nghttp2_session* s : {down_, up_}) {
      nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0, 4 * 1024 * 1024);
    }
  }
  ~ProxySide() {
    request_headers_.clear();
    response_headers_.clear();
    trailers_.clear();
    nghttp2_session_del(down_);
    nghttp2_session_del(up_);
  }

  // One turn of the proxy's event loop: read what both peers sent, write what
  // that produced.
  __attribute__((noinline)) size_t work(Wire& from_client, Wire& to_client, Wire& from_backend,
                                        Wire& to_backend) {
    size_t moved = feed(down_, from_client) + feed(up_, from_backend);
    moved += drain(up_, to_backend);
    moved += drain(down_, to_client);
    return moved;
  }

 private:
  nghttp2_session* newSession(bool server) {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, &ProxySide::onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback2(cb, &ProxySide::onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, &ProxySide::onFrame);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, &ProxySide::onData);
    // The same options as http2::Connection.
    nghttp2_option* opt = nullptr;
    nghttp2_option_new(&opt);
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_max_outbound_ack(opt, 1000);
    nghttp2_option_set_max_settings(opt, 32);
    nghttp2_option_set_max_continuations(opt, 8);
    nghttp2_session* s = nullptr;
    if (server) {
      nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 33);
      nghttp2_option_set_no_closed_streams(opt, 1);
      nghttp2_session_server_new3(&s, cb, this, opt, switchyard::http2::sessionMemory());
    } else {
      nghttp2_session_client_new3(&s, cb, this, opt, switchyard::http2::sessionMemory());
    }
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cb);
    return s;
  }

  static ProxySide* self(void* ud) { return static_cast<ProxySide*>(ud); }

  static int onBeginHeaders(nghttp2_session* s, const nghttp2_frame* frame, void* ud) {
    auto* p = self(ud);
    if (s == p->down_) {
      // A new exchange: the last one's frames are all out, so the fields
      // they were forwarded from (by reference) can go.
      p->down_id_ = frame->hd.stream_id;
      p->request_headers_.clear();
      p->response_headers_.clear();
      p->trailers_.clear();
    }
    return 0;
  }
  static int onHeader(nghttp2_session* s, const nghttp2_frame* frame, nghttp2_rcbuf* name,
                      nghttp2_rcbuf* value, uint8_t, void* ud) {
    auto* p = self(ud);
    if (s == p->down_) {
      p->request_headers_.add(name, value);
    } else if (frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
      p->response_headers_.add(name, value);
    } else {
      p->trailers_.add(name, value);
    }
    return 0;
  }
  static int onFrame(nghttp2_session* s, const nghttp2_frame* frame, void* ud) {
    auto* p = self(ud);
    bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (s == p->down_) {
      if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        p->forwardRequest();
      }
      if (end && frame->hd.stream_id == p->down_id_) {
        p->request_.ended = true;
        if (p->up_id_ > 0) nghttp2_session_resume_data(p->up_, p->up_id_);
      }
    } else if (frame->hd.type == NGHTTP2_HEADERS && frame->hd.stream_id == p->up_id_) {
      if (frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
        p->forwardResponseHeaders();
      } else if (end) {
        p->response_.ended = true;  // trailers: sent once the body drained
        nghttp2_session_resume_data(p->down_, p->down_id_);
      }
    }
    return 0;
  }
  static int onData(nghttp2_session* s, uint8_t, int32_t id, const uint8_t* data, size_t len,
                    void* ud) {
    auto* p = self(ud);
    if (s == p->down_) {
      p->request_.bytes.append(reinterpret_cast<const char*>(data), len);
      if (p->up_id_ > 0) nghttp2_session_resume_data(p->up_, p->up_id_);
    } else if (id == p->up_id_) {
      p->response_.bytes.append(reinterpret_cast<const char*>(data), len);
      nghttp2_session_resume_data(p->down_, p->down_id_);
    }
    return 0;
  }
  // As Rpc::buildUpstreamHeaders: every field but hop-by-hop ones and
  // grpc-timeout, then the remaining budget, the request id and the client
  // address.
  void forwardRequest() {
    NvList nva;
    nva.reserve(request_headers_.size() + 3);
    for (const switchyard::http2::HeaderField& f : request_headers_.fields()) {
      std::string_view name = f.name;
      if (name == "grpc-timeout" || switchyard::http2::isHopByHop(name)) continue;
      nva.addKept(name, f.value);
    }
    // What is left of the client's budget, changing per call: never indexed.
    timeout_ = std::to_string(29998000 - calls_ % 97) + "u";
    nva.addKept("grpc-timeout", timeout_, NGHTTP2_NV_FLAG_NO_INDEX);
    // A fresh id per call, never indexed (the daemon generates a UUID).
    ++calls_;
    fillRequestId(calls_);
    nva.addKept("x-request-id", std::string_view(request_id_, 36), NGHTTP2_NV_FLAG_NO_INDEX);
    nva.addKept("x-forwarded-for", "127.0.0.1");
    nghttp2_data_provider prd{};
    prd.read_callback = &ProxySide::readRequest;
    request_.ended = false;
    up_id_ = nghttp2_submit_request(up_, nullptr, nva.data(), nva.size(), &prd, this);
  }
  void forwardResponseHeaders() {
    NvList nva;
    nva.addForwardableKept(response_headers_);
    nghttp2_data_provider prd{};
    prd.read_callback = &ProxySide::readResponse;
    response_.ended = false;
    nghttp2_submit_response(down_, down_id_, nva.data(), nva.size(), &prd);
  }
  // Request body towards the backend; the client's window is paid back as it goes.
  static ssize_t readRequest(nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
                             nghttp2_data_source*, void* ud) {
    auto* p = self(ud);
    size_t n = p->request_.take(buf, len);
    if (n > 0) nghttp2_session_consume(p->down_, p->down_id_, n);
    if (p->request_.pending() == 0 && p->request_.ended) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return static_cast<ssize_t>(n);
    }
    return n > 0 ? static_cast<ssize_t>(n) : static_cast<ssize_t>(NGHTTP2_ERR_DEFERRED);
  }
  // Response body towards the client; the trailers follow the last byte.
  static ssize_t readResponse(nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
                              nghttp2_data_source*, void* ud) {
    auto* p = self(ud);
    size_t n = p->response_.take(buf, len);
    if (n > 0) nghttp2_session_consume(p->up_, p->up_id_, n);
    if (p->response_.pending() == 0 && p->response_.ended) {
      *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      NvList nva;
      nva.addForwardableKept(p->trailers_);
      nghttp2_submit_trailer(p->down_, p->down_id_, nva.data(), nva.size());
      return static_cast<ssize_t>(n);
    }
    return n > 0 ? static_cast<ssize_t>(n) : static_cast<ssize_t>(NGHTTP2_ERR_DEFERRED);
  }

  // A UUID-shaped id from the call number (the daemon's costs ~600
  // instructions and is Switchyard's own work, not nghttp2's).
  void fillRequestId(uint64_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::memcpy(request_id_, "00000000-0000-4000-8000-000000000000", 36);
    uint64_t x = n * 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 8; ++i) request_id_[i] = kHex[(x >> (i * 4)) & 0xf];
    for (int i = 35; i > 23 && n != 0; --i, n >>= 4) request_id_[i] = kHex[n & 0xf];
  }

  nghttp2_session* down_ = nullptr;  // server side: the client's connection
  nghttp2_session* up_ = nullptr;    // client side: the backend connection
  int32_t down_id_ = 0;
  int32_t up_id_ = 0;
  HeaderList request_headers_;
  HeaderList response_headers_;
  HeaderList trailers_;
  Body request_;
  Body response_;
  std::string timeout_;
  char request_id_[40] = {};
  uint64_t calls_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t iterations = 20000;
  size_t size = 16;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--iterations" && i + 1 < argc) {
      iterations = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--size" && i + 1 < argc) {
      size = std::strtoull(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: sy_bench_h2_floor [--iterations N] [--size BYTES]\n");
      return 2;
    }
  }
  ClientSide client(size);
  ProxySide proxy;
  BackendSide backend(size);
  Wire c2p, p2c, p2b, b2p;
  auto pump = [&] {
    // Bounded: one exchange settles in a handful of turns.
    for (int turn = 0; turn < 64; ++turn) {
      size_t moved = client.work(p2c, c2p);
      moved += proxy.work(c2p, p2c, b2p, p2b);
      moved += backend.work(p2b, b2p);
      if (moved == 0) return true;
    }
    return false;
  };
  if (!pump()) {
    std::fprintf(stderr, "h2_floor: the connection preface did not settle\n");
    return 1;
  }
  uint64_t ok = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < iterations; ++i) {
    client.start(i, c2p);
    if (!pump() || !client.done() || !client.ok()) {
      std::fprintf(stderr, "h2_floor: exchange %llu did not complete\n",
                   static_cast<unsigned long long>(i));
      return 1;
    }
    ++ok;
  }
  double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  std::printf("RESULT iterations=%llu ok=%llu ns_per_exchange=%.0f\n",
              static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(ok),
              iterations ? ns / static_cast<double>(iterations) : 0.0);
  return ok == iterations ? 0 : 1;
}
