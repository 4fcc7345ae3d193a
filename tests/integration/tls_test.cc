// TLS listener: a CA and server certificate are made at test time; gRPC over
// TLS negotiates h2 via ALPN, and cleartext clients are refused.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class TlsTest : public ProxyTest {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(MakeTestPki(dir_.path(), &pki_, &error)) << error;
    ca_pem_ = ReadFile(pki_.ca_cert);
    Backend& b = StartBackend("backend-a");
    ProxyConfig c = DefaultConfig({&b});
    c.listeners.front().tls_cert = pki_.server_cert.string();
    c.listeners.front().tls_key = pki_.server_key.string();
    StartProxy(c);
  }

  grpc::Status TlsUnary(EchoResponse* resp) {
    ChannelOptions opts;
    opts.ca_pem = ca_pem_;
    auto stub = EchoStub(opts);
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoRequest req;
    req.set_payload("over tls");
    return stub->Unary(&ctx, req, resp);
  }

  TestPki pki_;
  std::string ca_pem_;
};

// A gRPC client trusting only the test CA (target name "localhost") completes
// a call through the TLS listener.
TEST_F(TlsTest, GrpcOverTlsSucceeds) {
  EchoResponse resp;
  grpc::Status s = TlsUnary(&resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(resp.payload(), "over tls");
  EXPECT_EQ(resp.backend(), "backend-a");
}

// The TLS handshake verifies against the test CA for "localhost" and ALPN
// selects h2.
TEST_F(TlsTest, HandshakeNegotiatesAlpnH2) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_NE(ctx, nullptr);
  ASSERT_EQ(SSL_CTX_load_verify_locations(ctx, pki_.ca_cert.c_str(), nullptr), 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  static const unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  ASSERT_EQ(SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn), 0);
  int fd = ConnectTcp(proxy_address());
  ASSERT_GE(fd, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  SSL_set1_host(ssl, "localhost");
  int rc = SSL_connect(ssl);
  char err[256] = {0};
  ERR_error_string_n(ERR_get_error(), err, sizeof err);
  EXPECT_EQ(rc, 1) << "handshake failed: " << err;
  if (rc == 1) {
    EXPECT_EQ(SSL_get_verify_result(ssl), X509_V_OK);
    const unsigned char* proto = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &proto, &len);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(proto), len), "h2");
  }
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
}

// A cleartext (h2c) client on the TLS port fails, and does not disturb the
// listener: a TLS client still succeeds afterwards.
TEST_F(TlsTest, CleartextClientOnTlsPortFails) {
  auto stub = EchoStub();  // insecure
  grpc::ClientContext ctx;
  ctx.set_deadline(In(3s));
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, EchoRequest(), &resp);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(backends_.front()->Calls("Unary"), 0);
  EchoResponse tls_resp;
  grpc::Status ok = TlsUnary(&tls_resp);
  EXPECT_TRUE(ok.ok()) << ok.error_code() << ": " << ok.error_message();
}

// A client that does not trust the CA is rejected by its own verification
// (the proxy serves the configured certificate, not some other one).
TEST_F(TlsTest, UntrustedClientRejectsCertificate) {
  TempDir other;
  TestPki other_pki;
  std::string error;
  ASSERT_TRUE(MakeTestPki(other.path(), &other_pki, &error)) << error;
  ChannelOptions opts;
  opts.ca_pem = ReadFile(other_pki.ca_cert);
  auto stub = EchoStub(opts);
  grpc::ClientContext ctx;
  ctx.set_deadline(In(3s));
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, EchoRequest(), &resp);
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace sytest
