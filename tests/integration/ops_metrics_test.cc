// /metrics on the admin endpoint after real traffic: valid exposition format,
// exact per-method counts, the unmatched-path cardinality guard, and the
// local-error counters.
#include <set>

#include "ops_support.h"

namespace sytest::ops {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

class OpsMetricsTest : public OpsTest {};

// The exposition after OK and unroutable RPCs passes `promtool check metrics`
// (no lint problems at all).
TEST_F(OpsMetricsTest, ExpositionPassesPromtool) {
  CommandResult which = RunCommand({"sh", "-c", "command -v promtool"}, dir().path(), 10000ms);
  ASSERT_EQ(which.exit_code, 0) << "promtool is not installed (Debian package prometheus; see scripts/install-deps.sh)";

  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.routes = {{"switchyard.test.Echo", "Unary", "", "echo", "", ""}};
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(c));
  auto channel = MakeChannel(proxy_address());
  auto stub = switchyard::test::Echo::NewStub(channel);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(EchoUnary(stub.get()).ok());
  EXPECT_EQ(GenericUnary(channel, "/no.such.Service/Method").error_code(), grpc::StatusCode::UNIMPLEMENTED);

  std::string text;
  Scrape(&text);
  ASSERT_FALSE(text.empty());
  WriteFile(dir() / "metrics.txt", text);
  const std::string file = (dir() / "metrics.txt").string();
  CommandResult r = RunCommand({"sh", "-c", "promtool check metrics < \"$0\"", file}, dir().path(), 30000ms);
  EXPECT_EQ(r.exit_code, 0) << "promtool check metrics failed:\n" << r.out << r.err;
  EXPECT_EQ(r.out + r.err, "") << "promtool reported problems";
}

// switchyard_grpc_server_handled_total{grpc_code="OK"} for a method counts
// exactly the RPCs sent to it, and started_total matches.
TEST_F(OpsMetricsTest, HandledTotalCountsEachOkRpc) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.routes = {{"switchyard.test.Echo", "Unary", "", "echo", "", ""}};
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(c));
  auto stub = EchoStub();
  constexpr int kCalls = 7;
  for (int i = 0; i < kCalls; ++i) {
    grpc::Status s = EchoUnary(stub.get());
    ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  }
  const std::map<std::string, std::string> ok_labels = {
      {"grpc_service", "switchyard.test.Echo"}, {"grpc_method", "Unary"}, {"cluster", "echo"}, {"grpc_code", "OK"}};
  // The proxy records the RPC when it ends; allow the scrape to catch up.
  WaitUntil([&] { return Sum(Scrape(), "switchyard_grpc_server_handled_total", ok_labels) >= kCalls; }, 5000ms, 50ms);
  auto samples = Scrape();
  auto handled = Select(samples, "switchyard_grpc_server_handled_total", ok_labels);
  ASSERT_EQ(handled.size(), 1u) << "expected exactly one OK series for Echo/Unary";
  EXPECT_EQ(handled[0].value, kCalls);
  EXPECT_EQ(Sum(samples, "switchyard_grpc_server_handled_total",
                {{"grpc_service", "switchyard.test.Echo"}, {"grpc_method", "Unary"}}),
            kCalls)
      << "RPCs counted under a non-OK code";
  EXPECT_EQ(Sum(samples, "switchyard_grpc_server_started_total",
                {{"grpc_service", "switchyard.test.Echo"}, {"grpc_method", "Unary"}, {"cluster", "echo"}}),
            kCalls);
  EXPECT_EQ(Sum(samples, "switchyard_grpc_server_handling_seconds_count",
                {{"grpc_service", "switchyard.test.Echo"}, {"grpc_method", "Unary"}, {"cluster", "echo"}}),
            kCalls);
}

// Fifty distinct unroutable paths all land in one grpc_service="unmatched"
// series (cardinality guard), none of the paths appears as a label, and
// switchyard_local_errors_total{cause="no_route"} grows by exactly fifty.
TEST_F(OpsMetricsTest, UnmatchedMethodsShareOneSeriesAndCountNoRoute) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.routes = {{"switchyard.test.Echo", "Unary", "", "echo", "", ""}};
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(c));

  auto before = Scrape();
  auto no_route_series = Select(before, "switchyard_local_errors_total", {{"cause", "no_route"}});
  ASSERT_EQ(no_route_series.size(), 1u) << "local_errors_total{cause=\"no_route\"} must be exported from zero";
  const double no_route_before = no_route_series[0].value;

  auto channel = MakeChannel(proxy_address());
  constexpr int kUnknown = 50;
  for (int i = 0; i < kUnknown; ++i) {
    std::string path = "/scan.Probe" + std::to_string(i) + "/Method" + std::to_string(i);
    grpc::Status s = GenericUnary(channel, path);
    ASSERT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << path << ": " << s.error_message();
  }
  // And one OK call, so the unmatched series sits next to a real one.
  ASSERT_TRUE(EchoUnary(switchyard::test::Echo::NewStub(channel).get()).ok());

  std::string text;
  WaitUntil(
      [&] {
        return Sum(Scrape(), "switchyard_local_errors_total", {{"cause", "no_route"}}) >= no_route_before + kUnknown;
      },
      5000ms, 50ms);
  auto after = ParseMetrics([&] {
    Scrape(&text);
    return text;
  }());

  auto unmatched = Select(after, "switchyard_grpc_server_handled_total", {{"grpc_service", "unmatched"}});
  ASSERT_EQ(unmatched.size(), 1u) << "unmatched RPCs must share one handled_total series";
  EXPECT_EQ(unmatched[0].labels["grpc_method"], "unmatched");
  EXPECT_EQ(unmatched[0].labels["grpc_code"], "Unimplemented");
  EXPECT_EQ(unmatched[0].value, kUnknown);
  auto started = Select(after, "switchyard_grpc_server_started_total", {{"grpc_service", "unmatched"}});
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].value, kUnknown);

  // No series anywhere carries a client-chosen path.
  std::set<std::string> services;
  for (const auto& s : after) {
    if (s.labels.count("grpc_service")) services.insert(s.labels.at("grpc_service"));
    if (s.labels.count("grpc_method")) {
      EXPECT_EQ(s.labels.at("grpc_method").find("Method"), std::string::npos) << s.name;
    }
  }
  EXPECT_EQ(text.find("scan.Probe"), std::string::npos) << "an unknown path leaked into a label";
  EXPECT_EQ(services, (std::set<std::string>{"unmatched", "switchyard.test.Echo"}));

  EXPECT_EQ(Sum(after, "switchyard_local_errors_total", {{"cause", "no_route"}}), no_route_before + kUnknown);
  EXPECT_EQ(Sum(after, "switchyard_local_errors_total"), Sum(before, "switchyard_local_errors_total") + kUnknown)
      << "only no_route should have grown";
}

}  // namespace
}  // namespace sytest::ops
