// SIGHUP reload under load: a good file moves traffic without failing an RPC,
// a bad file changes nothing and is reported as file:line:col, and listeners
// can be added and removed.
#include <regex>

#include "ops_support.h"

namespace sytest::ops {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class OpsReloadTest : public OpsTest {
 protected:
  // Clusters a -> backend A and b -> backend B; Echo/Unary routed to `to`.
  ProxyConfig TwoClusters(const Backend& a, const Backend& b, const std::string& to) {
    ProxyConfig c;
    c.admin_address = Loopback();
    c.listeners.push_back({"public", Loopback(), "", ""});
    c.routes = {{"switchyard.test.Echo", "Unary", "", to, "", ""}};
    c.clusters = {{"a", {a.address}, {}}, {"b", {b.address}, {}}};
    return c;
  }

  // The route table as /config reports it: "service/method->cluster" lines.
  std::vector<std::string> ConfiguredRoutes() {
    HttpResponse r = Admin("/config");
    EXPECT_EQ(r.status, 200) << r.error;
    google::protobuf::Struct cfg;
    std::string error;
    EXPECT_TRUE(ParseJsonObject(r.body, &cfg, &error)) << error << "\n" << r.body;
    std::vector<std::string> out;
    const auto* routes = Field(cfg, "routes");
    if (routes == nullptr) {
      ADD_FAILURE() << "/config has no routes: " << r.body;
      return out;
    }
    for (const auto& v : routes->list_value().values()) {
      const auto& route = v.struct_value();
      const auto* match = Field(route, "match");
      const auto* cluster = Field(route, "cluster");
      std::string service, method;
      if (match != nullptr) {
        if (const auto* s = Field(match->struct_value(), "service")) service = s->string_value();
        if (const auto* m = Field(match->struct_value(), "method")) method = m->string_value();
      }
      out.push_back(service + "/" + method + "->" + (cluster ? cluster->string_value() : "?"));
    }
    return out;
  }
};

// A good reload under continuous load moves every new RPC to the new cluster
// within a bounded time, fails none, and counts a successful reload.
TEST_F(OpsReloadTest, ReloadUnderLoadSwitchesClusterWithoutFailures) {
  Backend& a = StartBackend("backend-a");
  Backend& b = StartBackend("backend-b");
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(TwoClusters(a, b, "a")));
  const double success_before = ReloadCount("success");
  EXPECT_GE(success_before, 1) << "the initial load counts as a success";

  // Two client connections, so both workers are likely to carry traffic.
  UnaryLoad load1(MakeChannel(proxy_address()), 20000ms);
  UnaryLoad load2(MakeChannel(proxy_address()), 20000ms);
  ASSERT_TRUE(load1.WaitForCount(30, 10000ms)) << "no traffic before the reload";
  ASSERT_TRUE(load2.WaitForCount(30, 10000ms)) << "no traffic before the reload";

  Reload(TwoClusters(a, b, "b"));
  const auto hup = Clock::now();
  auto on_b = [](const UnaryLoad& l) {
    auto o = l.Outcomes();
    if (o.size() < 20) return false;
    for (size_t i = o.size() - 20; i < o.size(); ++i) {
      if (o[i].backend != "backend-b") return false;
    }
    return true;
  };
  bool switched = WaitUntil([&] { return on_b(load1) && on_b(load2); }, 5000ms, 20ms);
  // Keep the load running a little longer on the new config.
  size_t n1 = load1.Count(), n2 = load2.Count();
  load1.WaitForCount(n1 + 50, 5000ms);
  load2.WaitForCount(n2 + 50, 5000ms);
  load1.Stop();
  load2.Stop();
  EXPECT_TRUE(switched) << "RPCs still reached backend A 5 s after SIGHUP";

  for (const UnaryLoad* l : {&load1, &load2}) {
    auto failures = l->Failures();
    EXPECT_TRUE(failures.empty()) << failures.size() << " RPCs failed during the reload, first: " << failures.front();
    // Per connection the switch is one-way: A...A then B...B, nothing else.
    auto o = l->Outcomes();
    size_t first_b = o.size();
    for (size_t i = 0; i < o.size(); ++i) {
      if (o[i].backend == "backend-b") {
        first_b = i;
        break;
      }
    }
    ASSERT_LT(first_b, o.size()) << "no RPC reached backend B";
    EXPECT_GT(first_b, 0u) << "RPCs reached B before the reload";
    for (size_t i = 0; i < o.size(); ++i) {
      const char* want = i < first_b ? "backend-a" : "backend-b";
      if (o[i].backend != want) {
        ADD_FAILURE() << "call #" << i << " answered by '" << o[i].backend << "', expected " << want
                      << " (first B at #" << first_b << ")";
        break;
      }
    }
    EXPECT_LT(Ms(o[first_b].started - hup), 5000) << "switch took too long";
  }
  EXPECT_EQ(ReloadCount("success"), success_before + 1);
  EXPECT_EQ(ReloadCount("failure"), 0);
  EXPECT_EQ(ConfiguredRoutes(), (std::vector<std::string>{"switchyard.test.Echo/Unary->b"}));
}

// An invalid file (unknown key) is rejected: traffic stays on the old cluster
// with no failures, the log names file:line:col, the failure is counted, and
// /config still shows the old route.
TEST_F(OpsReloadTest, BadReloadChangesNothing) {
  Backend& a = StartBackend("backend-a");
  Backend& b = StartBackend("backend-b");
  ProxyConfig good = TwoClusters(a, b, "a");
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(good));
  const double success_before = ReloadCount("success");
  const double failure_before = ReloadCount("failure");
  ASSERT_EQ(ConfiguredRoutes(), (std::vector<std::string>{"switchyard.test.Echo/Unary->a"}));

  UnaryLoad load(MakeChannel(proxy_address()), 20000ms);
  ASSERT_TRUE(load.WaitForCount(30, 10000ms));

  // The bad file would route to b if any of it were applied; it has an
  // unknown key inside the listener, on a known line and column.
  ProxyConfig bad_cfg = TwoClusters(a, b, "b");
  bad_cfg.listeners = good.listeners;
  bad_cfg.admin_address = good.admin_address;
  std::string yaml = bad_cfg.ToYaml();
  std::vector<std::string> lines;
  {
    std::istringstream in(yaml);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
  }
  size_t at = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("    address:", 0) == 0) {
      at = i + 1;
      break;
    }
  }
  ASSERT_LT(at, lines.size()) << yaml;
  lines.insert(lines.begin() + static_cast<long>(at), "    bogus_option: 1");
  std::string bad;
  for (const auto& l : lines) bad += l + "\n";
  const int bad_line = static_cast<int>(at) + 1;  // 1-based
  const int bad_col = 5;

  ReloadText(bad);
  bool counted = WaitUntil([&] { return ReloadCount("failure") >= failure_before + 1; }, 5000ms, 50ms);
  EXPECT_TRUE(counted) << "reloads_total{result=\"failure\"} did not increase";
  size_t n = load.Count();
  load.WaitForCount(n + 100, 5000ms);
  load.Stop();

  auto failures = load.Failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " RPCs failed, first: " << failures.front();
  for (const auto& o : load.Outcomes()) {
    if (o.backend != "backend-a") {
      ADD_FAILURE() << "an RPC went to '" << o.backend << "' after a rejected reload";
      break;
    }
  }
  EXPECT_EQ(b.Calls("Unary"), 0);

  std::string err = ProxyErr();
  std::string where = "switchyard.yaml:" + std::to_string(bad_line) + ":" + std::to_string(bad_col) + ":";
  std::regex position(R"([^\s:]+:[0-9]+:[0-9]+: )");
  EXPECT_TRUE(std::regex_search(err, position)) << "no path:LINE:COL error in the log:\n" << err;
  EXPECT_NE(err.find(where), std::string::npos) << "expected '" << where << "' in the log:\n" << err;
  EXPECT_NE(err.find("bogus_option"), std::string::npos) << err;

  EXPECT_EQ(ReloadCount("failure"), failure_before + 1);
  EXPECT_EQ(ReloadCount("success"), success_before);
  EXPECT_EQ(Sum(Scrape(), "switchyard_config_last_reload_successful"), 0);
  EXPECT_EQ(ConfiguredRoutes(), (std::vector<std::string>{"switchyard.test.Echo/Unary->a"}));
}

// A reload can add a listener (it accepts RPCs) and remove it again (new
// connections are refused), while an established connection on the original
// listener keeps working, including a stream that spans both reloads.
TEST_F(OpsReloadTest, ReloadAddsAndRemovesListener) {
  Backend& a = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&a});
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(c));

  auto channel = MakeChannel(proxy_address());
  UnaryLoad load(channel, 20000ms);
  ASSERT_TRUE(load.WaitForCount(20, 10000ms));

  // A stream on the established connection that lasts across both reloads.
  auto stub = switchyard::test::Echo::NewStub(channel);
  grpc::ClientContext stream_ctx;
  stream_ctx.set_deadline(In(20000ms));
  EchoRequest sreq;
  sreq.set_count(40);
  sreq.set_interval_ms(100);
  auto stream = stub->ServerStream(&stream_ctx, sreq);
  EchoResponse first;
  ASSERT_TRUE(stream->Read(&first));

  // Add a second listener.
  ProxyConfig with_extra = c;
  with_extra.listeners.push_back({"extra", Loopback(), "", ""});
  const double success_before = ReloadCount("success");
  Reload(with_extra);
  const std::string extra_address = BoundAddress(*proxy_, "extra");
  ASSERT_FALSE(extra_address.empty()) << "the reload did not report the added listener";
  EXPECT_TRUE(WaitForPort(extra_address, 5000ms)) << "the added listener does not accept connections";
  {
    auto extra_stub = switchyard::test::Echo::NewStub(MakeChannel(extra_address));
    std::string backend;
    grpc::Status s = EchoUnary(extra_stub.get(), &backend);
    EXPECT_TRUE(s.ok()) << "RPC on the added listener: " << s.error_code() << " " << s.error_message();
    EXPECT_EQ(backend, "backend-a");
  }
  EXPECT_EQ(ReloadCount("success"), success_before + 1);
  {
    HttpResponse r = Admin("/config");
    EXPECT_NE(r.body.find("\"extra\""), std::string::npos) << r.body;
  }

  // Remove it again.
  Reload(c);
  bool refused = WaitUntil(
      [&] {
        int fd = ConnectTcp(extra_address, 500ms);
        if (fd >= 0) ::close(fd);
        return fd < 0;
      },
      5000ms, 50ms);
  EXPECT_TRUE(refused) << "the removed listener still accepts connections";
  if (refused) {
    // A refused connect means no worker's socket is left in the port's
    // SO_REUSEPORT group. It stays so while the daemon goes on serving.
    ASSERT_TRUE(load.WaitForCount(load.Count() + 8, 5000ms));
    int fd = ConnectTcp(extra_address, 500ms);
    EXPECT_LT(fd, 0) << "a connection to the removed listener succeeded";
    if (fd >= 0) ::close(fd);
    auto gone = switchyard::test::Echo::NewStub(MakeChannel(extra_address));
    EXPECT_EQ(EchoUnary(gone.get(), nullptr, 2000ms).error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  EXPECT_EQ(ReloadCount("success"), success_before + 2);

  // The original listener and its established connection carried on.
  size_t n = load.Count();
  EXPECT_TRUE(load.WaitForCount(n + 20, 5000ms)) << "the established channel stopped making progress";
  load.Stop();
  auto failures = load.Failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " RPCs failed on the original listener, first: "
                                << failures.front();
  int received = 1;
  EchoResponse msg;
  while (stream->Read(&msg)) ++received;
  grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << "stream across the reloads: " << s.error_code() << " " << s.error_message();
  EXPECT_EQ(received, 40);
  {
    auto fresh = switchyard::test::Echo::NewStub(MakeChannel(proxy_address()));
    EXPECT_TRUE(EchoUnary(fresh.get()).ok()) << "a new connection to the original listener failed";
  }
}

// A reload with a new certificate (from another CA) serves it to new
// connections, while a connection made under the old one keeps working.
TEST_F(OpsReloadTest, ReloadSwitchesTlsCertificateKeepingOpenConnections) {
  TempDir first_dir, second_dir;
  TestPki first, second;
  std::string error;
  ASSERT_TRUE(MakeTestPki(first_dir.path(), &first, &error)) << error;
  ASSERT_TRUE(MakeTestPki(second_dir.path(), &second, &error)) << error;
  Backend& a = StartBackend("backend-a");
  ProxyConfig c = TwoClusters(a, a, "a");
  c.listeners.front().tls_cert = first.server_cert.string();
  c.listeners.front().tls_key = first.server_key.string();
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(c));

  auto call = [](const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = switchyard::test::Echo::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(In(3000ms));
    EchoResponse resp;
    return stub->Unary(&ctx, EchoRequest(), &resp);
  };
  ChannelOptions trusts_first, trusts_second;
  trusts_first.ca_pem = ReadFile(first.ca_cert);
  trusts_second.ca_pem = ReadFile(second.ca_cert);
  auto old_conn = MakeChannel(proxy_address(), trusts_first);
  ASSERT_TRUE(call(old_conn).ok()) << "the first certificate is not served";
  EXPECT_FALSE(call(MakeChannel(proxy_address(), trusts_second)).ok()) << "the second CA is trusted already";

  const double success_before = ReloadCount("success");
  c.listeners.front().tls_cert = second.server_cert.string();
  c.listeners.front().tls_key = second.server_key.string();
  Reload(c);
  ASSERT_TRUE(WaitUntil([&] { return ReloadCount("success") > success_before; }, 5000ms))
      << "the reload was not applied: " << ProxyErr();

  grpc::Status fresh = call(MakeChannel(proxy_address(), trusts_second));
  EXPECT_TRUE(fresh.ok()) << "a new connection did not get the new certificate: " << fresh.error_message();
  EXPECT_FALSE(call(MakeChannel(proxy_address(), trusts_first)).ok()) << "the old certificate is still served";
  for (int i = 0; i < 5; ++i) {
    grpc::Status s = call(old_conn);
    EXPECT_TRUE(s.ok()) << "the connection made before the reload failed: " << s.error_message();
  }
}

}  // namespace
}  // namespace sytest::ops
