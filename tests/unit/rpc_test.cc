// Rpc driven inside the test process: the client side is a fake DownstreamSide
// that records what the RPC sends; the backend is an nghttp2 server session
// in the test, on a loopback socket the RPC's real Pool and UpstreamConnection
// connect to. Covers header forwarding both ways, Trailers-Only and trailers
// after data, end-to-end flow control, the RST_STREAM and GOAWAY mappings,
// policy retries with an injected random source, and the deadline. The last
// fixture puts a real DownstreamConnection in front, on a socketpair to an
// nghttp2 client session in the test, for its server-stream API.
#include "proxy/rpc.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/block_recycler.h"
#include "config/loader.h"
#include "grpc/timeout.h"
#include "proxy/downstream_connection.h"
#include "proxy/route_policies.h"
#include "server/runtime_builder.h"

namespace switchyard::proxy {
namespace {

using namespace std::chrono_literals;
using Fields = std::vector<std::pair<std::string, std::string>>;
using grpc::StatusCode;

// One uncompressed gRPC message: the proxy reads the framing of what it forwards.
std::string grpcMessage(const std::string& payload) {
  std::string m(5, '\0');
  const auto n = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) m[1 + i] = static_cast<char>(n >> (24 - 8 * i));
  return m + payload;
}

std::string field(const Fields& fields, std::string_view name) {
  for (const auto& [n, v] : fields) {
    if (n == name) return v;
  }
  return "<absent>";
}

Fields copyNv(const http2::NvList& nva) {
  Fields out;
  for (size_t i = 0; i < nva.size(); ++i) {
    const nghttp2_nv& nv = nva.data()[i];
    out.emplace_back(std::string(reinterpret_cast<const char*>(nv.name), nv.namelen),
                     std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen));
  }
  return out;
}

// A HeaderList as nghttp2 hands received fields over (by rcbuf): the fields
// are encoded by one in-memory session and decoded by another.
http2::HeaderList decodeHeaders(const Fields& fields) {
  http2::HeaderList out;
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback2(
      cbs, [](nghttp2_session*, const nghttp2_frame*, nghttp2_rcbuf* name, nghttp2_rcbuf* value,
              uint8_t, void* ud) {
        static_cast<http2::HeaderList*>(ud)->add(name, value);
        return 0;
      });
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_http_messaging(opt, 1);
  nghttp2_session* client = nullptr;
  nghttp2_session* server = nullptr;
  nghttp2_session_client_new2(&client, cbs, nullptr, opt);
  nghttp2_session_server_new2(&server, cbs, &out, opt);
  std::vector<nghttp2_nv> nva;
  for (const auto& [n, v] : fields) nva.push_back(http2::makeNv(n, v));
  nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, nullptr, 0);
  nghttp2_submit_headers(client, NGHTTP2_FLAG_END_STREAM, -1, nullptr, nva.data(), nva.size(),
                         nullptr);
  const uint8_t* data = nullptr;
  for (ssize_t n; (n = nghttp2_session_mem_send(client, &data)) > 0;) {
    nghttp2_session_mem_recv(server, data, static_cast<size_t>(n));
  }
  nghttp2_session_del(client);
  nghttp2_session_del(server);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  return out;
}

// --------------------------------------------------------------- the backend

// An HTTP/2 server in the test: accepts the pool's connections on a loopback
// socket and records every request; the test answers by hand.
class Backend {
 public:
  struct Stream {
    nghttp2_session* session = nullptr;
    int32_t id = 0;
    Fields headers;
    std::vector<std::string> never_indexed;  // fields HPACK-coded "never indexed"
    std::string body;
    bool ended = false;              // the request's END_STREAM arrived
    std::optional<uint32_t> closed;  // the stream closed, with this error code
    std::string to_send;             // response body not yet handed to nghttp2
    Fields trailers;                 // sent once to_send is drained
    bool hold_open = false;          // after the body, neither trailers nor END_STREAM
  };

  Backend() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(listen_fd_, 16), 0);
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Backend() {
    for (auto& c : conns_) {
      nghttp2_session_del(c->session);
      close(c->fd);
    }
    close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  size_t connections() const { return conns_.size(); }
  // SETTINGS_MAX_CONCURRENT_STREAMS of connections accepted from now on (0: not sent).
  uint32_t max_streams = 0;
  std::vector<std::unique_ptr<Stream>>& streams() { return streams_; }

  // Accepts new connections and moves bytes both ways on every connection.
  void pump() {
    for (int fd; (fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) addConn(fd);
    for (auto& c : conns_) {
      std::array<uint8_t, 65536> buf;
      for (ssize_t n; (n = read(c->fd, buf.data(), buf.size())) > 0;) {
        nghttp2_session_mem_recv(c->session, buf.data(), static_cast<size_t>(n));
      }
      const uint8_t* data = nullptr;
      for (ssize_t n; (n = nghttp2_session_mem_send(c->session, &data)) > 0;) {
        for (ssize_t off = 0; off < n;) {
          ssize_t w = write(c->fd, data + off, static_cast<size_t>(n - off));
          if (w > 0) off += w;
        }
      }
    }
  }

  // Response HEADERS; with end_stream a Trailers-Only response, otherwise
  // `body` then `trailers` follow.
  void respond(Stream& s, const Fields& headers, bool end_stream, std::string body = "",
               Fields trailers = {}) {
    s.to_send = std::move(body);
    s.trailers = std::move(trailers);
    auto nva = toNv(headers);
    nghttp2_data_provider prd{};
    prd.source.ptr = &s;
    prd.read_callback = &Backend::readBody;
    nghttp2_submit_response(s.session, s.id, nva.data(), nva.size(), end_stream ? nullptr : &prd);
  }
  void reset(Stream& s, uint32_t code) {
    nghttp2_submit_rst_stream(s.session, NGHTTP2_FLAG_NONE, s.id, code);
  }
  void goaway(Stream& s, int32_t last_stream_id) {
    nghttp2_submit_goaway(s.session, NGHTTP2_FLAG_NONE, last_stream_id, NGHTTP2_NO_ERROR,
                          nullptr, 0);
  }
  static int32_t remoteWindow(const Stream& s) {
    return nghttp2_session_get_stream_remote_window_size(s.session, s.id);
  }

 private:
  struct Conn {
    int fd = -1;
    nghttp2_session* session = nullptr;
    Backend* backend = nullptr;
  };

  static std::vector<nghttp2_nv> toNv(const Fields& fields) {
    std::vector<nghttp2_nv> nva;
    for (const auto& [n, v] : fields) nva.push_back(http2::makeNv(n, v));
    return nva;
  }

  void addConn(int fd) {
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->backend = this;
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(
        cbs, [](nghttp2_session* session, const nghttp2_frame* f, void* ud) {
          auto* self = static_cast<Conn*>(ud)->backend;
          auto s = std::make_unique<Stream>();
          s->session = session;
          s->id = f->hd.stream_id;
          self->streams_.push_back(std::move(s));
          return 0;
        });
    nghttp2_session_callbacks_set_on_header_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
                const uint8_t* v, size_t vl, uint8_t flags, void* ud) {
          if (Stream* s = static_cast<Conn*>(ud)->backend->find(ud, f->hd.stream_id)) {
            s->headers.emplace_back(std::string(reinterpret_cast<const char*>(n), nl),
                                    std::string(reinterpret_cast<const char*>(v), vl));
            if (flags & NGHTTP2_NV_FLAG_NO_INDEX) s->never_indexed.push_back(s->headers.back().first);
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cbs, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t len, void* ud) {
          if (Stream* s = static_cast<Conn*>(ud)->backend->find(ud, id)) {
            s->body.append(reinterpret_cast<const char*>(d), len);
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, void* ud) {
          if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) {
            if (Stream* s = static_cast<Conn*>(ud)->backend->find(ud, f->hd.stream_id)) {
              s->ended = true;
            }
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cbs, [](nghttp2_session*, int32_t id, uint32_t code, void* ud) {
          if (Stream* s = static_cast<Conn*>(ud)->backend->find(ud, id)) s->closed = code;
          return 0;
        });
    nghttp2_session_server_new(&c->session, cbs, c.get());
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry limit{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_streams};
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, &limit, max_streams > 0 ? 1 : 0);
    conns_.push_back(std::move(c));
  }

  Stream* find(void* conn, int32_t id) {
    auto* c = static_cast<Conn*>(conn);
    for (auto& s : streams_) {
      if (s->session == c->session && s->id == id) return s.get();
    }
    return nullptr;
  }

  static ssize_t readBody(nghttp2_session* session, int32_t, uint8_t* buf, size_t len,
                          uint32_t* flags, nghttp2_data_source* src, void*) {
    auto* s = static_cast<Stream*>(src->ptr);
    size_t n = std::min(len, s->to_send.size());
    std::copy_n(s->to_send.data(), n, buf);
    s->to_send.erase(0, n);
    if (s->to_send.empty() && s->hold_open) {
      return n > 0 ? static_cast<ssize_t>(n) : static_cast<ssize_t>(NGHTTP2_ERR_DEFERRED);
    }
    if (s->to_send.empty()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!s->trailers.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        auto nva = toNv(s->trailers);
        nghttp2_submit_trailer(session, s->id, nva.data(), nva.size());
      }
    }
    return static_cast<ssize_t>(n);
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Stream>> streams_;
};

// ------------------------------------------------------------ the client side

class FakeWorker final : public WorkerContext {
 public:
  explicit FakeWorker(RuntimePtr runtime) : runtime_(std::move(runtime)) {
    clusters_.apply(*runtime_);
  }
  event_base* base() override { return base_.get(); }
  const RuntimePtr& runtime() const override { return runtime_; }
  ClusterTable& clusters() override { return clusters_; }
  metrics::WorkerStats* stats() override { return nullptr; }
  void connectionClosed(DownstreamConnection*) override {}
  void clientConnectionClosed(ClientConnection*) override {}
  uint64_t random() override { return random_value; }
  event::Clock& clock() override { return manual_clock; }

  uint64_t random_value = 0;
  // Time stands still unless a test moves it: deadlines, backoffs and pending
  // timeouts fire only on advance().
  event::ManualClock manual_clock;

 private:
  CHandle<event_base, event_base_free> base_{event_base_new()};
  RuntimePtr runtime_;
  ClusterTable clusters_{base_.get(), 0, manual_clock};
};

class FakeDownstream final : public DownstreamSide {
 public:
  struct Response {
    Fields headers;
    bool end_stream;
  };
  explicit FakeDownstream(WorkerContext& worker) : worker_(worker) { listener_.name = "test"; }

  WorkerContext& worker() override { return worker_; }
  const ListenerInfo& listener() const override { return listener_; }
  const std::string& peerIp() const override { return peer_ip_; }
  Status respond(int32_t, const http2::NvList& headers, bool end_stream) override {
    if (refuse_frames) return Error{"refused by the test"};
    responses.push_back({copyNv(headers), end_stream});
    return {};
  }
  Status sendTrailers(int32_t, const http2::NvList& t) override {
    trailers = copyNv(t);
    return {};
  }
  void resumeResponse(int32_t) override { ++resumes; }
  Status reset(int32_t, uint32_t h2_error) override {
    resets.push_back(h2_error);
    return {};
  }
  void consume(int32_t, size_t n) override { consumed += n; }

  bool refuse_frames = false;  // respond() fails, as nghttp2_submit_response can
  std::vector<Response> responses;
  std::optional<Fields> trailers;
  int resumes = 0;
  std::vector<uint32_t> resets;
  size_t consumed = 0;

 private:
  WorkerContext& worker_;
  ListenerInfo listener_;
  std::string peer_ip_ = "10.9.8.7";
};

// ------------------------------------------------------------------- fixture

constexpr const char* kConfig = R"(
admin: { address: "" }
listeners: [{ name: test, address: "127.0.0.1:0" }]
routes:
  - match: { service: retry.Svc }
    cluster: backends
    retry: { retry_on: [UNAVAILABLE], max_attempts: 2, backoff: { base: 10s, max: 10s } }
  - match: { service: test.Svc }
    cluster: backends
clusters:
  - name: backends
    endpoints: ["127.0.0.1:PORT"]
    outlier_detection: { enabled: false }
    max_connections_per_endpoint: 1
    pending_timeout: 2s
)";

const Fields kOk = {{":status", "200"}, {"content-type", "application/grpc"}};

class RpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string yaml = kConfig + cluster_extra_;
    yaml.replace(yaml.find("PORT"), 4, std::to_string(backend_.port()));
    auto loaded = config::loadString(yaml, "rpc_test.yaml");
    ASSERT_TRUE(loaded.config) << (loaded.errors.empty() ? "" : loaded.errors[0]);
    auto cfg = std::make_shared<const config::Config>(std::move(*loaded.config));
    auto routes =
        std::make_shared<const routing::RouteTable>(routing::RouteTable::build(cfg->routes));
    auto policies = proxy::buildRoutePolicies(*cfg, *routes);
    ASSERT_TRUE(policies.ok()) << policies.error();
    auto runtime = server::buildRuntime(
        cfg, routes, *policies, {}, [](const std::string&, const std::string&) {
          return upstream::Health::Healthy;
        }, 1);
    worker_ = std::make_unique<FakeWorker>(runtime);
    client_ = std::make_unique<FakeDownstream>(*worker_);
  }
  void TearDown() override {
    rpc_.reset();
    client_.reset();
    worker_.reset();
  }

  // Starts an RPC with these request headers (plus the usual gRPC ones).
  Rpc& start(std::string path, Fields extra = {}, bool end_stream = true) {
    Fields h = {{":method", "POST"},
                {":scheme", "https"},
                {":authority", "proxy.test"},
                {":path", std::move(path)},
                {"content-type", "application/grpc"},
                {"te", "trailers"}};
    h.insert(h.end(), extra.begin(), extra.end());
    rpc_ = std::make_unique<Rpc>(*client_, 1);
    rpc_->requestHeaders() = decodeHeaders(h);
    rpc_->onRequestHeaders(end_stream);
    return *rpc_;
  }

  // Runs the proxy's loop and the backend until `done` holds (bounded).
  bool waitFor(const std::function<bool()>& done) {
    auto give_up = std::chrono::steady_clock::now() + 10s;
    for (int i = 0; i < 20000 && std::chrono::steady_clock::now() < give_up; ++i) {
      event_base_loop(worker_->base(), EVLOOP_NONBLOCK);
      backend_.pump();
      if (done()) return true;
      std::this_thread::sleep_for(200us);
    }
    return false;
  }
  // A few passes of the loop and the backend, for asserting that nothing changes.
  void settle(int passes = 50) {
    for (int i = 0; i < passes; ++i) {
      event_base_loop(worker_->base(), EVLOOP_NONBLOCK);
      backend_.pump();
    }
  }
  Backend::Stream& waitForStream(size_t n) {
    EXPECT_TRUE(waitFor([&] { return backend_.streams().size() >= n; }))
        << "backend saw " << backend_.streams().size() << " streams";
    return *backend_.streams().at(n - 1);
  }
  bool answered() const { return !client_->responses.empty(); }
  std::string readBody(Rpc& rpc, uint32_t* flags) {
    std::string out;
    std::array<uint8_t, 16384> buf;
    for (int i = 0; i < 1000; ++i) {
      ssize_t n = rpc.readResponseBody(buf.data(), buf.size(), flags);
      if (n > 0) out.append(reinterpret_cast<char*>(buf.data()), static_cast<size_t>(n));
      if (n <= 0 || (*flags & NGHTTP2_DATA_FLAG_EOF)) break;
    }
    return out;
  }

  std::string cluster_extra_;  // further lines of the cluster, set before SetUp
  Backend backend_;
  std::unique_ptr<FakeWorker> worker_;
  std::unique_ptr<FakeDownstream> client_;
  std::unique_ptr<Rpc> rpc_;
};

// The backend gets the request minus hop-by-hop fields, :scheme http, the
// remaining grpc-timeout and our x-forwarded-for appended; metadata is untouched.
TEST_F(RpcTest, ForwardsRequestHeadersRewritingOnlyWhatTheProxyOwns) {
  start("/test.Svc/Call", {{"grpc-timeout", "10S"}, {"x-forwarded-for", "1.2.3.4"},
                           {"x-meta", "v1"}});
  auto& s = waitForStream(1);
  EXPECT_EQ(field(s.headers, ":path"), "/test.Svc/Call");
  EXPECT_EQ(field(s.headers, ":scheme"), "http");
  EXPECT_EQ(field(s.headers, ":authority"), "proxy.test");
  EXPECT_EQ(field(s.headers, "x-meta"), "v1");
  EXPECT_EQ(field(s.headers, "te"), "trailers");
  EXPECT_EQ(field(s.headers, "x-forwarded-for"), "1.2.3.4, 10.9.8.7");
  std::string timeout = field(s.headers, "grpc-timeout");
  ASSERT_NE(timeout, "<absent>");
  auto left = grpc::parseGrpcTimeout(timeout);
  ASSERT_TRUE(left);
  EXPECT_EQ(*left, Duration(10s));  // the worker's clock has not moved
  EXPECT_EQ(field(s.headers, "grpc-previous-rpc-attempts"), "<absent>");
}

// Values that change with every RPC (the remaining deadline, the request id,
// the trace parent) are HPACK-coded "never indexed" towards the backend: the
// upstream connection's dynamic table is shared by every RPC on it, and
// indexing them would fill it with entries no later request can use, evicting
// the ones they could (and making each lookup walk them). Stable metadata is
// left to the encoder.
TEST_F(RpcTest, PerRequestValuesStayOutOfTheBackendsHpackTable) {
  start("/test.Svc/Call", {{"grpc-timeout", "10S"},
                           {"x-request-id", "6f1c2a9e-client-chosen"},
                           {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                           {"x-meta", "v1"}});
  auto& s = waitForStream(1);
  EXPECT_EQ(field(s.headers, "x-request-id"), "6f1c2a9e-client-chosen");
  auto never = [&](std::string_view name) {
    return std::find(s.never_indexed.begin(), s.never_indexed.end(), name) != s.never_indexed.end();
  };
  EXPECT_TRUE(never("grpc-timeout"));
  EXPECT_TRUE(never("x-request-id"));
  EXPECT_TRUE(never("traceparent"));
  EXPECT_FALSE(never("x-meta"));
  EXPECT_FALSE(never(":path"));
}

// An Rpc's memory is kept by its worker thread and the next call takes it
// (the recycler rpc.cc declares).
TEST_F(RpcTest, TheNextRpcReusesTheMemoryOfTheLastOne) {
  using RpcBlocks = common::BlockRecycler<sizeof(Rpc), 64>;
  const void* first = &start("/test.Svc/Call");
  const size_t kept = RpcBlocks::kept();
  rpc_.reset();
  EXPECT_EQ(RpcBlocks::kept(), kept + 1);
  EXPECT_EQ(&start("/test.Svc/Call"), first);
  EXPECT_EQ(RpcBlocks::kept(), kept);
}

// A backend's Trailers-Only response reaches the client as one HEADERS with END_STREAM.
TEST_F(RpcTest, TrailersOnlyStaysTrailersOnly) {
  Rpc& rpc = start("/test.Svc/Call");
  auto& s = waitForStream(1);
  Fields answer = kOk;
  answer.emplace_back("grpc-status", "5");
  answer.emplace_back("grpc-message", "not here");
  backend_.respond(s, answer, true);
  ASSERT_TRUE(waitFor([&] { return answered(); }));
  ASSERT_EQ(client_->responses.size(), 1u);
  EXPECT_TRUE(client_->responses[0].end_stream);
  EXPECT_EQ(field(client_->responses[0].headers, "grpc-status"), "5");
  EXPECT_EQ(field(client_->responses[0].headers, "grpc-message"), "not here");
  EXPECT_EQ(rpc.status(), StatusCode::NotFound);
  EXPECT_EQ(rpc.responseState(), Rpc::ResponseState::Ended);
  EXPECT_FALSE(client_->trailers);
}

// Headers, then the body, then the backend's trailers after the last byte.
TEST_F(RpcTest, TrailersFollowTheBody) {
  Rpc& rpc = start("/test.Svc/Call");
  auto& s = waitForStream(1);
  Fields headers = kOk;
  headers.emplace_back("x-resp", "r1");
  const std::string body = grpcMessage("hello world");
  backend_.respond(s, headers, false, body, {{"grpc-status", "0"}, {"x-trailer", "t1"}});
  ASSERT_TRUE(waitFor([&] { return rpc.responseState() == Rpc::ResponseState::TrailersReady; }));
  ASSERT_EQ(client_->responses.size(), 1u);
  EXPECT_FALSE(client_->responses[0].end_stream);
  EXPECT_EQ(field(client_->responses[0].headers, "x-resp"), "r1");
  EXPECT_GT(client_->resumes, 0);
  EXPECT_FALSE(client_->trailers);  // not before the body has gone out
  uint32_t flags = 0;
  EXPECT_EQ(readBody(rpc, &flags), body);
  EXPECT_EQ(flags, NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM);
  ASSERT_TRUE(client_->trailers);
  EXPECT_EQ(field(*client_->trailers, "grpc-status"), "0");
  EXPECT_EQ(field(*client_->trailers, "x-trailer"), "t1");
  EXPECT_EQ(rpc.status(), StatusCode::Ok);
  EXPECT_EQ(rpc.upstreamState(), UpstreamAttempt::State::Done);
}

// The client's window reopens only as the backend takes its bytes, and the
// backend's only as the client takes the response.
TEST_F(RpcTest, WindowsReopenOnlyAsTheOtherSideTakesTheBytes) {
  Rpc& rpc = start("/test.Svc/Call", {}, false);
  auto& s = waitForStream(1);
  const std::string request = grpcMessage(std::string(995, 'q'));
  rpc.onRequestData(reinterpret_cast<const uint8_t*>(request.data()), request.size());
  EXPECT_EQ(client_->consumed, 0u);  // nothing has gone upstream yet
  rpc.onRequestEnd();
  ASSERT_TRUE(waitFor([&] { return s.ended; }));
  EXPECT_EQ(s.body, request);
  EXPECT_EQ(client_->consumed, request.size());

  const int32_t window = Backend::remoteWindow(s);
  // A whole window: nghttp2 sends WINDOW_UPDATE in steps of half a window.
  const int32_t size = window;
  s.hold_open = true;
  backend_.respond(s, kOk, false, std::string(static_cast<size_t>(size), 'r'));
  ASSERT_TRUE(waitFor([&] { return Backend::remoteWindow(s) == window - size; }));
  settle();
  EXPECT_EQ(Backend::remoteWindow(s), window - size);  // buffered here, not yet passed on
  EXPECT_GT(client_->resumes, 0);
  uint32_t flags = 0;
  EXPECT_EQ(readBody(rpc, &flags).size(), static_cast<size_t>(size));
  EXPECT_EQ(flags, 0u);
  bool reopened = waitFor([&] { return Backend::remoteWindow(s) == window; });
  EXPECT_TRUE(reopened) << "backend window " << Backend::remoteWindow(s) << " of " << window;
}

// Every RST_STREAM code from the backend becomes the gRPC spec's status,
// as a Trailers-Only response.
TEST_F(RpcTest, BackendResetsMapToGrpcStatuses) {
  struct Case {
    uint32_t h2;
    StatusCode want;
  } cases[] = {
      {NGHTTP2_NO_ERROR, StatusCode::Internal},
      {NGHTTP2_PROTOCOL_ERROR, StatusCode::Internal},
      {NGHTTP2_INTERNAL_ERROR, StatusCode::Internal},
      {NGHTTP2_FLOW_CONTROL_ERROR, StatusCode::Internal},
      {NGHTTP2_CANCEL, StatusCode::Cancelled},
      {NGHTTP2_ENHANCE_YOUR_CALM, StatusCode::ResourceExhausted},
      {NGHTTP2_INADEQUATE_SECURITY, StatusCode::PermissionDenied},
      {NGHTTP2_HTTP_1_1_REQUIRED, StatusCode::Internal},
  };
  size_t n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(nghttp2_http2_strerror(c.h2));
    client_->responses.clear();
    Rpc& rpc = start("/test.Svc/Call");
    auto& s = waitForStream(++n);
    backend_.reset(s, c.h2);
    ASSERT_TRUE(waitFor([&] { return answered(); }));
    EXPECT_TRUE(client_->responses[0].end_stream);
    EXPECT_EQ(field(client_->responses[0].headers, "grpc-status"),
              std::to_string(static_cast<int>(c.want)));
    EXPECT_EQ(rpc.status(), c.want);
  }
}

// A GOAWAY that excludes the stream proves the backend never processed it:
// the RPC is sent again on a new connection, and says it is a retry.
TEST_F(RpcTest, StreamAboveGoawayIsRetriedTransparently) {
  Rpc& rpc = start("/test.Svc/Call");
  auto& first = waitForStream(1);
  backend_.goaway(first, 0);
  auto& second = waitForStream(2);
  EXPECT_EQ(backend_.connections(), 2u);
  EXPECT_EQ(field(second.headers, "grpc-previous-rpc-attempts"), "1");
  EXPECT_FALSE(answered());
  backend_.respond(second, {{":status", "200"}, {"content-type", "application/grpc"},
                            {"grpc-status", "0"}}, true);
  ASSERT_TRUE(waitFor([&] { return answered(); }));
  EXPECT_EQ(rpc.status(), StatusCode::Ok);
}

// REFUSED_STREAM is retried the same way; a reset after processing is not.
TEST_F(RpcTest, RefusedStreamIsRetriedTransparently) {
  start("/test.Svc/Call");
  backend_.reset(waitForStream(1), NGHTTP2_REFUSED_STREAM);
  auto& second = waitForStream(2);
  EXPECT_EQ(field(second.headers, "grpc-previous-rpc-attempts"), "1");
  EXPECT_FALSE(answered());
}

// A status in retry_on is retried (after the backoff the injected random
// value picks, none here), telling the backend it is a retry; once the
// attempts are spent the last status reaches the client.
TEST_F(RpcTest, PolicyRetrySendsTheCallAgainUntilAttemptsAreSpent) {
  worker_->random_value = 0;
  Rpc& rpc = start("/retry.Svc/Call");
  auto& first = waitForStream(1);
  backend_.respond(first, {{":status", "200"}, {"content-type", "application/grpc"},
                           {"grpc-status", "14"}}, true);
  auto& second = waitForStream(2);
  EXPECT_EQ(field(second.headers, "grpc-previous-rpc-attempts"), "1");
  EXPECT_FALSE(answered());
  ASSERT_TRUE(waitFor([&] { return first.closed.has_value(); }));
  EXPECT_EQ(*first.closed, NGHTTP2_NO_ERROR);  // the backend had answered: not a cancel
  backend_.respond(second, {{":status", "200"}, {"content-type", "application/grpc"},
                            {"grpc-status", "14"}}, true);
  // max_attempts is 2: the second UNAVAILABLE goes to the client.
  ASSERT_TRUE(waitFor([&] { return answered(); }));
  EXPECT_EQ(rpc.status(), StatusCode::Unavailable);
  EXPECT_EQ(backend_.streams().size(), 2u);
}

// Request bytes that arrive while a policy retry waits out its backoff are
// part of the request: the next attempt must carry them. The backoff is the
// one the injected random value picks, and nothing is sent before it passed.
TEST_F(RpcTest, RequestBytesDuringRetryBackoffReachTheNextAttempt) {
  worker_->random_value = static_cast<uint64_t>(Duration(50ms).count());
  Rpc& rpc = start("/retry.Svc/Call", {}, false);
  auto& first = waitForStream(1);
  std::string head(100, 'h');
  rpc.onRequestData(reinterpret_cast<const uint8_t*>(head.data()), head.size());
  ASSERT_TRUE(waitFor([&] { return first.body.size() == head.size(); }));
  backend_.respond(first, {{":status", "200"}, {"content-type", "application/grpc"},
                           {"grpc-status", "14"}}, true);
  ASSERT_TRUE(waitFor([&] { return rpc.upstreamState() == UpstreamAttempt::State::Idle; }));
  std::string tail(50, 't');
  rpc.onRequestData(reinterpret_cast<const uint8_t*>(tail.data()), tail.size());
  rpc.onRequestEnd();
  worker_->manual_clock.advance(49ms);
  settle();
  EXPECT_EQ(backend_.streams().size(), 1u) << "the retry went out before its backoff";
  worker_->manual_clock.advance(1ms);
  auto& second = waitForStream(2);
  ASSERT_TRUE(waitFor([&] { return second.ended; }));
  EXPECT_EQ(second.body, head + tail);
  EXPECT_FALSE(answered());
}

// A backoff that would end past the deadline is not taken.
TEST_F(RpcTest, PolicyRetryIsSkippedWhenTheBackoffPassesTheDeadline) {
  worker_->random_value = static_cast<uint64_t>(Duration(5s).count());  // 5 s of 10 s
  Rpc& rpc = start("/retry.Svc/Call", {{"grpc-timeout", "2S"}});
  auto& first = waitForStream(1);
  backend_.respond(first, {{":status", "200"}, {"content-type", "application/grpc"},
                           {"grpc-status", "14"}}, true);
  ASSERT_TRUE(waitFor([&] { return answered(); }));
  EXPECT_EQ(rpc.status(), StatusCode::Unavailable);
  EXPECT_EQ(backend_.streams().size(), 1u);
}

// The proxy's deadline ends the call with DEADLINE_EXCEEDED and cancels the
// backend's stream, when the worker's clock reaches it and not before.
TEST_F(RpcTest, DeadlineAnswersTheClientAndCancelsTheBackend) {
  Rpc& rpc = start("/test.Svc/Call", {{"grpc-timeout", "50m"}});
  auto& s = waitForStream(1);
  EXPECT_EQ(field(s.headers, "grpc-timeout"), grpc::formatGrpcTimeout(50ms));
  worker_->manual_clock.advance(49ms);
  settle();
  EXPECT_FALSE(answered()) << "answered before the deadline";
  EXPECT_FALSE(s.closed.has_value());
  worker_->manual_clock.advance(1ms);
  ASSERT_TRUE(waitFor([&] { return answered() && s.closed.has_value(); }));
  EXPECT_TRUE(client_->responses[0].end_stream);
  EXPECT_EQ(field(client_->responses[0].headers, "grpc-status"), "4");
  EXPECT_EQ(rpc.status(), StatusCode::DeadlineExceeded);
  EXPECT_EQ(*s.closed, NGHTTP2_CANCEL);
}

// A retry carries the deadline that is left by the worker's clock, not the
// client's original grpc-timeout.
TEST_F(RpcTest, RetryForwardsTheDeadlineThatIsLeft) {
  worker_->random_value = static_cast<uint64_t>(Duration(1s).count());  // backoff: 1 s
  Rpc& rpc = start("/retry.Svc/Call", {{"grpc-timeout", "10S"}});
  auto& first = waitForStream(1);
  EXPECT_EQ(grpc::parseGrpcTimeout(field(first.headers, "grpc-timeout")), Duration(10s));
  worker_->manual_clock.advance(3s);  // the backend takes 3 s to fail
  backend_.respond(first, {{":status", "200"}, {"content-type", "application/grpc"},
                           {"grpc-status", "14"}}, true);
  // The RPC has taken the answer and waits out its backoff.
  ASSERT_TRUE(waitFor([&] { return rpc.upstreamState() == UpstreamAttempt::State::Idle; }));
  worker_->manual_clock.advance(1s);
  auto& second = waitForStream(2);
  EXPECT_EQ(grpc::parseGrpcTimeout(field(second.headers, "grpc-timeout")), Duration(6s));
  EXPECT_FALSE(answered());
}

// An RPC waiting for a stream slot (the backend allows one stream and the
// pool one connection) ends with UNAVAILABLE once pending_timeout passes on
// the worker's clock, without reaching the backend; the first RPC is untouched.
TEST_F(RpcTest, PendingTimeoutEndsAnRpcThatNeverGotAStreamSlot) {
  backend_.max_streams = 1;
  start("/test.Svc/Call");
  auto& first = waitForStream(1);
  settle();  // the backend's SETTINGS (one stream) have been read
  Rpc waiting(*client_, 3);
  waiting.requestHeaders() = decodeHeaders({{":method", "POST"},
                                            {":scheme", "https"},
                                            {":authority", "proxy.test"},
                                            {":path", "/test.Svc/Call"},
                                            {"content-type", "application/grpc"},
                                            {"te", "trailers"}});
  waiting.onRequestHeaders(true);
  worker_->manual_clock.advance(1999ms);
  settle();
  EXPECT_FALSE(waiting.status().has_value()) << "ended before pending_timeout";
  EXPECT_EQ(backend_.streams().size(), 1u);
  worker_->manual_clock.advance(1ms);
  ASSERT_TRUE(waitFor([&] { return waiting.status().has_value(); }));
  EXPECT_EQ(waiting.status(), StatusCode::Unavailable);
  EXPECT_EQ(backend_.streams().size(), 1u) << "the pending RPC reached the backend";
  EXPECT_FALSE(first.closed.has_value());
  EXPECT_FALSE(rpc_->status().has_value());
}

class RpcMaxPendingTest : public RpcTest {
 protected:
  void SetUp() override {
    cluster_extra_ = "    circuit_breaker: { max_pending: 1 }\n";
    RpcTest::SetUp();
  }
  static std::unique_ptr<Rpc> startOn(FakeDownstream& client, int32_t id) {
    auto rpc = std::make_unique<Rpc>(client, id);
    rpc->requestHeaders() = decodeHeaders({{":method", "POST"},
                                           {":scheme", "https"},
                                           {":authority", "proxy.test"},
                                           {":path", "/test.Svc/Call"},
                                           {"content-type", "application/grpc"},
                                           {"te", "trailers"}});
    rpc->onRequestHeaders(true);
    return rpc;
  }
};

// circuit_breaker.max_pending counts the RPCs waiting for a stream slot over
// every worker, as max_active_rpcs does: with one waiting on one worker, an
// RPC that would wait on another worker's connection is refused at once with
// UNAVAILABLE. (Counted per worker, each of them could queue max_pending.)
TEST_F(RpcMaxPendingTest, TheLimitHoldsAcrossWorkers) {
  backend_.max_streams = 1;  // per connection; each worker opens its own
  FakeWorker other(worker_->runtime());
  FakeDownstream other_client(other);
  auto pumpAll = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 20000; ++i) {
      event_base_loop(worker_->base(), EVLOOP_NONBLOCK);
      event_base_loop(other.base(), EVLOOP_NONBLOCK);
      backend_.pump();
      if (done()) return true;
      std::this_thread::sleep_for(200us);
    }
    return false;
  };

  start("/test.Svc/Call");  // worker 1: takes its connection's only stream
  auto other_first = startOn(other_client, 1);  // worker 2: the same on its connection
  ASSERT_TRUE(pumpAll([&] { return backend_.streams().size() >= 2; }));
  for (int i = 0; i < 50; ++i) {
    event_base_loop(worker_->base(), EVLOOP_NONBLOCK);
    event_base_loop(other.base(), EVLOOP_NONBLOCK);
    backend_.pump();
  }  // both have read the backend's SETTINGS (one stream)

  auto waiting = startOn(*client_, 3);  // worker 1: waits, the one pending place
  for (int i = 0; i < 50; ++i) {
    event_base_loop(worker_->base(), EVLOOP_NONBLOCK);
    backend_.pump();
  }
  EXPECT_FALSE(waiting->status().has_value()) << "the first RPC over the stream limit waits";

  auto refused = startOn(other_client, 3);  // worker 2: no pending place left in the process
  ASSERT_TRUE(pumpAll([&] { return refused->status().has_value(); }));
  EXPECT_EQ(refused->status(), StatusCode::Unavailable);
  ASSERT_FALSE(other_client.responses.empty());
  EXPECT_NE(field(other_client.responses.back().headers, "grpc-message").find("circuit_breaker.max_pending"),
            std::string::npos);
  EXPECT_FALSE(waiting->status().has_value()) << "the RPC already waiting is untouched";
  EXPECT_EQ(backend_.streams().size(), 2u);

  // The waiting RPC leaves (its client goes away): its place is free again,
  // and the other worker may queue one.
  waiting.reset();
  auto queued = startOn(other_client, 5);
  for (int i = 0; i < 50; ++i) {
    event_base_loop(worker_->base(), EVLOOP_NONBLOCK);
    event_base_loop(other.base(), EVLOOP_NONBLOCK);
    backend_.pump();
  }
  EXPECT_FALSE(queued->status().has_value()) << "refused although no RPC waits any more";
  queued.reset();
  refused.reset();
  other_first.reset();
}

// A response the connection refuses must not leave the client waiting: the stream is reset.
TEST_F(RpcTest, RefusedResponseResetsTheClientStream) {
  client_->refuse_frames = true;
  start("/nosuch.Svc/Call");  // no route: a Trailers-Only UNIMPLEMENTED is attempted
  EXPECT_FALSE(answered());
  ASSERT_EQ(client_->resets.size(), 1u);
  EXPECT_EQ(client_->resets[0], NGHTTP2_INTERNAL_ERROR);
}

// A client that goes away cancels the backend's stream.
TEST_F(RpcTest, ClientResetCancelsTheBackendStream) {
  Rpc& rpc = start("/test.Svc/Call");
  auto& s = waitForStream(1);
  rpc.onDownstreamClosed(NGHTTP2_CANCEL);
  ASSERT_TRUE(waitFor([&] { return s.closed.has_value(); }));
  EXPECT_EQ(*s.closed, NGHTTP2_CANCEL);
  EXPECT_EQ(rpc.status(), StatusCode::Cancelled);
}


// ---------------------------------------------- through a DownstreamConnection

// An HTTP/2 client in the test, on one end of a socketpair whose other end is
// a real DownstreamConnection: the connection's server-stream API end to end.
class Client {
 public:
  struct Stream {
    std::vector<std::pair<Fields, bool>> blocks;  // header blocks and their END_STREAM
    std::string data;
    std::optional<uint32_t> closed;
  };

  explicit Client(int fd) : fd_(fd) {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, void* ud) {
          static_cast<Client*>(ud)->streams[f->hd.stream_id].blocks.emplace_back();
          return 0;
        });
    nghttp2_session_callbacks_set_on_header_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, const uint8_t* n, size_t nl,
                const uint8_t* v, size_t vl, uint8_t, void* ud) {
          static_cast<Client*>(ud)->streams[f->hd.stream_id].blocks.back().first.emplace_back(
              std::string(reinterpret_cast<const char*>(n), nl),
              std::string(reinterpret_cast<const char*>(v), vl));
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cbs, [](nghttp2_session*, const nghttp2_frame* f, void* ud) {
          if (f->hd.type == NGHTTP2_HEADERS && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
            static_cast<Client*>(ud)->streams[f->hd.stream_id].blocks.back().second = true;
          }
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cbs, [](nghttp2_session*, uint8_t, int32_t id, const uint8_t* d, size_t len, void* ud) {
          static_cast<Client*>(ud)->streams[id].data.append(reinterpret_cast<const char*>(d), len);
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cbs, [](nghttp2_session*, int32_t id, uint32_t code, void* ud) {
          static_cast<Client*>(ud)->streams[id].closed = code;
          return 0;
        });
    nghttp2_session_client_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Client() {
    nghttp2_session_del(session_);
    close(fd_);
  }

  // Request HEADERS, with END_STREAM or leaving the request open.
  int32_t request(const std::string& path, bool end_stream) {
    Fields h = {{":method", "POST"}, {":scheme", "http"}, {":authority", "proxy.test"},
                {":path", path}, {"content-type", "application/grpc"}, {"te", "trailers"}};
    std::vector<nghttp2_nv> nva;
    for (const auto& [n, v] : h) nva.push_back(http2::makeNv(n, v));
    return nghttp2_submit_headers(session_, end_stream ? NGHTTP2_FLAG_END_STREAM : 0, -1, nullptr,
                                  nva.data(), nva.size(), nullptr);
  }
  void pump() {
    std::array<uint8_t, 65536> buf;
    for (ssize_t n; (n = read(fd_, buf.data(), buf.size())) > 0;) {
      nghttp2_session_mem_recv(session_, buf.data(), static_cast<size_t>(n));
    }
    const uint8_t* data = nullptr;
    for (ssize_t n; (n = nghttp2_session_mem_send(session_, &data)) > 0;) {
      for (ssize_t off = 0; off < n;) {
        ssize_t w = write(fd_, data + off, static_cast<size_t>(n - off));
        if (w > 0) off += w;
      }
    }
  }

  std::map<int32_t, Stream> streams;

 private:
  int fd_;
  nghttp2_session* session_ = nullptr;
};

class DownstreamConnectionTest : public RpcTest {
 protected:
  void SetUp() override {
    RpcTest::SetUp();
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    client_peer_ = std::make_unique<Client>(fds[1]);
    ListenerInfo listener;
    listener.name = "test";
    auto peer = event::parseIpPort("10.9.8.7:5555");
    conn_ = std::make_unique<DownstreamConnection>(
        *worker_, bufferevent_socket_new(worker_->base(), fds[0], BEV_OPT_CLOSE_ON_FREE), *peer,
        listener);
    conn_->begin();
  }
  void TearDown() override {
    conn_.reset();
    client_peer_.reset();
    RpcTest::TearDown();
  }
  bool run(const std::function<bool()>& done) {
    return waitFor([&] {
      client_peer_->pump();
      return done();
    });
  }

  std::unique_ptr<Client> client_peer_;
  std::unique_ptr<DownstreamConnection> conn_;
};

// A local answer goes out as one HEADERS frame with END_STREAM.
TEST_F(DownstreamConnectionTest, LocalAnswerIsTrailersOnly) {
  int32_t id = client_peer_->request("/nosuch.Svc/Call", true);
  ASSERT_TRUE(run([&] { return client_peer_->streams[id].closed.has_value(); }));
  auto& s = client_peer_->streams[id];
  ASSERT_EQ(s.blocks.size(), 1u);
  EXPECT_TRUE(s.blocks[0].second);
  EXPECT_EQ(field(s.blocks[0].first, ":status"), "200");
  EXPECT_EQ(field(s.blocks[0].first, "grpc-status"), "12");
  EXPECT_EQ(*s.closed, NGHTTP2_NO_ERROR);
}

// Headers, body and trailers from the backend reach the client in order.
TEST_F(DownstreamConnectionTest, ResponseHeadersBodyAndTrailersReachTheClient) {
  int32_t id = client_peer_->request("/test.Svc/Call", true);
  ASSERT_TRUE(run([&] { return !backend_.streams().empty(); }));
  backend_.respond(*backend_.streams()[0], kOk, false, grpcMessage("payload"), {{"grpc-status", "0"}, {"x-t", "1"}});
  ASSERT_TRUE(run([&] { return client_peer_->streams[id].closed.has_value(); }));
  auto& s = client_peer_->streams[id];
  ASSERT_EQ(s.blocks.size(), 2u);
  EXPECT_FALSE(s.blocks[0].second);
  EXPECT_EQ(field(s.blocks[0].first, "content-type"), "application/grpc");
  EXPECT_EQ(s.data, grpcMessage("payload"));
  EXPECT_TRUE(s.blocks[1].second);
  EXPECT_EQ(field(s.blocks[1].first, "grpc-status"), "0");
  EXPECT_EQ(field(s.blocks[1].first, "x-t"), "1");
}

// gRPC spec: a server that ends the call while the client is still sending
// follows its trailers with RST_STREAM(NO_ERROR).
TEST_F(DownstreamConnectionTest, EndingBeforeTheClientFinishedResetsWithNoError) {
  int32_t id = client_peer_->request("/nosuch.Svc/Call", false);
  ASSERT_TRUE(run([&] { return client_peer_->streams[id].closed.has_value(); }));
  auto& s = client_peer_->streams[id];
  ASSERT_EQ(s.blocks.size(), 1u);
  EXPECT_TRUE(s.blocks[0].second);
  EXPECT_EQ(*s.closed, NGHTTP2_NO_ERROR);  // closed although the client never ended its side
}

}  // namespace
}  // namespace switchyard::proxy
