// Session resumption toward TLS backends, seen from the backend's side: a TLS
// front in the test (OpenSSL, ALPN h2, the backend certificate) counts full
// and resumed handshakes and relays the bytes to a cleartext gRPC backend.
// When the front drops the proxy's connection, the next connection must offer
// the session it got (clusters[].tls.session_resumption, on by default), and
// must not when resumption is off.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "tls_support.h"

namespace sytest {
namespace {

int SelectH2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
             void*) {
  static const unsigned char kH2[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kH2, sizeof kH2, in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

class TlsFront {
 public:
  TlsFront(const Pki& pki, std::string backend) : backend_(std::move(backend)) {
    // A write to a peer that already closed (the proxy, or the backend) must
    // end that relay, not the test program.
    std::signal(SIGPIPE, SIG_IGN);
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(ctx_, pki.Crt("backend").c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, pki.Key("backend").c_str(), SSL_FILETYPE_PEM);
    static const unsigned char kContext[] = "tls-front";
    SSL_CTX_set_session_id_context(ctx_, kContext, sizeof kContext - 1);
    SSL_CTX_set_alpn_select_cb(ctx_, SelectH2, nullptr);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TlsFront() {
    stop_ = true;
    if (accept_thread_.joinable()) accept_thread_.join();
    DropAll();
    for (auto& t : conn_threads_) t.join();
    ::close(listen_fd_);
    SSL_CTX_free(ctx_);
  }
  const std::string& address() const { return address_; }
  int handshakes() const { return handshakes_.load(); }
  int resumed() const { return resumed_.load(); }
  int open() const { return open_.load(); }
  // Ends every relayed connection (the proxy sees its backend close).
  void DropAll() {
    std::lock_guard<std::mutex> g(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> g(mu_);
      fds_.insert(fd);
      ++open_;
      conn_threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }
  void Serve(int fd) {
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, fd);
    int backend_fd = -1;
    if (SSL_accept(ssl) == 1) {
      ++handshakes_;
      if (SSL_session_reused(ssl) == 1) ++resumed_;
      backend_fd = ConnectTcp(backend_);
    }
    char buf[16384];
    for (int rounds = 0; backend_fd >= 0 && !stop_ && rounds < 1000000; ++rounds) {
      pollfd p[2] = {{fd, POLLIN, 0}, {backend_fd, POLLIN, 0}};
      int ready = ::poll(p, 2, SSL_pending(ssl) > 0 ? 0 : 50);
      if (ready < 0) break;
      if (SSL_pending(ssl) > 0 || p[0].revents != 0) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0 || !WriteAll(backend_fd, buf, static_cast<size_t>(n))) break;
      }
      if (p[1].revents != 0) {
        ssize_t n = ::read(backend_fd, buf, sizeof buf);
        if (n <= 0 || SSL_write(ssl, buf, static_cast<int>(n)) <= 0) break;
      }
    }
    // Freed without close_notify, OpenSSL would drop the session from its cache.
    SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(ssl);
    if (backend_fd >= 0) ::close(backend_fd);
    {
      std::lock_guard<std::mutex> g(mu_);
      fds_.erase(fd);
      --open_;
    }
    ::close(fd);
  }

  std::string backend_;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  std::string address_;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshakes_{0};
  std::atomic<int> resumed_{0};
  std::atomic<int> open_{0};
  std::mutex mu_;
  std::set<int> fds_;
  std::vector<std::thread> conn_threads_;
  std::thread accept_thread_;
};

class TlsUpstreamResumptionTest : public TlsProxyTest {
 protected:
  void Start(const std::string& resumption) {
    Backend& b = StartBackend("plain");
    front_ = std::make_unique<TlsFront>(pki_, b.address);
    ASSERT_FALSE(front_->address().empty());
    StartYaml("workers: 1\n"
              "admin: { address: \"@ADMIN@\" }\n"
              "listeners:\n"
              "  - name: public\n"
              "    address: \"@LISTEN@\"\n"
              "routes:\n"
              "  - match: { service: switchyard.test.Echo }\n"
              "    cluster: secure\n"
              "clusters:\n"
              "  - name: secure\n"
              "    endpoints: [\"" + front_->address() + "\"]\n"
              "    tls: { ca: \"" + pki_.Crt("backend-ca") + "\", server_name: backend.internal" + resumption +
              " }\n");
  }
  // One RPC through the proxy; after the front dropped the connection the
  // proxy may first learn it on this call, so a few attempts are allowed.
  void CallUntilOk() {
    auto ch = MakeChannel(proxy_address());
    grpc::Status s;
    for (int i = 0; i < 5; ++i) {
      s = Unary(ch);
      if (s.ok()) return;
    }
    FAIL() << s.error_code() << " " << s.error_message();
  }
  // Two backend connections, the second after the first was dropped.
  void TwoConnections() {
    CallUntilOk();
    ASSERT_TRUE(WaitUntil([&] { return front_->handshakes() == 1; }, 5000ms, 10ms));
    front_->DropAll();
    ASSERT_TRUE(WaitUntil([&] { return front_->open() == 0; }, 5000ms, 10ms));
    CallUntilOk();
    ASSERT_TRUE(WaitUntil([&] { return front_->handshakes() >= 2; }, 5000ms, 10ms));
  }
  void TearDown() override {
    TlsProxyTest::TearDown();  // the proxy first, so the front's threads see their peers go
    front_.reset();
  }
  std::unique_ptr<TlsFront> front_;
};

TEST_F(TlsUpstreamResumptionTest, SecondConnectionResumesTheSession) {
  Start("");
  TwoConnections();
  EXPECT_EQ(front_->handshakes(), 2);
  EXPECT_EQ(front_->resumed(), 1) << "the proxy's second connection to the backend did a full handshake";
}

TEST_F(TlsUpstreamResumptionTest, NoResumptionWhenTurnedOff) {
  Start(", session_resumption: false");
  TwoConnections();
  EXPECT_EQ(front_->handshakes(), 2);
  EXPECT_EQ(front_->resumed(), 0);
}

}  // namespace
}  // namespace sytest
