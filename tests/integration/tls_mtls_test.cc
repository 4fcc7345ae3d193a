// Mutual TLS at the edge: tls.client_auth none/optional/require with a
// client CA and CRL, routes that require a verified certificate with an
// allowlist of SANs (UNAUTHENTICATED / PERMISSION_DENIED, Trailers-Only), and
// x-forwarded-client-cert built from the verified certificate only.
#include "tls_support.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class MtlsTest : public TlsProxyTest {
 protected:
  // One listener with client_auth `auth`; billing (Echo) requires a billing
  // SAN, Greeter needs no certificate.
  void Start(const std::string& auth, bool forward = false) {
    Backend& b = StartBackend("backend-a");
    access_log_ = (dir_.path() / "access.log").string();
    StartYaml("workers: 2\n"
              "admin: { address: \"@ADMIN@\" }\n"
              "logging: { access_log: \"" + access_log_ + "\", access_log_format: json }\n"
              "listeners:\n"
              "  - name: public\n"
              "    address: \"@LISTEN@\"\n"
              "    tls:\n"
              "      cert: \"" + pki_.Crt("server") + "\"\n"
              "      key: \"" + pki_.Key("server") + "\"\n"
              "      client_ca: \"" + pki_.Crt("ca") + "\"\n"
              "      crl: \"" + pki_.Crl("ca") + "\"\n"
              "      client_auth: " + auth + "\n"
              "      forward_client_cert: " + (forward ? "true" : "false") + "\n"
              "routes:\n"
              "  - match: { service: switchyard.test.Echo }\n"
              "    cluster: echo\n"
              "    require_client_cert: true\n"
              "    allowed_sans: [\"spiffe://prod/ns/billing/*\"]\n"
              "  - match: { service: helloworld.Greeter }\n"
              "    cluster: echo\n"
              "clusters:\n"
              "  - name: echo\n"
              "    endpoints: [\"" + b.address + "\"]\n");
  }
  std::shared_ptr<grpc::Channel> Client(const std::string& cert) {
    if (cert.empty()) return TlsChannel(proxy_address(), pki_.Pem("ca"));
    return TlsChannel(proxy_address(), pki_.Pem("ca"), pki_.Pem(cert), pki_.KeyPem(cert));
  }
  // Handshake with a certificate (or none); true if the proxy accepted it.
  bool Accepted(const std::string& cert) {
    ProbeOptions o;
    o.wait_for_close = true;
    if (!cert.empty()) {
      o.client_cert = pki_.Crt(cert);
      o.client_key = pki_.Key(cert);
    }
    ProbeResult r = TlsProbe(proxy_address(), o);
    return r.handshake_ok && !r.closed_by_server;
  }
  double LocalErrors(const std::string& cause) {
    return MetricValue("switchyard_local_errors_total", {{"cause", cause}});
  }
  // The access-log lines holding every string in `want`, once at least
  // `lines` lines were written (the log is flushed in batches).
  std::vector<std::string> LogLines(size_t lines, const std::vector<std::string>& want) {
    std::vector<std::string> all;
    WaitUntil([&] {
      all = SplitLines(ReadFile(access_log_));
      return all.size() >= lines;
    }, 5000ms, 20ms);
    std::vector<std::string> out;
    for (const auto& l : all) {
      bool match = true;
      for (const auto& w : want) match = match && l.find(w) != std::string::npos;
      if (match) out.push_back(l);
    }
    return out;
  }
  static std::vector<std::string> SplitLines(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) break;
      out.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }
  std::string access_log_;
  double Handshakes(const std::string& result) {
    return MetricValue("switchyard_tls_handshakes_total", {{"listener", "public"}, {"result", result}});
  }
  grpc::Status Greet(const std::shared_ptr<grpc::Channel>& ch) {
    auto stub = helloworld::Greeter::NewStub(ch);
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    helloworld::HelloRequest req;
    req.set_name("x");
    helloworld::HelloReply reply;
    return stub->SayHello(&ctx, req, &reply);
  }
};

void ExpectAllFourKinds(const std::shared_ptr<grpc::Channel>& ch) {
  auto stub = switchyard::test::Echo::NewStub(ch);
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoRequest req;
    req.set_payload("u");
    EchoResponse resp;
    grpc::Status s = stub->Unary(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
    EXPECT_EQ(resp.payload(), "u");
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoRequest req;
    req.set_count(3);
    auto reader = stub->ServerStream(&ctx, req);
    EchoResponse resp;
    int n = 0;
    while (n < 10 && reader->Read(&resp)) ++n;
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(n, 3);
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    EchoResponse resp;
    auto writer = stub->ClientStream(&ctx, &resp);
    EchoRequest req;
    req.set_payload("c");
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(writer->Write(req));
    writer->WritesDone();
    EXPECT_TRUE(writer->Finish().ok());
    EXPECT_EQ(resp.received_messages(), 3);
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10s));
    auto stream = stub->Bidi(&ctx);
    EchoRequest req;
    req.set_payload("b");
    EchoResponse resp;
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(stream->Write(req));
      ASSERT_TRUE(stream->Read(&resp));
      EXPECT_EQ(resp.payload(), "b");
    }
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
}

TEST_F(MtlsTest, RequireWithGoodCertificateCarriesAllFourKinds) {
  Start("require");
  ExpectAllFourKinds(Client("client"));
  EXPECT_GE(Handshakes("ok"), 1);
}

TEST_F(MtlsTest, RequireRejectsMissingUnknownExpiredAndRevokedCertificates) {
  Start("require");
  EXPECT_FALSE(Accepted(""));
  EXPECT_FALSE(Accepted("client-unknown"));
  EXPECT_FALSE(Accepted("client-expired"));
  EXPECT_FALSE(Accepted("client-revoked"));
  EXPECT_TRUE(Accepted("client"));
  EXPECT_FALSE(Greet(Client("")).ok());
  EXPECT_TRUE(Greet(Client("client")).ok());
  EXPECT_TRUE(WaitUntil([&] { return Handshakes("no_client_cert") >= 1 && Handshakes("bad_client_cert") >= 3; },
                        5000ms, 50ms))
      << Metrics();
}

TEST_F(MtlsTest, OptionalLetsAnonymousClientsInButRoutesStillRequireACertificate) {
  Start("optional");
  std::multimap<std::string, std::string> trailers;
  grpc::Status s = Unary(Client(""), &trailers);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_NE(s.error_message().find("requires a verified client certificate"), std::string::npos);
  EXPECT_EQ(trailers.count("x-backend"), 0u) << "the backend must not see the call";
  EXPECT_TRUE(Greet(Client("")).ok());  // a route without the requirement
  EXPECT_TRUE(Unary(Client("client")).ok());
  EXPECT_FALSE(Accepted("client-unknown"));  // a certificate, if sent, must verify
}

TEST_F(MtlsTest, CertificateOutsideTheAllowlistIsPermissionDenied) {
  Start("require");
  grpc::Status s = Unary(Client("client-other"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_NE(s.error_message().find("spiffe://prod/ns/other/sa/x"), std::string::npos) << s.error_message();
  EXPECT_TRUE(Greet(Client("client-other")).ok());
}

// Refusals by require_client_cert / allowed_sans are the proxy's own answers:
// each is counted under its cause, and every access-log line carries the
// verified identity when there is one.
TEST_F(MtlsTest, RefusalsAreCountedAndTheAccessLogNamesTheClient) {
  Start("optional");
  const double required_before = LocalErrors("client_cert_required");
  const double denied_before = LocalErrors("client_cert_not_allowed");
  EXPECT_EQ(Unary(Client("")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Unary(Client("client-other")).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Unary(Client("client-other")).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Unary(Client("client")).ok());
  EXPECT_TRUE(Greet(Client("")).ok());
  EXPECT_TRUE(WaitUntil([&] {
    return LocalErrors("client_cert_required") == required_before + 1 &&
           LocalErrors("client_cert_not_allowed") == denied_before + 2;
  }, 5000ms, 20ms)) << Metrics();
  EXPECT_EQ(LocalErrors("no_route"), 0);

  const std::string echo = "\"path\":\"/switchyard.test.Echo/Unary\"";
  EXPECT_EQ(LogLines(5, {echo, "\"grpc_status\":16", "\"client_identity\":null"}).size(), 1u);
  EXPECT_EQ(LogLines(5, {echo, "\"grpc_status\":7",
                         "\"client_identity\":\"spiffe://prod/ns/other/sa/x\""}).size(), 2u);
  EXPECT_EQ(LogLines(5, {echo, "\"grpc_status\":0",
                         "\"client_identity\":\"spiffe://prod/ns/billing/sa/api\""}).size(), 1u);
  EXPECT_EQ(LogLines(5, {"SayHello", "\"grpc_status\":0", "\"client_identity\":null"}).size(), 1u)
      << ReadFile(access_log_);
}

TEST_F(MtlsTest, BackendSeesTheVerifiedIdentityAndNeverAForgedOne) {
  Start("require", /*forward=*/true);
  std::multimap<std::string, std::string> trailers;
  grpc::Status s = Unary(Client("client"), &trailers, {{"x-forwarded-client-cert", "URI=spiffe://forged"}});
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(trailers.count("x-forwarded-client-cert"), 1u);
  std::string xfcc = trailers.find("x-forwarded-client-cert")->second;
  EXPECT_NE(xfcc.find("URI=spiffe://prod/ns/billing/sa/api"), std::string::npos) << xfcc;
  EXPECT_NE(xfcc.find("Hash="), std::string::npos) << xfcc;
  EXPECT_NE(xfcc.find("Subject=\"CN=billing,O=Switchyard Test\""), std::string::npos) << xfcc;
  EXPECT_EQ(xfcc.find("forged"), std::string::npos) << xfcc;
}

TEST_F(MtlsTest, ForgedHeaderIsStrippedWhenForwardingIsOff) {
  Start("require", /*forward=*/false);
  std::multimap<std::string, std::string> trailers;
  grpc::Status s = Unary(Client("client"), &trailers, {{"x-forwarded-client-cert", "URI=spiffe://forged"}});
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(trailers.count("x-forwarded-client-cert"), 0u);
}

}  // namespace
}  // namespace sytest
