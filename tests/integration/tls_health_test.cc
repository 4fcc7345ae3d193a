// Active health checks on a TLS cluster connect exactly as its traffic does
// (clusters[].tls): a backend whose certificate verifies passes its checks
// over TLS; one whose certificate does not match the configured name fails
// them, and never gets an RPC.
#include "tls_support.h"

namespace sytest {
namespace {

class TlsHealthTest : public TlsProxyTest {
 protected:
  std::string Yaml(const std::string& backend, const std::string& cluster_tls) {
    return "workers: 1\n"
           "admin: { address: \"@ADMIN@\" }\n"
           "listeners:\n"
           "  - name: public\n"
           "    address: \"@LISTEN@\"\n"
           "routes:\n"
           "  - match: { service: switchyard.test.Echo }\n"
           "    cluster: secure\n"
           "clusters:\n"
           "  - name: secure\n"
           "    endpoints: [\"" + backend + "\"]\n"
           "    tls: " + cluster_tls + "\n"
           "    health_check: { interval: 100ms, timeout: 1s, unhealthy_threshold: 1, healthy_threshold: 1 }\n";
  }
  std::string Ca(const std::string& name) { return "\"" + pki_.Crt(name) + "\""; }
  double Checks(const std::string& result) {
    return MetricValue("switchyard_health_checks_total", {{"cluster", "secure"}, {"result", result}});
  }
};

TEST_F(TlsHealthTest, VerifiedBackendPassesChecksOverTls) {
  Backend b = StartTlsBackend(dir_, "tls-a", pki_.Crt("backend"), pki_.Key("backend"));
  StartYaml(Yaml(b.address, "{ ca: " + Ca("backend-ca") + ", server_name: backend.internal }"));
  EXPECT_TRUE(WaitUntil([&] { return Checks("success") >= 3; }, 5000ms, 20ms))
      << "successes " << Checks("success") << ", failures " << Checks("failure");
  EXPECT_EQ(Checks("failure"), 0);
  grpc::Status s = Unary(MakeChannel(proxy_address()));
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
}

TEST_F(TlsHealthTest, WrongNameFailsChecksAndTakesNoRpc) {
  Backend b = StartTlsBackend(dir_, "tls-wrong", pki_.Crt("backend-wrong"), pki_.Key("backend-wrong"));
  StartYaml(Yaml(b.address, "{ ca: " + Ca("backend-ca") + ", server_name: backend.internal }"));
  EXPECT_TRUE(WaitUntil([&] { return Checks("failure") >= 2; }, 5000ms, 20ms))
      << "successes " << Checks("success") << ", failures " << Checks("failure");
  EXPECT_EQ(Checks("success"), 0);
  grpc::Status s = Unary(MakeChannel(proxy_address()));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

}  // namespace
}  // namespace sytest
