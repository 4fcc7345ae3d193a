// Upstream TLS on the direct socket I/O path: once the handshake with a TLS
// backend is done, the proxy SSL_reads and SSL_writes that socket itself
// (http2/tls_io.h). These tests take that path where it can lose bytes or
// hang: large bodies both ways through a TLS backend (flow control and partial
// writes), a backend that dies mid-stream, and one that sends close_notify
// with a stream still open. Each failure costs only the calls on that backend.
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <array>
#include <atomic>
#include <csignal>
#include <string_view>
#include <thread>

#include "tls_support.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

// A TLS HTTP/2 backend that answers every request with response headers and
// one empty gRPC message, then sends close_notify with the stream still open
// and keeps the TCP connection until the proxy closes it.
class CloseNotifyBackend {
 public:
  CloseNotifyBackend(const std::string& cert, const std::string& key) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (ctx_ == nullptr || SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return;
    }
    SSL_CTX_set_alpn_select_cb(ctx_, &CloseNotifyBackend::SelectH2, nullptr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      if (fd >= 0) close(fd);
      return;
    }
    listen_fd_ = fd;
    address_ = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
    thread_ = std::thread([this] { Run(); });
  }
  ~CloseNotifyBackend() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) close(listen_fd_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }
  CloseNotifyBackend(const CloseNotifyBackend&) = delete;
  CloseNotifyBackend& operator=(const CloseNotifyBackend&) = delete;

  bool ok() const { return listen_fd_ >= 0; }
  const std::string& address() const { return address_; }
  int closeNotifiesSent() const { return close_notifies_.load(); }
  // Connections the proxy closed after our close_notify.
  int closedByProxy() const { return closed_by_proxy_.load(); }

 private:
  static int SelectH2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                      unsigned int inlen, void*) {
    static const unsigned char kH2[] = {2, 'h', '2'};
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, outlen, kH2, sizeof kH2, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
      return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  struct Session {
    nghttp2_session* h2 = nullptr;
    bool answered = false;
    bool body_sent = false;
  };
  static int OnFrameRecv(nghttp2_session* h2, const nghttp2_frame* frame, void* ud) {
    auto* s = static_cast<Session*>(ud);
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST && !s->answered) {
      s->answered = true;
      static const std::string kStatus = ":status", k200 = "200", kType = "content-type",
                               kGrpc = "application/grpc";
      nghttp2_nv nva[] = {
          {reinterpret_cast<uint8_t*>(const_cast<char*>(kStatus.data())),
           reinterpret_cast<uint8_t*>(const_cast<char*>(k200.data())), kStatus.size(), k200.size(),
           NGHTTP2_NV_FLAG_NONE},
          {reinterpret_cast<uint8_t*>(const_cast<char*>(kType.data())),
           reinterpret_cast<uint8_t*>(const_cast<char*>(kGrpc.data())), kType.size(), kGrpc.size(),
           NGHTTP2_NV_FLAG_NONE}};
      nghttp2_data_provider body{};
      body.read_callback = &CloseNotifyBackend::OneEmptyMessage;
      nghttp2_submit_response(h2, frame->hd.stream_id, nva, 2, &body);
    }
    return 0;
  }
  static ssize_t OneEmptyMessage(nghttp2_session*, int32_t, uint8_t* buf, size_t len, uint32_t*,
                                 nghttp2_data_source*, void* ud) {
    auto* s = static_cast<Session*>(ud);
    if (s->body_sent || len < 5) return NGHTTP2_ERR_DEFERRED;  // the stream stays open
    std::fill(buf, buf + 5, 0);
    s->body_sent = true;
    return 5;
  }
  static bool SendAll(SSL* ssl, nghttp2_session* h2) {
    for (;;) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(h2, &data);
      if (n < 0) return false;
      if (n == 0) return true;
      if (SSL_write(ssl, data, static_cast<int>(n)) != n) return false;
    }
  }

  void Run() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 10) <= 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval tv{0, 20 * 1000};  // each read waits at most 20 ms, so stop_ is seen
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      Serve(fd);
      close(fd);
    }
  }

  // One connection, until the proxy closes it after our close_notify (or stop_).
  void Serve(int fd) {
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, fd);
    int rv = 0;
    for (int i = 0; i < 500 && !stop_ && (rv = SSL_accept(ssl)) != 1; ++i) {
      int e = SSL_get_error(ssl, rv);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) break;
    }
    Session s;
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &CloseNotifyBackend::OnFrameRecv);
    nghttp2_session_server_new(&s.h2, cbs, &s);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(s.h2, NGHTTP2_FLAG_NONE, nullptr, 0);
    bool shut = false;
    std::array<uint8_t, 16384> buf;
    // Bounded: 20 ms per idle read, at most ~60 s on one connection.
    for (int idle = 0; rv == 1 && !stop_ && idle < 3000;) {
      if (!shut && !SendAll(ssl, s.h2)) break;
      if (!shut && s.body_sent) {
        SSL_shutdown(ssl);  // close_notify, the stream open
        shut = true;
        ++close_notifies_;
      }
      int n = SSL_read(ssl, buf.data(), static_cast<int>(buf.size()));
      if (n > 0) {
        if (!shut && nghttp2_session_mem_recv(s.h2, buf.data(), static_cast<size_t>(n)) < 0) break;
        continue;
      }
      int e = SSL_get_error(ssl, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        ++idle;
        continue;
      }
      if (shut) ++closed_by_proxy_;
      break;
    }
    ERR_clear_error();
    nghttp2_session_del(s.h2);
    SSL_free(ssl);
  }

  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  std::string address_;
  std::atomic<bool> stop_{false};
  std::atomic<int> close_notifies_{0};
  std::atomic<int> closed_by_proxy_{0};
  std::thread thread_;
};

class TlsUpstreamDirectIoTest : public TlsProxyTest {
 protected:
  // Echo goes to cluster "echo" at echo_backend, Greeter to cluster "greeter"
  // at greeter_backend; both over verified TLS.
  std::string Yaml(const std::string& echo_backend, const std::string& greeter_backend) {
    const std::string tls = "{ ca: \"" + pki_.Crt("backend-ca") + "\", server_name: backend.internal }";
    return "workers: 1\n"
           "admin: { address: \"@ADMIN@\" }\n"
           "listeners:\n"
           "  - name: public\n"
           "    address: \"@LISTEN@\"\n"
           "routes:\n"
           "  - match: { service: switchyard.test.Echo }\n"
           "    cluster: echo\n"
           "  - match: { service: helloworld.Greeter }\n"
           "    cluster: greeter\n"
           "clusters:\n"
           "  - name: echo\n"
           "    endpoints: [\"" + echo_backend + "\"]\n"
           "    max_transparent_retries: 0\n"
           "    tls: " + tls + "\n"
           "  - name: greeter\n"
           "    endpoints: [\"" + greeter_backend + "\"]\n"
           "    max_transparent_retries: 0\n"
           "    tls: " + tls + "\n";
  }
  std::unique_ptr<switchyard::test::Echo::Stub> Echo() { return EchoStub(); }
  grpc::Status Hello(const std::string& name) {
    auto stub = helloworld::Greeter::NewStub(MakeChannel(proxy_address()));
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    helloworld::HelloRequest req;
    req.set_name(name);
    helloworld::HelloReply reply;
    return stub->SayHello(&ctx, req, &reply);
  }
};

// 16 MiB each way on one bidi call through a TLS backend, written and read at
// the same time, then a 16 MiB client stream checked by the backend's
// checksum and a 16 MiB server stream: every byte arrives, in order.
TEST_F(TlsUpstreamDirectIoTest, LargeBodiesBothWaysThroughATlsBackendArriveIntact) {
  Backend b = StartTlsBackend(dir_, "tls-big", pki_.Crt("backend"), pki_.Key("backend"));
  StartYaml(Yaml(b.address, b.address));
  constexpr int kMessages = 32;
  constexpr int kSize = 512 * 1024;
  auto stub = Echo();
  ExpectBidiEchoesIntact(*stub, kMessages, kSize);
  ExpectClientStreamIntact(*stub, kMessages, kSize);
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(60s));
    EchoRequest req;
    req.set_count(kMessages);
    req.set_response_size(kSize);
    auto down = stub->ServerStream(&ctx, req);
    int n = 0, wrong_size = 0;
    EchoResponse resp;
    while (n < kMessages + 1 && down->Read(&resp)) {
      if (resp.payload().size() != static_cast<size_t>(kSize)) wrong_size++;
      n++;
    }
    grpc::Status s = down->Finish();
    ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
    EXPECT_EQ(n, kMessages);
    EXPECT_EQ(wrong_size, 0);
  }
}

// A TLS backend killed with streams open (no close_notify, the socket just
// ends): those calls fail UNAVAILABLE; calls to another TLS backend, on their
// own connection, go on.
TEST_F(TlsUpstreamDirectIoTest, BackendDyingMidStreamFailsOnlyItsCalls) {
  Backend dying = StartTlsBackend(dir_, "tls-dying", pki_.Crt("backend"), pki_.Key("backend"));
  Backend other = StartTlsBackend(dir_, "tls-other", pki_.Crt("backend"), pki_.Key("backend"));
  StartYaml(Yaml(dying.address, other.address));
  ASSERT_TRUE(Hello("before").ok());

  auto stub = Echo();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(30s));
  EchoRequest req;
  req.set_count(100000);
  req.set_interval_ms(10);
  req.set_response_size(16);
  auto stream = stub->ServerStream(&ctx, req);
  EchoResponse resp;
  ASSERT_TRUE(stream->Read(&resp));  // the stream is running through the TLS backend
  dying.process->signal(SIGKILL);
  int n = 0;
  while (n < 100000 && stream->Read(&resp)) n++;
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();

  grpc::Status after = Hello("after");
  EXPECT_TRUE(after.ok()) << after.error_code() << ": " << after.error_message();
}

// A TLS backend that sends close_notify while a stream is open: the proxy
// closes that connection and fails the call UNAVAILABLE; the other cluster's
// TLS backend keeps serving.
TEST_F(TlsUpstreamDirectIoTest, BackendCloseNotifyMidStreamFailsTheCallAsUnavailable) {
  CloseNotifyBackend closing(pki_.Crt("backend"), pki_.Key("backend"));
  ASSERT_TRUE(closing.ok());
  Backend other = StartTlsBackend(dir_, "tls-other", pki_.Crt("backend"), pki_.Key("backend"));
  StartYaml(Yaml(closing.address(), other.address));
  ASSERT_TRUE(Hello("before").ok());

  auto stub = Echo();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(30s));
  EchoRequest req;
  req.set_count(10);
  auto stream = stub->ServerStream(&ctx, req);
  EchoResponse resp;
  int n = 0;
  while (n < 10 && stream->Read(&resp)) n++;
  grpc::Status s = stream->Finish();
  // The one message sent before close_notify is relayed; the client library
  // may drop it when the error status arrives in the same read.
  EXPECT_LE(n, 1);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_GE(closing.closeNotifiesSent(), 1);
  EXPECT_TRUE(WaitUntil([&] { return closing.closedByProxy() >= 1; }, 10s))
      << "the proxy kept the connection open after close_notify";

  grpc::Status after = Hello("after");
  EXPECT_TRUE(after.ok()) << after.error_code() << ": " << after.error_message();
}

}  // namespace
}  // namespace sytest
