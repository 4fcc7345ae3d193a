// A real browser: headless Chromium, driven by puppeteer-core, loads a page
// (tests/browser) that calls switchyard.test.Echo through the daemon with
// connect-web's gRPC-Web transport, over TLS with ALPN h2, from an allowed
// origin and from a refused one. Registered on its own as the ctest
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
  StartProxy(c);
  std::string host;
  int port = 0;
  ASSERT_TRUE(SplitHostPort(proxy_address(), &host, &port)) << proxy_address();
  std::string tls_url = "https://localhost:" + std::to_string(port);

  CommandResult r = RunCommand({"node", std::string(source) + "/run.mjs", "--modules", modules, "--descriptor",
                                descriptor, "--proxy", tls_url},
                               dir_.path(), 240000ms);
  if (r.exit_code == 77) GTEST_SKIP() << r.out << r.err;
  EXPECT_EQ(r.exit_code, 0) << r.out << "\n" << r.err;
  // Two unary calls and one stream from the allowed origin; nothing from the refused one.
  EXPECT_EQ(b.Calls("Unary"), 2);
  EXPECT_EQ(b.Calls("ServerStream"), 1);
}

}  // namespace
}  // namespace sytest
