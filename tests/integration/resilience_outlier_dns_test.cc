// Passive outlier ejection of an endpoint that fails RPCs after sending data,
// and DNS endpoints that resolve to several addresses.
#include <stdexcept>

#include "resilience_support.h"

namespace sytest::resilience {
namespace {

// One server-streaming call: how many messages arrived before the status.
struct StreamCall {
  Call call;
  int messages = 0;
};

StreamCall ServerStreamCall(switchyard::test::Echo::Stub* stub, std::chrono::milliseconds deadline = 3000ms) {
  StreamCall r;
  grpc::ClientContext ctx;
  ctx.set_deadline(In(deadline));
  EchoRequest req;
  req.set_payload("resilience");
  req.set_count(1);
  r.call.start = Clock::now();
  auto reader = stub->ServerStream(&ctx, req);
  EchoResponse resp;
  while (reader->Read(&resp)) {
    ++r.messages;
    if (r.call.backend.empty()) r.call.backend = resp.backend();
  }
  grpc::Status s = reader->Finish();
  r.call.end = Clock::now();
  r.call.code = s.error_code();
  r.call.message = s.error_message();
  std::string trailer = MetadataValue(ctx.GetServerTrailingMetadata(), "x-backend");
  if (!trailer.empty()) r.call.backend = trailer;
  return r;
}

class ResilienceOutlierTest : public ResilienceTest {};

// An endpoint that sends response headers and a message, then UNAVAILABLE in
// trailers, is ejected after consecutive_failures (3) such calls on one
// worker: /clusters says "ejected", calls go to the healthy endpoint, and
// after base_ejection_time (1 s) it is back in rotation.
TEST_F(ResilienceOutlierTest, TrailerUnavailableEjectsEndpointUntilBaseEjectionTime) {
  ScriptedEcho bad("bad", ScriptedEcho::Mode::MessageThenUnavailable);
  Backend& good = StartBackend("good");
  ASSERT_NO_FATAL_FAILURE(Start(
      Config({bad.address(), good.address},
             {"outlier_detection: { consecutive_failures: 3, base_ejection_time: 1s, max_ejection_time: 10s }"},
             /*workers=*/1)));

  auto channel = MakeChannel(proxy_address());
  ASSERT_TRUE(Connect(channel));
  auto stub = switchyard::test::Echo::NewStub(channel);

  // Round robin alternates, so about six calls give the bad endpoint its three.
  for (int i = 0; i < 20 && bad.Calls() < 3; ++i) {
    StreamCall r = ServerStreamCall(stub.get());
    if (r.call.backend == "bad") {
      EXPECT_EQ(r.call.code, grpc::StatusCode::UNAVAILABLE) << Describe(r.call);
      EXPECT_EQ(r.messages, 1) << "the failure must come after a message (in trailers)";
    } else {
      EXPECT_TRUE(r.call.ok() && r.call.backend == "good") << Describe(r.call);
    }
  }
  ASSERT_EQ(bad.Calls(), 3u);
  ASSERT_TRUE(WaitForHealth(bad.address(), "ejected", 2000ms))
      << "three failures in trailers did not eject the endpoint: " << ClustersText();
  const auto ejected = Clock::now();
  EXPECT_EQ(HealthOf(good.address), "healthy");

  for (int i = 0; i < 20; ++i) {
    StreamCall r = ServerStreamCall(stub.get());
    EXPECT_TRUE(r.call.ok() && r.call.backend == "good") << "while ejected: " << Describe(r.call);
  }
  // The endpoint may already have returned if those calls took long; only
  // calls made while it showed "ejected" count.
  const bool still_ejected = HealthOf(bad.address()) == "ejected";
  if (still_ejected) {
    EXPECT_EQ(bad.Calls(), 3u) << "the ejected endpoint got calls";
  }

  ASSERT_TRUE(WaitForHealth(bad.address(), "healthy", 5000ms))
      << "the endpoint did not return after base_ejection_time: " << ClustersText();
  const int64_t ejected_ms = Ms(Clock::now() - ejected);
  EXPECT_GE(ejected_ms, 700) << "ejection ended well before base_ejection_time";
  EXPECT_LE(ejected_ms, 2500) << "ejection lasted far longer than base_ejection_time (1 s)";

  const size_t before = bad.Calls();
  for (int i = 0; i < 6 && bad.Calls() == before; ++i) ServerStreamCall(stub.get());
  EXPECT_GT(bad.Calls(), before) << "the returned endpoint got no calls";
}

class ResilienceDnsTest : public ResilienceTest {};

// A name with two addresses becomes two endpoints, and one that disappears
// from the name leaves the cluster at the next refresh without failing calls.
// The daemon runs in a private mount namespace (unshare -rm) in which a test
// hosts file is bind-mounted over /etc/hosts, so the name resolves the same
// way on every machine without touching the real file.
TEST_F(ResilienceDnsTest, NameResolvingToTwoAddressesGivesTwoEndpoints) {
  if (!Ipv6LoopbackAvailable()) GTEST_SKIP() << "[::1] cannot be bound on this host";
  const std::filesystem::path hosts = dir() / "hosts";
  const std::string name = "backends.switchyard.test";
  WriteFile(hosts, "127.0.0.1 localhost\n127.0.0.1 " + name + "\n::1 " + name + "\n");
  proxy_wrapper_ = {"unshare", "-rm", "sh", "-c", "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
                    hosts.string()};
  std::vector<std::string> probe = proxy_wrapper_;
  probe.insert(probe.end(), {"getent", "ahosts", name});
  CommandResult r = RunCommand(probe, dir().path(), 10000ms);
  if (r.exit_code != 0 || r.out.find("::1") == std::string::npos) {
    GTEST_SKIP() << "cannot give the daemon its own /etc/hosts here (unshare -rm + mount --bind): " << r.err;
  }

  // One name, one port, two addresses: the v4 backend binds port 0 and says
  // which port it got; the v6 backend then binds that number on [::1]. Should
  // [::1] have it taken, that backend fails to start and another pair is tried.
  std::string p;
  for (int attempt = 0; attempt < 5 && p.empty(); ++attempt) {
    const std::string v4 = StartBackend("v4", "127.0.0.1:0").address;
    const std::string port = v4.substr(v4.rfind(':') + 1);
    try {
      StartBackend("v6", "[::1]:" + port);
      p = port;
    } catch (const std::runtime_error&) {
      backends_.pop_back();  // the v4 backend of this pair; it is stopped here
    }
  }
  ASSERT_FALSE(p.empty()) << "no port could be bound on both 127.0.0.1 and [::1]";
  ASSERT_NO_FATAL_FAILURE(Start(Config({name + ":" + p}, {"dns_refresh: 200ms"})));

  auto endpoints = [&] {
    std::set<std::string> listed;
    for (const auto& e : Clusters()) {
      if (e.cluster == kCluster && e.origin == name + ":" + p) listed.insert(e.address);
    }
    return listed;
  };
  EXPECT_EQ(endpoints(), (std::set<std::string>{"127.0.0.1:" + p, "[::1]:" + p})) << ClustersText();

  auto calls = Sequential(20);
  EXPECT_TRUE(Failed(calls).empty()) << DescribeAll(Failed(calls));
  EXPECT_GE(AnsweredBy(calls, "v4"), 5u);
  EXPECT_GE(AnsweredBy(calls, "v6"), 5u);

  // The bind mount follows the file, so rewriting it in place changes what
  // the daemon resolves.
  WriteFile(hosts, "127.0.0.1 localhost\n127.0.0.1 " + name + "\n");
  const std::set<std::string> v4_only{"127.0.0.1:" + p};
  EXPECT_TRUE(WaitUntil([&] { return endpoints() == v4_only; }, 5000ms))
      << "the address that left the name is still an endpoint: " << ClustersText();
  calls = Sequential(10);
  EXPECT_TRUE(Failed(calls).empty()) << DescribeAll(Failed(calls));
  EXPECT_EQ(AnsweredBy(calls, "v6"), 0u) << "the removed address still got calls";
}

}  // namespace
}  // namespace sytest::resilience
