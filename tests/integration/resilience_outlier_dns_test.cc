// Passive outlier ejection of an endpoint that fails RPCs after sending data,
// and DNS endpoints that resolve to several addresses.
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

// Addresses "localhost" resolves to here, as strings "ip" (family order kept).
std::vector<std::string> ResolveLocalhost() {
  std::vector<std::string> out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo("localhost", "80", &hints, &res) != 0) return out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, buf, sizeof buf);
    } else if (ai->ai_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, buf, sizeof buf);
    }
    if (buf[0] != '\0' && std::find(out.begin(), out.end(), buf) == out.end()) out.emplace_back(buf);
  }
  ::freeaddrinfo(res);
  return out;
}

// True if [::1]:port can be bound right now.
bool Ipv6PortFree(int port) {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  addr.sin6_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// An endpoint "localhost:PORT" with backends on both 127.0.0.1:PORT and
// [::1]:PORT becomes two endpoints of that origin, and calls reach both.
TEST_F(ResilienceDnsTest, NameResolvingToTwoAddressesGivesTwoEndpoints) {
  auto addrs = ResolveLocalhost();
  bool v4 = std::find(addrs.begin(), addrs.end(), "127.0.0.1") != addrs.end();
  bool v6 = std::find(addrs.begin(), addrs.end(), "::1") != addrs.end();
  if (!v4 || !v6 || !Ipv6LoopbackAvailable()) {
    std::string got;
    for (const auto& a : addrs) got += (got.empty() ? "" : ", ") + a;
    GTEST_SKIP() << "\"localhost\" must resolve to both 127.0.0.1 and ::1 (and [::1] be bindable) for this test; "
                 << "here it resolves to [" << got << "] (see /etc/hosts)";
  }
  int port = 0;
  for (int i = 0; i < 50 && port == 0; ++i) {
    int p = FreePort();
    if (Ipv6PortFree(p)) port = p;
  }
  ASSERT_NE(port, 0) << "no port free on both 127.0.0.1 and [::1]";
  const std::string p = std::to_string(port);
  StartBackend("v4", "127.0.0.1:" + p);
  StartBackend("v6", "[::1]:" + p);
  ASSERT_NO_FATAL_FAILURE(Start(Config({"localhost:" + p})));

  std::set<std::string> listed;
  for (const auto& e : Clusters()) {
    if (e.cluster == kCluster && e.origin == "localhost:" + p) listed.insert(e.address);
  }
  EXPECT_EQ(listed, (std::set<std::string>{"127.0.0.1:" + p, "[::1]:" + p})) << ClustersText();

  auto calls = Sequential(20);
  auto failures = Failed(calls);
  EXPECT_TRUE(failures.empty()) << DescribeAll(failures);
  EXPECT_GE(AnsweredBy(calls, "v4"), 5u);
  EXPECT_GE(AnsweredBy(calls, "v6"), 5u);
}

}  // namespace
}  // namespace sytest::resilience
