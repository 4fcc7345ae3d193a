// Logs and metrics an operator relies on: signals (SIGUSR1 reopens logs,
// SIGUSR2 and other stray signals do not kill), access-log rotation under load
// without losing a line, a reload that changes the access-log target, request
// ids in the log, JSON lines, local answers counted and logged with their true
// status, per-endpoint upstream metrics, process_* metrics, and metric
// cardinality that a client cannot grow.
#include <grpcpp/generic/generic_stub.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>

#include "ops_support.h"
#include "raw_h2.h"

namespace sytest::ops {
namespace {

size_t CountLines(const std::filesystem::path& path) {
  std::string text = std::filesystem::exists(path) ? ReadFile(path) : "";
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

class OpsLogsTest : public OpsTest {
 protected:
  // Echo and Greeter routed to cluster "echo" = the backends; admin on.
  ProxyConfig Config(const std::vector<const Backend*>& backends) {
    ProxyConfig c = DefaultConfig(backends);
    c.admin_address = Loopback();
    return c;
  }

  // Starts the daemon on a hand-written YAML file (for keys ProxyConfig does
  // not write), waiting for `listener` and `admin` to accept.
  void StartYaml(const std::string& yaml, const std::string& listener, const std::string& admin) {
    WriteFile(config_path(), yaml);
    admin_address_ = admin;
    proxy_address_ = listener;
    proxy_ = std::make_unique<ProcessGuard>(
        std::vector<std::string>{ProxyBinary(), "--config", config_path().string()},
        dir_ / "switchyard.out", dir_ / "switchyard.err");
    // A port of 0 is read back from the daemon's log.
    for (auto* address : {&proxy_address_, &admin_address_}) {
      std::string bound = WaitListening(*proxy_, address == &admin_address_ ? "admin" : "public", *address);
      ASSERT_TRUE(!bound.empty() && proxy_->running()) << "switchyard did not start on " << *address << "\n"
                                                       << yaml << "\nstderr:\n" << proxy_->err();
      *address = bound;
    }
  }

  std::string AccessPath(const std::string& name = "access.log") const { return (dir() / name).string(); }

  // Waits for `n` lines in the file (the workers flush on a short timer).
  bool WaitLines(const std::filesystem::path& path, size_t n) {
    return WaitUntil([&] { return CountLines(path) >= n; }, 10000ms, 10ms);
  }
};

// SIGUSR1 (reopen logs), SIGUSR2 and other signals that end a process by
// default leave the daemon serving.
TEST_F(OpsLogsTest, StraySignalsDoNotKillTheDaemon) {
  Backend& b = StartBackend("backend-a");
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(Config({&b})));
  auto stub = EchoStub();
  ASSERT_TRUE(EchoUnary(stub.get()).ok());
  for (int sig : {SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGPIPE, SIGIO, SIGPWR}) {
    SCOPED_TRACE(strsignal(sig));
    proxy_->signal(sig);
    // The next RPC is served after the signal was taken (signals are handled
    // before the socket is read again); the daemon is still there.
    grpc::Status s = EchoUnary(stub.get());
    EXPECT_TRUE(s.ok()) << s.error_message();
    ASSERT_TRUE(proxy_->running()) << "signal " << sig << " ended the daemon:\n" << proxy_->err();
  }
  EXPECT_TRUE(WaitUntil([&] { return proxy_->err().find("SIGUSR1: reopening log files") != std::string::npos; },
                        5000ms));
}

// logrotate's way: mv access.log access.log.1, then SIGUSR1, under continuous
// load. Every RPC has exactly one line across the two files, and the new file
// receives lines.
TEST_F(OpsLogsTest, RotationWithSigusr1UnderLoadLosesNoLine) {
  Backend& b = StartBackend("backend-a");
  const std::string log = AccessPath();
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(Config({&b}), "logging: { access_log: \"" + log + "\" }\n"));
  {
    UnaryLoad load1(MakeChannel(proxy_address()), 30000ms);
    UnaryLoad load2(MakeChannel(proxy_address()), 30000ms);
    ASSERT_TRUE(load1.WaitForCount(100, 10000ms));
    ASSERT_TRUE(load2.WaitForCount(100, 10000ms));
    ASSERT_TRUE(WaitLines(log, 50));
    std::filesystem::rename(log, log + ".1");
    proxy_->signal(SIGUSR1);
    ASSERT_TRUE(WaitLines(log, 50)) << "no line reached the reopened file\n" << proxy_->err();
    size_t before_stop = load1.Count() + load2.Count();
    ASSERT_TRUE(load1.WaitForCount(load1.Count() + 50, 10000ms));
    load1.Stop();
    load2.Stop();
    EXPECT_TRUE(load1.Failures().empty());
    EXPECT_TRUE(load2.Failures().empty());
    ASSERT_GT(load1.Count() + load2.Count(), before_stop);
    const size_t calls = load1.Count() + load2.Count();
    // Lines still buffered in the workers are written at exit (SIGTERM drain).
    proxy_->signal(SIGTERM);
    auto code = WaitProxyExit(15000ms);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0);
    size_t old_lines = CountLines(log + ".1");
    size_t new_lines = CountLines(log);
    EXPECT_GT(old_lines, 0u);
    EXPECT_GT(new_lines, 0u);
    EXPECT_EQ(old_lines + new_lines, calls) << "old file " << old_lines << ", new file " << new_lines;
  }
}

// The shipped policy, deploy/logrotate/switchyard, run by logrotate itself
// (with a state file; only the log directory is moved into the test's). Its
// postrotate runs `systemctl`, here a stand-in first on PATH that accepts
// exactly the commands the policy should send and signals this test's daemon
// by PID. Under load, the new file receives lines, the rotated one is kept
// uncompressed (delaycompress), and every RPC has exactly one line.
TEST_F(OpsLogsTest, ShippedLogrotatePolicyRotatesUnderLoadLosingNoLine) {
  if (RunCommand({"sh", "-c", "command -v logrotate"}, dir().path(), 10000ms).exit_code != 0) {
    GTEST_SKIP() << "logrotate is not installed (scripts/install-deps.sh installs it)";
  }
  Backend& b = StartBackend("backend-a");
  const std::string log = AccessPath();
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(Config({&b}), "logging: { access_log: \"" + log + "\" }\n"));

  // ctest sets SY_SOURCE_DIR; run by hand, the default build directory sits in the tree.
  const char* source_dir = std::getenv("SY_SOURCE_DIR");
  const std::filesystem::path policy_path =
      (source_dir != nullptr ? std::filesystem::path(source_dir)
                             : std::filesystem::path(ProxyBinary()).parent_path().parent_path()) /
      "deploy/logrotate/switchyard";
  ASSERT_TRUE(std::filesystem::exists(policy_path)) << policy_path << " not found; set SY_SOURCE_DIR";
  std::string policy = ReadFile(policy_path);
  const std::string shipped_dir = "/var/log/switchyard/";
  ASSERT_NE(policy.find(shipped_dir + "*.log {"), std::string::npos) << policy;
  policy.replace(policy.find(shipped_dir + "*.log {"), shipped_dir.size(), dir().path().string() + "/");
  EXPECT_EQ(policy.find("copytruncate\n"), std::string::npos) << "copytruncate loses lines";
  const auto conf = dir() / "logrotate.conf";
  WriteFile(conf, policy);
  const auto bin = dir() / "bin";
  std::filesystem::create_directories(bin);
  WriteFile(bin / "systemctl",
            "#!/bin/sh\n"
            "echo \"$*\" >> '" + (dir() / "systemctl.calls").string() + "'\n"
            "case \"$*\" in\n"
            "  '--quiet is-active switchyard.service') exit 0 ;;\n"
            "  'kill --kill-whom=main --signal=USR1 switchyard.service') exec kill -USR1 " +
                std::to_string(proxy_pid()) + " ;;\n"
            "esac\n"
            "exit 1\n");
  std::filesystem::permissions(bin / "systemctl", std::filesystem::perms::owner_all);
  const std::string path_env = "PATH=" + bin.string() + ":/usr/sbin:/usr/bin:/sbin:/bin";
  auto logrotate = [&](const std::string& mode) {
    return RunCommand({"env", path_env, "logrotate", mode, "--state", (dir() / "logrotate.state").string(),
                       conf.string()},
                      dir().path(), 30000ms);
  };
  // The policy parses cleanly (dry run).
  CommandResult dry = logrotate("-d");
  EXPECT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_EQ((dry.out + dry.err).find("error:"), std::string::npos) << dry.out << dry.err;

  UnaryLoad load1(MakeChannel(proxy_address()), 30000ms);
  UnaryLoad load2(MakeChannel(proxy_address()), 30000ms);
  ASSERT_TRUE(load1.WaitForCount(100, 10000ms));
  ASSERT_TRUE(load2.WaitForCount(100, 10000ms));
  ASSERT_TRUE(WaitLines(log, 50));
  CommandResult run = logrotate("-f");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(ReadFile(dir() / "systemctl.calls"),
            "--quiet is-active switchyard.service\n"
            "kill --kill-whom=main --signal=USR1 switchyard.service\n");
  ASSERT_TRUE(std::filesystem::exists(log + ".1")) << "logrotate did not rotate " << log;
  ASSERT_TRUE(WaitLines(log, 50)) << "no line reached the new file\n" << proxy_->err();
  const size_t before_stop = load1.Count() + load2.Count();
  ASSERT_TRUE(load1.WaitForCount(load1.Count() + 50, 10000ms));
  load1.Stop();
  load2.Stop();
  EXPECT_TRUE(load1.Failures().empty());
  EXPECT_TRUE(load2.Failures().empty());
  ASSERT_GT(load1.Count() + load2.Count(), before_stop);
  const size_t calls = load1.Count() + load2.Count();
  proxy_->signal(SIGTERM);  // buffered lines are written at exit
  auto code = WaitProxyExit(15000ms);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  const size_t old_lines = CountLines(log + ".1");
  const size_t new_lines = CountLines(log);
  EXPECT_GT(old_lines, 0u);
  EXPECT_GT(new_lines, 0u);
  EXPECT_EQ(old_lines + new_lines, calls) << "rotated file " << old_lines << ", new file " << new_lines;
  EXPECT_FALSE(std::filesystem::exists(log + ".1.gz")) << "delaycompress keeps the first rotation plain";
}

// A reload that changes logging.access_log creates the new file and writes to
// it; the old one gets no more lines.
TEST_F(OpsLogsTest, ReloadWithNewAccessLogPathUsesIt) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = Config({&b});
  const std::string first = AccessPath("first.log");
  const std::string second = AccessPath("second.log");
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(c, "logging: { access_log: \"" + first + "\" }\n"));
  auto stub = EchoStub();
  ASSERT_TRUE(EchoUnary(stub.get()).ok());
  ASSERT_TRUE(WaitLines(first, 1));
  const double reloads = ReloadCount("success");
  Reload(c, "logging: { access_log: \"" + second + "\" }\n");
  ASSERT_TRUE(WaitUntil([&] { return ReloadCount("success") > reloads; }, 10000ms));
  EXPECT_TRUE(std::filesystem::exists(second)) << "the reload did not create the new access log";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(EchoUnary(stub.get()).ok());
  EXPECT_TRUE(WaitLines(second, 3)) << ProxyErr();
  EXPECT_EQ(CountLines(first), 1u);
}

// A non-gRPC content type (HTTP 415) and a non-POST method (HTTP 405) are
// counted as local errors and logged with their real HTTP status.
TEST_F(OpsLogsTest, LocalHttpAnswersAreCountedAndLogged) {
  Backend& b = StartBackend("backend-a");
  const std::string log = AccessPath();
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(Config({&b}), "logging: { access_log: \"" + log + "\" }\n"));
  auto before = Scrape();
  const double bad_before = Sum(before, "switchyard_local_errors_total", {{"cause", "bad_request"}});
  H2Result r = H2Request(proxy_address(), "/switchyard.test.Echo/Unary",
                         {{"content-type", "text/plain"}, {"te", "trailers"}}, "hello", 10s);
  ASSERT_EQ(r.error, "");
  ASSERT_FALSE(r.blocks.empty());
  EXPECT_EQ(r.Field(0, ":status"), "415");
  EXPECT_TRUE(WaitUntil([&] {
    return Sum(Scrape(), "switchyard_local_errors_total", {{"cause", "bad_request"}}) == bad_before + 1;
  }, 5000ms)) << "HTTP 415 was not counted";
  ASSERT_TRUE(WaitLines(log, 1));
  std::string text = ReadFile(log);
  EXPECT_TRUE(std::regex_search(text, std::regex("\"/switchyard\\.test\\.Echo/Unary\" .* grpc_status=2 .* "
                                                 "http_status=415 ")))
      << text;
  EXPECT_EQ(b.Calls("Unary"), 0);
}

// With the default service route, 10,000 distinct methods the operator never
// named add no series: they all count as method "other".
TEST_F(OpsLogsTest, UnknownMethodsDoNotGrowMetricSeries) {
  Backend& b = StartBackend("backend-a");
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(Config({&b}), "logging: { access_log: off }\n"));
  auto channel = MakeChannel(proxy_address());
  for (int i = 0; i < 10; ++i) {
    GenericUnary(channel, "/switchyard.test.Echo/Warmup" + std::to_string(i));
  }
  std::string raw;
  Scrape(&raw);
  const auto series_before = ParseMetrics(raw).size();
  constexpr int kMethods = 10000;
  int unimplemented = 0;
  for (int i = 0; i < kMethods; ++i) {
    auto s = GenericUnary(channel, "/switchyard.test.Echo/NoSuch" + std::to_string(i));
    if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) ++unimplemented;
  }
  EXPECT_EQ(unimplemented, kMethods);
  auto after = Scrape(&raw);
  EXPECT_LE(after.size(), series_before + 20) << "series grew from " << series_before << " to " << after.size();
  EXPECT_GE(Sum(after, "switchyard_grpc_server_started_total",
                {{"grpc_service", "switchyard.test.Echo"}, {"grpc_method", "other"}}),
            kMethods);
  EXPECT_LT(raw.size(), 64u * 1024) << "the exposition grew to " << raw.size() << " bytes";
}

// Methods named in stats.per_method keep their own series; others are "other".
TEST_F(OpsLogsTest, PerMethodStatsOnlyForListedMethods) {
  Backend& b = StartBackend("backend-a");
  const std::string listener = Loopback();
  const std::string admin = Loopback();
  ASSERT_NO_FATAL_FAILURE(StartYaml("workers: 1\n"
                                    "admin: { address: \"" + admin + "\" }\n"
                                    "logging: { access_log: off }\n"
                                    "listeners: [{ name: public, address: \"" + listener + "\" }]\n"
                                    "routes:\n"
                                    "  - match: { service: switchyard.test.Echo }\n"
                                    "    cluster: echo\n"
                                    "    stats: { per_method: [Unary] }\n"
                                    "clusters: [{ name: echo, endpoints: [\"" + b.address + "\"] }]\n",
                                    listener, admin));
  auto stub = EchoStub();
  ASSERT_TRUE(EchoUnary(stub.get()).ok());
  GenericUnary(MakeChannel(proxy_address()), "/switchyard.test.Echo/Invented");
  auto m = Scrape();
  EXPECT_EQ(Sum(m, "switchyard_grpc_server_started_total",
                {{"grpc_service", "switchyard.test.Echo"}, {"grpc_method", "Unary"}}), 1);
  EXPECT_EQ(Sum(m, "switchyard_grpc_server_started_total",
                {{"grpc_service", "switchyard.test.Echo"}, {"grpc_method", "other"}}), 1);
  EXPECT_TRUE(Select(m, "switchyard_grpc_server_started_total", {{"grpc_method", "Invented"}}).empty());
}

// Per-endpoint upstream metrics, health as one gauge per state, and process_*.
TEST_F(OpsLogsTest, UpstreamAndProcessMetrics) {
  Backend& b = StartBackend("backend-a");
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(Config({&b}), "logging: { access_log: off }\n"));
  auto stub = EchoStub();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(EchoUnary(stub.get()).ok());
  auto m = Scrape();
  const std::map<std::string, std::string> ep{{"cluster", "echo"}, {"endpoint", b.address}};
  auto with = [&](std::map<std::string, std::string> extra) {
    extra.insert(ep.begin(), ep.end());
    return extra;
  };
  EXPECT_EQ(Sum(m, "switchyard_upstream_rpcs_total", with({{"grpc_code", "OK"}})), 5);
  EXPECT_EQ(Sum(m, "switchyard_upstream_rpc_duration_seconds_count", ep), 5);
  EXPECT_EQ(Sum(m, "switchyard_upstream_retries_total", with({{"kind", "transparent"}})), 0);
  EXPECT_EQ(Select(m, "switchyard_upstream_retry_budget_exceeded_total", ep).size(), 1u);
  EXPECT_EQ(Sum(m, "switchyard_endpoint_health", with({{"state", "healthy"}})), 1);
  EXPECT_EQ(Sum(m, "switchyard_endpoint_health", with({{"state", "ejected"}})), 0);
  EXPECT_EQ(Sum(m, "switchyard_endpoint_health", with({{"state", "unhealthy"}})), 0);
  EXPECT_GT(Sum(m, "process_resident_memory_bytes"), 1e6);
  EXPECT_GT(Sum(m, "process_open_fds"), 3);
  EXPECT_GT(Sum(m, "process_start_time_seconds"), 1.6e9);
  EXPECT_EQ(Select(m, "process_cpu_seconds_total").size(), 1u);
}

// x-request-id: generated when absent, the client's kept; traceparent passed
// through untouched; a quote in the path escaped; JSON lines parse.
TEST_F(OpsLogsTest, JsonLinesCarryRequestIdentity) {
  Backend& b = StartBackend("backend-a");
  const std::string log = AccessPath();
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(
      Config({&b}), "logging: { access_log: \"" + log + "\", access_log_format: json }\n"));
  auto stub = EchoStub();
  ASSERT_TRUE(EchoUnary(stub.get()).ok());
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(5000ms));
    ctx.AddMetadata("x-request-id", "client-id-42");
    ctx.AddMetadata("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    switchyard::test::EchoRequest req;
    switchyard::test::EchoResponse resp;
    ASSERT_TRUE(stub->Unary(&ctx, req, &resp).ok());
  }
  GenericUnary(MakeChannel(proxy_address()), "/no.such\"Svc/M");
  ASSERT_TRUE(WaitLines(log, 3));
  std::istringstream in(ReadFile(log));
  std::vector<google::protobuf::Struct> lines;
  std::string line;
  while (std::getline(in, line)) {
    google::protobuf::Struct s;
    std::string error;
    ASSERT_TRUE(ParseJsonObject(line, &s, &error)) << error << "\n" << line;
    lines.push_back(s);
  }
  ASSERT_EQ(lines.size(), 3u);
  auto str = [](const google::protobuf::Struct& s, const std::string& k) {
    const auto* v = Field(s, k);
    return v == nullptr ? std::string("<absent>") : v->string_value();
  };
  // Each worker keeps its own access-log buffer, so lines of calls on
  // different connections may reach the file in either order: put them back
  // in call order (plain call, call with a client request id, unrouted call).
  auto rank = [&](const google::protobuf::Struct& s) {
    if (str(s, "path") == "/no.such\"Svc/M") return 2;
    return str(s, "request_id") == "client-id-42" ? 1 : 0;
  };
  std::stable_sort(lines.begin(), lines.end(),
                   [&](const auto& x, const auto& y) { return rank(x) < rank(y); });
  EXPECT_TRUE(std::regex_match(str(lines[0], "request_id"),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << str(lines[0], "request_id");
  EXPECT_EQ(Field(lines[0], "grpc_status")->number_value(), 0);
  EXPECT_EQ(Field(lines[0], "http_status")->number_value(), 200);
  EXPECT_EQ(str(lines[0], "endpoint"), b.address);
  EXPECT_EQ(Field(lines[0], "attempts")->number_value(), 1);
  EXPECT_NE(str(lines[0], "user_agent").find("grpc-c++"), std::string::npos);
  EXPECT_EQ(str(lines[1], "request_id"), "client-id-42");
  EXPECT_EQ(str(lines[1], "traceparent"), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(str(lines[2], "path"), "/no.such\"Svc/M");
  EXPECT_EQ(Field(lines[2], "grpc_status")->number_value(), 12);
}

}  // namespace
}  // namespace sytest::ops
