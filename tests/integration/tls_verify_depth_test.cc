// tls.verify_depth: how many intermediate CAs may stand between a client
// certificate and a CA of client_ca. A chain with more is refused in the
// handshake (counted as bad_client_cert); one within the limit is accepted.
#include "tls_support.h"

namespace sytest {
namespace {

class TlsVerifyDepthTest : public TlsProxyTest {
 protected:
  void SetUp() override {
    TlsProxyTest::SetUp();
    // ca -> int1 -> int2 -> deep (two intermediates); ca -> int1 -> shallow (one).
    std::string error;
    ASSERT_TRUE(pki_.Issue({"int1", "ca", "Intermediate 1", "", "", false, false, 0, true}, &error)) << error;
    ASSERT_TRUE(pki_.Issue({"int2", "int1", "Intermediate 2", "", "", false, false, 0, true}, &error)) << error;
    ASSERT_TRUE(pki_.Issue({"deep", "int2", "deep", "URI:spiffe://prod/ns/billing/sa/deep", "clientAuth", false,
                            false, 0, false},
                           &error))
        << error;
    ASSERT_TRUE(pki_.Issue({"shallow", "int1", "shallow", "URI:spiffe://prod/ns/billing/sa/shallow", "clientAuth",
                            false, false, 0, false},
                           &error))
        << error;
    // What each client sends: its certificate and the intermediates, leaf first.
    WriteFile(dir_ / "deep-chain.crt", pki_.Pem("deep") + pki_.Pem("int2") + pki_.Pem("int1"));
    WriteFile(dir_ / "shallow-chain.crt", pki_.Pem("shallow") + pki_.Pem("int1"));
  }
  void Start(int depth) {
    Backend& b = StartBackend("backend-a");
    StartYaml("workers: 1\n"
              "admin: { address: \"@ADMIN@\" }\n"
              "listeners:\n"
              "  - name: public\n"
              "    address: \"@LISTEN@\"\n"
              "    tls:\n"
              "      cert: \"" + pki_.Crt("server") + "\"\n"
              "      key: \"" + pki_.Key("server") + "\"\n"
              "      client_ca: \"" + pki_.Crt("ca") + "\"\n"
              "      client_auth: require\n"
              "      verify_depth: " + std::to_string(depth) + "\n"
              "routes:\n"
              "  - match: { service: switchyard.test.Echo }\n"
              "    cluster: echo\n"
              "clusters:\n"
              "  - name: echo\n"
              "    endpoints: [\"" + b.address + "\"]\n");
  }
  // Handshake (and one read, to see a TLS 1.3 post-handshake rejection).
  bool Accepted(const std::string& who) {
    ProbeOptions o;
    o.wait_for_close = true;
    o.client_cert = (dir_ / (who + "-chain.crt")).string();
    o.client_key = pki_.Key(who);
    ProbeResult r = TlsProbe(proxy_address(), o);
    return r.handshake_ok && !r.closed_by_server;
  }
  bool RpcOk(const std::string& who) {
    std::string chain = ReadFile(dir_ / (who + "-chain.crt"));
    return Unary(TlsChannel(proxy_address(), pki_.Pem("ca"), chain, pki_.KeyPem(who))).ok();
  }
  double BadClientCert() {
    return MetricValue("switchyard_tls_handshakes_total", {{"listener", "public"}, {"result", "bad_client_cert"}});
  }
};

TEST_F(TlsVerifyDepthTest, OneIntermediateAllowedRefusesTwo) {
  Start(1);
  EXPECT_TRUE(Accepted("shallow"));
  EXPECT_TRUE(RpcOk("shallow"));
  EXPECT_FALSE(Accepted("deep"));
  EXPECT_FALSE(RpcOk("deep"));
  EXPECT_TRUE(WaitUntil([&] { return BadClientCert() >= 2; }, 5000ms, 20ms)) << Metrics();
}

TEST_F(TlsVerifyDepthTest, TwoIntermediatesAllowedAcceptsBoth) {
  Start(2);
  EXPECT_TRUE(Accepted("shallow"));
  EXPECT_TRUE(Accepted("deep"));
  EXPECT_TRUE(RpcOk("deep"));
  EXPECT_EQ(BadClientCert(), 0) << Metrics();
}

}  // namespace
}  // namespace sytest
