// A real browser: headless Chromium, driven by puppeteer-core, loads a page
// (tests/browser) that calls switchyard.test.Echo through the daemon with
// connect-web's gRPC-Web transport, over TLS with ALPN h2 and over cleartext
// HTTP/1.1 (what Chromium speaks to http:// URLs), from an allowed origin and
// from a refused one. Registered on its own as the ctest
// "browser_grpc_web" (label browser), which installs the npm packages into the
// build directory first and sets SY_BROWSER_MODULES; without that variable
// (e.g. in the integration label's run) the test skips.
#include <cstdlib>

#include "harness.h"

namespace sytest {
namespace {

class BrowserTest : public ProxyTest {};

TEST_F(BrowserTest, GrpcWebFromChromium) {
  const char* modules = std::getenv("SY_BROWSER_MODULES");
  const char* source = std::getenv("SY_BROWSER_SOURCE");
  const char* descriptor = std::getenv("SY_ECHO_DESCRIPTOR");
  if (modules == nullptr || source == nullptr || descriptor == nullptr) {
    GTEST_SKIP() << "run as the ctest browser_grpc_web (it installs the npm packages)";
  }
  TestPki pki;
  std::string error;
  ASSERT_TRUE(MakeTestPki(dir_.path(), &pki, &error)) << error;
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.listeners.front().tls_cert = pki.server_cert.string();
  c.listeners.front().tls_key = pki.server_key.string();
  c.listener_extra["public"] = {"grpc_web: { cors: { allow_origins: [\"*.app.test\"], max_age: 10m } }"};
  c.listeners.push_back({"plain", "127.0.0.1:0", "", ""});
  c.listener_extra["plain"] = c.listener_extra["public"];
  StartProxy(c);
  std::string plain = BoundAddress(*proxy(), "plain");
  ASSERT_FALSE(plain.empty());
  std::string host;
  int port = 0;
  ASSERT_TRUE(SplitHostPort(proxy_address(), &host, &port)) << proxy_address();
  std::string tls_url = "https://localhost:" + std::to_string(port);

  std::string plain_host;
  int plain_port = 0;
  ASSERT_TRUE(SplitHostPort(plain, &plain_host, &plain_port)) << plain;
  std::string plain_url = "http://localhost:" + std::to_string(plain_port);

  CommandResult r = RunCommand({"node", std::string(source) + "/run.mjs", "--modules", modules, "--descriptor",
                                descriptor, "--proxy", tls_url, "--proxy", plain_url},
                               dir_.path(), 240000ms);
  if (r.exit_code == 77) GTEST_SKIP() << r.out << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << "\n" << r.err;
  // Per proxy URL, two unary calls and one stream from the allowed origin;
  // nothing from the refused one.
  EXPECT_EQ(b.Calls("Unary"), 4);
  EXPECT_EQ(b.Calls("ServerStream"), 2);
}

}  // namespace
}  // namespace sytest
