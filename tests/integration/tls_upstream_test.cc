// TLS toward backends (clusters[].tls): real gRPC C++ backends serving TLS,
// one requiring a client certificate. Verified backends carry RPCs; a wrong
// name or an unknown CA never does, and the client sees UNAVAILABLE naming
// the TLS cause. A reload swaps the backend CA and the client CA for new
// connections while existing ones keep working.
#include "ops_support.h"
#include "tls_support.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class TlsUpstreamTest : public TlsProxyTest {
 protected:
  std::string Yaml(const std::string& backend, const std::string& cluster_tls,
                   const std::string& listener_tls = "") {
    return "workers: 1\n"
           "admin: { address: \"@ADMIN@\" }\n"
           "listeners:\n"
           "  - name: public\n"
           "    address: \"@LISTEN@\"\n" + listener_tls +
           "routes:\n"
           "  - match: { service: switchyard.test.Echo }\n"
           "    cluster: secure\n"
           "clusters:\n"
           "  - name: secure\n"
           "    endpoints: [\"" + backend + "\"]\n"
           "    max_transparent_retries: 0\n"
           "    tls: " + cluster_tls + "\n";
  }
  std::string Ca(const std::string& name) { return "\"" + pki_.Crt(name) + "\""; }
  std::shared_ptr<grpc::Channel> Plain() { return MakeChannel(proxy_address()); }
  // Calls the backend's own Control service over TLS: how many Unary calls it saw.
  int64_t BackendUnaryCalls(const Backend& b, const std::string& ca, const std::string& name,
                            const std::string& cert = "") {
    auto ch = TlsChannel(b.address, pki_.Pem(ca), cert.empty() ? "" : pki_.Pem(cert),
                         cert.empty() ? "" : pki_.KeyPem(cert), name);
    auto stub = switchyard::test::Control::NewStub(ch);
    grpc::ClientContext ctx;
    ctx.set_deadline(In(5s));
    switchyard::test::StatsResponse resp;
    grpc::Status s = stub->Stats(&ctx, switchyard::test::StatsRequest(), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.calls().count("Unary") ? resp.calls().at("Unary") : 0;
  }
};

TEST_F(TlsUpstreamTest, VerifiedBackendCarriesRpcs) {
  Backend b = StartTlsBackend(dir_, "tls-a", pki_.Crt("backend"), pki_.Key("backend"));
  StartYaml(Yaml(b.address, "{ ca: " + Ca("backend-ca") + ", server_name: backend.internal }"));
  std::multimap<std::string, std::string> trailers;
  grpc::Status s = Unary(Plain(), &trailers);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_EQ(trailers.find("x-backend")->second, "tls-a");
  EXPECT_EQ(BackendUnaryCalls(b, "backend-ca", "backend.internal"), 1);
}

TEST_F(TlsUpstreamTest, DefaultServerNameIsTheEndpointHost) {
  Backend b = StartTlsBackend(dir_, "tls-a", pki_.Crt("backend"), pki_.Key("backend"));
  StartYaml(Yaml(b.address, "{ ca: " + Ca("backend-ca") + " }"));  // 127.0.0.1 is an IP SAN
  grpc::Status s = Unary(Plain());
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
}

TEST_F(TlsUpstreamTest, WrongNameGetsNoRpcAndTheClientSeesWhy) {
  Backend b = StartTlsBackend(dir_, "tls-wrong", pki_.Crt("backend-wrong"), pki_.Key("backend-wrong"));
  StartYaml(Yaml(b.address, "{ ca: " + Ca("backend-ca") + ", server_name: backend.internal }"));
  grpc::Status s = Unary(Plain());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("TLS handshake failed"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("hostname mismatch"), std::string::npos) << s.error_message();
  EXPECT_EQ(BackendUnaryCalls(b, "backend-ca", "wrong.internal"), 0);
  EXPECT_GE(MetricValue("switchyard_upstream_tls_handshake_failures_total", {{"cluster", "secure"}}), 1);
  EXPECT_NE((proxy()->out() + proxy()->err()).find("cause=tls_handshake"), std::string::npos);
}

TEST_F(TlsUpstreamTest, UnknownCaGetsNoRpc) {
  Backend b = StartTlsBackend(dir_, "tls-other", pki_.Crt("backend2"), pki_.Key("backend2"));
  StartYaml(Yaml(b.address, "{ ca: " + Ca("backend-ca") + ", server_name: backend.internal }"));
  grpc::Status s = Unary(Plain());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("certificate verify failed"), std::string::npos) << s.error_message();
  EXPECT_EQ(BackendUnaryCalls(b, "backend-ca2", "backend.internal"), 0);
}

// A TLS server that does not speak HTTP/2 (openssl s_server without h2 in ALPN):
// the failure is the TLS handshake's, not the TCP connect's.
TEST_F(TlsUpstreamTest, BackendThatDoesNotSelectH2IsRefusedWithAClearMessage) {
  ProcessGuard server({"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", pki_.Crt("backend"), "-key",
                       pki_.Key("backend"), "-alpn", "http/1.1", "-www"},
                      dir_ / "s_server.out", dir_ / "s_server.err");
  // s_server binds port 0 and prints "ACCEPT 127.0.0.1:PORT" once it listens.
  std::string address;
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::string out = server.out();
        auto pos = out.find("ACCEPT ");
        auto nl = out.find('\n', pos == std::string::npos ? 0 : pos);
        if (pos == std::string::npos || nl == std::string::npos) return !server.running();
        address = out.substr(pos + 7, nl - pos - 7);
        return true;
      },
      10000ms))
      << server.err();
  ASSERT_FALSE(address.empty()) << "s_server did not start: " << server.err();
  StartYaml(Yaml(address, "{ ca: " + Ca("backend-ca") + " }"));
  grpc::Status s = Unary(Plain());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  // s_server refuses with a no_application_protocol alert.
  EXPECT_NE(s.error_message().find("TLS handshake failed"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("no application protocol"), std::string::npos) << s.error_message();
  EXPECT_EQ(server.out().find("PRI * HTTP/2.0"), std::string::npos) << "no HTTP/2 bytes may reach it";
}

TEST_F(TlsUpstreamTest, RefusedConnectIsAttributedToConnect) {
  ClosedPort closed;
  StartYaml(Yaml(closed.address(), "{ ca: " + Ca("backend-ca") + " }"));
  grpc::Status s = Unary(Plain());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("connect failed"), std::string::npos) << s.error_message();
  EXPECT_EQ(s.error_message().find("TLS"), std::string::npos) << s.error_message();
}

TEST_F(TlsUpstreamTest, BackendRequiringAClientCertificate) {
  Backend b = StartTlsBackend(dir_, "tls-mtls", pki_.Crt("backend"), pki_.Key("backend"), pki_.Crt("backend-ca"));
  StartYaml(Yaml(b.address, "{ ca: " + Ca("backend-ca") + ", server_name: backend.internal, cert: \"" +
                                pki_.Crt("edge") + "\", key: \"" + pki_.Key("edge") + "\" }"));
  grpc::Status s = Unary(Plain());
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  // Without the client certificate the same backend refuses the proxy.
  ReloadYaml(Yaml(b.address, "{ ca: " + Ca("backend-ca") + ", server_name: backend.internal }"));
  // The pooled connection made with the old settings keeps working...
  EXPECT_TRUE(Unary(Plain()).ok());
}

TEST_F(TlsUpstreamTest, ReloadSwapsTheBackendCaForNewConnections) {
  Backend b = StartTlsBackend(dir_, "tls-2", pki_.Crt("backend2"), pki_.Key("backend2"));
  StartYaml(Yaml(b.address, "{ ca: " + Ca("backend-ca") + ", server_name: backend.internal }"));
  EXPECT_EQ(Unary(Plain()).error_code(), grpc::StatusCode::UNAVAILABLE);
  ReloadYaml(Yaml(b.address, "{ ca: " + Ca("backend-ca2") + ", server_name: backend.internal }"));
  grpc::Status s = Unary(Plain());
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
}

TEST_F(TlsUpstreamTest, ReloadSwapsTheClientCaForNewConnectionsOnly) {
  Backend b = StartTlsBackend(dir_, "tls-a", pki_.Crt("backend"), pki_.Key("backend"));
  auto listener_tls = [&](const std::string& ca) {
    return "    tls: { cert: \"" + pki_.Crt("server") + "\", key: \"" + pki_.Key("server") + "\", client_ca: \"" +
           pki_.Crt(ca) + "\", client_auth: require }\n";
  };
  std::string cluster_tls = "{ ca: " + Ca("backend-ca") + ", server_name: backend.internal }";
  StartYaml(Yaml(b.address, cluster_tls, listener_tls("ca")));
  auto old_client = TlsChannel(proxy_address(), pki_.Pem("ca"), pki_.Pem("client"), pki_.KeyPem("client"));
  ASSERT_TRUE(Unary(old_client).ok());
  ReloadYaml(Yaml(b.address, cluster_tls, listener_tls("other-ca")));
  EXPECT_TRUE(Unary(old_client).ok()) << "an existing connection must keep working";
  EXPECT_FALSE(Unary(TlsChannel(proxy_address(), pki_.Pem("ca"), pki_.Pem("client"), pki_.KeyPem("client"))).ok());
  grpc::Status s =
      Unary(TlsChannel(proxy_address(), pki_.Pem("ca"), pki_.Pem("client-unknown"), pki_.KeyPem("client-unknown")));
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
}

}  // namespace
}  // namespace sytest
