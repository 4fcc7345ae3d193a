// Downstream TLS on the direct socket I/O path: once HTTP/2 starts, the proxy
// SSL_reads and SSL_writes the client's socket itself (http2/tls_io.h). These
// tests take that path where it can lose bytes: a reader that stops until the
// proxy's writes block mid-stream, large bodies in both directions at once,
// and a client that ends TLS with close_notify while its stream is open.
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <string_view>
#include <thread>

#include "harness.h"
#include "raw_h2.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

constexpr int32_t kMaxWindow = (1u << 31) - 1;

// name is a string literal (static storage); value outlives the submit call.
nghttp2_nv Nv(std::string_view name, const std::string& value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

// A blocking TLS client speaking HTTP/2 through its own nghttp2 session, one
// stream at a time, with windows so large that only the sockets limit how much
// the proxy may send it.
class RawTlsH2Client {
 public:
  RawTlsH2Client() = default;
  RawTlsH2Client(const RawTlsH2Client&) = delete;
  RawTlsH2Client& operator=(const RawTlsH2Client&) = delete;
  ~RawTlsH2Client() {
    if (session_ != nullptr) nghttp2_session_del(session_);
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }

  bool Connect(const std::string& address, const std::string& ca_file, std::string* error) {
    fd_ = ConnectTcp(address);
    if (fd_ < 0) return Fail("cannot connect to " + address, error);
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr || SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
      return Fail("client SSL_CTX", error);
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    static const unsigned char kAlpn[] = {2, 'h', '2'};
    SSL_CTX_set_alpn_protos(ctx_, kAlpn, sizeof kAlpn);
    ssl_ = SSL_new(ctx_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    SSL_set1_host(ssl_, "localhost");
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) return Fail("TLS handshake failed", error);
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl_, &alpn, &alpn_len);
    if (std::string(reinterpret_cast<const char*>(alpn), alpn_len) != "h2") {
      return Fail("ALPN did not select h2", error);
    }
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &RawTlsH2Client::OnHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &RawTlsH2Client::OnData);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &RawTlsH2Client::OnClose);
    nghttp2_session_client_new(&session_, cbs, this);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kMaxWindow},
                                   {NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, 2);
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kMaxWindow);
    return true;
  }

  // Starts an Echo call with one request message and END_STREAM.
  bool Call(const std::string& method, const EchoRequest& req) {
    request_ = GrpcFrame(req.SerializeAsString());
    sent_ = 0;
    path_ = "/switchyard.test.Echo/" + method;
    std::vector<nghttp2_nv> nva = {Nv(":method", post_), Nv(":scheme", https_), Nv(":authority", host_),
                                   Nv(":path", path_), Nv("content-type", grpc_), Nv("te", trailers_)};
    nghttp2_data_provider body{};
    body.read_callback = &RawTlsH2Client::ReadBody;
    stream_id_ = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), &body, this);
    return stream_id_ > 0 && Send();
  }

  // Writes everything nghttp2 has queued.
  bool Send() {
    for (;;) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) return false;
      if (n == 0) return true;
      if (SSL_write(ssl_, data, static_cast<int>(n)) != n) return false;
    }
  }

  enum class Read { Data, Timeout, Closed };
  // One SSL_read, waiting up to timeout for the socket; answers what the
  // bytes need (window updates, SETTINGS ACK).
  Read ReadOnce(std::chrono::milliseconds timeout) {
    if (SSL_pending(ssl_) == 0) {
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
      if (ready == 0) return Read::Timeout;
      if (ready < 0) return Read::Closed;
    }
    std::array<uint8_t, 64 * 1024> buf;
    int n = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
    if (n <= 0) {
      ERR_clear_error();
      return Read::Closed;
    }
    if (nghttp2_session_mem_recv(session_, buf.data(), static_cast<size_t>(n)) < 0) return Read::Closed;
    return Send() ? Read::Data : Read::Closed;
  }

  // Bytes the kernel holds for this socket, not yet read.
  int Unread() const {
    int n = 0;
    return ioctl(fd_, FIONREAD, &n) == 0 ? n : -1;
  }
  SSL* ssl() { return ssl_; }

  std::string body;         // DATA of the call
  std::string grpc_status;  // from its trailers
  bool closed = false;      // the stream closed
  uint32_t error_code = 0;  // RST_STREAM code if it was reset

 private:
  static bool Fail(const std::string& what, std::string* error) {
    *error = what;
    ERR_clear_error();
    return false;
  }
  static ssize_t ReadBody(nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t* flags,
                          nghttp2_data_source*, void* ud) {
    auto* c = static_cast<RawTlsH2Client*>(ud);
    size_t n = std::min(len, c->request_.size() - c->sent_);
    std::memcpy(buf, c->request_.data() + c->sent_, n);
    c->sent_ += n;
    if (c->sent_ == c->request_.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  static int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                      const uint8_t* value, size_t valuelen, uint8_t, void* ud) {
    auto* c = static_cast<RawTlsH2Client*>(ud);
    if (frame->hd.stream_id == c->stream_id_ &&
        std::string_view(reinterpret_cast<const char*>(name), namelen) == "grpc-status") {
      c->grpc_status.assign(reinterpret_cast<const char*>(value), valuelen);
    }
    return 0;
  }
  static int OnData(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len, void* ud) {
    auto* c = static_cast<RawTlsH2Client*>(ud);
    if (stream_id == c->stream_id_) c->body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int OnClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* ud) {
    auto* c = static_cast<RawTlsH2Client*>(ud);
    if (stream_id == c->stream_id_) {
      c->closed = true;
      c->error_code = error_code;
    }
    return 0;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  nghttp2_session* session_ = nullptr;
  int32_t stream_id_ = -1;
  std::string request_;
  size_t sent_ = 0;
  std::string path_;
  const std::string post_ = "POST", https_ = "https", host_ = "localhost", grpc_ = "application/grpc",
                    trailers_ = "trailers";
};

// Splits a gRPC response body into its messages; false if it does not parse.
bool ParseResponses(const std::string& body, std::vector<EchoResponse>* out) {
  size_t at = 0;
  while (at < body.size()) {
    if (body.size() - at < 5 || body[at] != 0) return false;
    uint32_t len = (static_cast<uint32_t>(static_cast<uint8_t>(body[at + 1])) << 24) |
                   (static_cast<uint32_t>(static_cast<uint8_t>(body[at + 2])) << 16) |
                   (static_cast<uint32_t>(static_cast<uint8_t>(body[at + 3])) << 8) |
                   static_cast<uint32_t>(static_cast<uint8_t>(body[at + 4]));
    if (body.size() - at - 5 < len) return false;
    EchoResponse r;
    if (!r.ParseFromArray(body.data() + at + 5, static_cast<int>(len))) return false;
    out->push_back(std::move(r));
    at += 5 + len;
  }
  return true;
}

class TlsDirectIoTest : public ProxyTest {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(MakeTestPki(dir_.path(), &pki_, &error)) << error;
    backend_ = &StartBackend("backend-a");
    ProxyConfig c = DefaultConfig({backend_});
    c.listeners.front().tls_cert = pki_.server_cert.string();
    c.listeners.front().tls_key = pki_.server_key.string();
    StartProxy(c);
  }

  void ConnectRaw(RawTlsH2Client& client) {
    std::string error;
    ASSERT_TRUE(client.Connect(proxy_address(), pki_.ca_cert.string(), &error)) << error;
  }

  std::unique_ptr<switchyard::test::Echo::Stub> TlsStub() {
    ChannelOptions opts;
    opts.ca_pem = ReadFile(pki_.ca_cert);
    return EchoStub(opts);
  }

  TestPki pki_;
  Backend* backend_ = nullptr;
};

// 32 MiB server stream to a client whose windows are unlimited but which
// stops reading: the proxy writes until the socket takes no more (its
// SSL_write returns WANT_WRITE part-way through a block), stays blocked, and
// once the client reads again every message arrives intact, in order, with
// grpc-status 0.
TEST_F(TlsDirectIoTest, LargeServerStreamToStalledReaderArrivesIntact) {
  constexpr int kMessages = 256;
  constexpr int kSize = 128 * 1024;
  RawTlsH2Client client;
  ConnectRaw(client);
  EchoRequest req;
  req.set_count(kMessages);
  req.set_response_size(kSize);
  ASSERT_TRUE(client.Call("ServerStream", req));

  // Read the first MiB, then stop.
  for (int i = 0; i < 10000 && client.body.size() < (1u << 20); ++i) {
    ASSERT_NE(client.ReadOnce(10s), RawTlsH2Client::Read::Closed) << "after " << client.body.size() << " bytes";
  }
  ASSERT_GE(client.body.size(), 1u << 20);
  // Stalled: wait until the bytes waiting in the client's socket stop growing,
  // i.e. the proxy's writes are blocked.
  int last = -1, same = 0;
  bool blocked = WaitUntil(
      [&] {
        int now = client.Unread();
        same = now == last ? same + 1 : 0;
        last = now;
        return now > 0 && same >= 10;
      },
      std::chrono::milliseconds(static_cast<int>(20000 * kSanitizerSlack)), 20ms);
  ASSERT_TRUE(blocked) << "the proxy never stopped writing (unread " << last << ")";
  ASSERT_LT(static_cast<size_t>(last) + client.body.size(), static_cast<size_t>(kMessages) * kSize)
      << "the whole stream fit into the socket buffers; the proxy never blocked";

  for (int i = 0; i < 100000 && !client.closed; ++i) {
    ASSERT_EQ(client.ReadOnce(10s), RawTlsH2Client::Read::Data) << "after " << client.body.size() << " bytes";
  }
  ASSERT_TRUE(client.closed);
  EXPECT_EQ(client.error_code, 0u);
  EXPECT_EQ(client.grpc_status, "0");
  std::vector<EchoResponse> got;
  ASSERT_TRUE(ParseResponses(client.body, &got)) << "response body does not parse (" << client.body.size()
                                                 << " bytes)";
  ASSERT_EQ(got.size(), static_cast<size_t>(kMessages));
  int bad = 0;
  for (int i = 0; i < kMessages; ++i) {
    if (got[i].seq() != i || got[i].payload() != Pattern(kSize, i)) bad++;
  }
  EXPECT_EQ(bad, 0);
}

// 16 MiB each way on one bidi call over TLS, written and read at the same
// time: every echo carries exactly what was sent, in order.
TEST_F(TlsDirectIoTest, LargeBodiesBothWaysArriveIntact) {
  constexpr int kMessages = 32;
  constexpr int kSize = 512 * 1024;
  auto stub = TlsStub();
  ExpectBidiEchoesIntact(*stub, kMessages, kSize);
  // And a 16 MiB client stream on its own, checked by the backend's checksum.
  ExpectClientStreamIntact(*stub, kMessages, kSize);
}

// A client that sends close_notify while its server stream is still running
// ends that connection: the proxy closes it, the backend's call is cancelled,
// and the listener goes on serving new TLS connections.
TEST_F(TlsDirectIoTest, CloseNotifyMidStreamEndsTheConnectionAndItsCall) {
  RawTlsH2Client client;
  ConnectRaw(client);
  EchoRequest req;
  req.set_count(100000);
  req.set_interval_ms(10);
  req.set_response_size(16);
  ASSERT_TRUE(client.Call("ServerStream", req));
  for (int i = 0; i < 1000 && client.body.empty(); ++i) {
    ASSERT_EQ(client.ReadOnce(10s), RawTlsH2Client::Read::Data);
  }
  ASSERT_FALSE(client.body.empty());
  const int64_t cancelled_before = backend_->Stats().cancellations();

  ASSERT_GE(SSL_shutdown(client.ssl()), 0);  // close_notify; the stream is still open
  bool closed = false;
  for (int i = 0; i < 100000 && !closed; ++i) {
    auto r = client.ReadOnce(10s);
    ASSERT_NE(r, RawTlsH2Client::Read::Timeout) << "the proxy kept the connection open";
    closed = r == RawTlsH2Client::Read::Closed;
  }
  EXPECT_TRUE(closed);
  EXPECT_TRUE(WaitUntil([&] { return backend_->Stats().cancellations() > cancelled_before; }, 10s))
      << "the backend's call was not cancelled";

  auto stub = TlsStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  EchoRequest hello;
  hello.set_payload("after close_notify");
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, hello, &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(resp.payload(), "after close_notify");
}

}  // namespace
}  // namespace sytest
