#include "routing/route_table.h"

#include <gtest/gtest.h>

#include <chrono>

namespace switchyard::routing {
namespace {

using namespace std::chrono_literals;

config::RouteSpec exact(std::string svc, std::string method, std::string cluster) {
  config::RouteSpec r;
  r.match.service = std::move(svc);
  r.match.method = std::move(method);
  r.cluster = std::move(cluster);
  return r;
}

config::RouteSpec service(std::string svc, std::string cluster) { return exact(std::move(svc), "", std::move(cluster)); }

config::RouteSpec prefix(std::string p, std::string cluster) {
  config::RouteSpec r;
  r.match.prefix = std::move(p);
  r.cluster = std::move(cluster);
  return r;
}

std::string clusterOf(const RouteTable& t, std::string_view path) {
  const Route* r = t.match(path);
  return r ? r->cluster : "<none>";
}

TEST(RouteTable, BuildCopiesSpecsAndNamesRoutes) {
  auto e = exact("helloworld.Greeter", "SayHello", "a");
  e.timeout_default = 2s;
  e.timeout_max = 30s;
  config::RetryPolicySpec rp;
  rp.retry_on = {14};
  rp.max_attempts = 3;
  e.retry = rp;
  const auto t = RouteTable::build({e, service("helloworld.Greeter", "b"), prefix("/grpc.reflection.", "c"),
                                    prefix("", "d")});
  const auto& rs = t.routes();
  ASSERT_EQ(rs.size(), 4u);
  for (size_t i = 0; i < rs.size(); ++i) EXPECT_EQ(rs[i].index, i);

  EXPECT_EQ(rs[0].name, "helloworld.Greeter/SayHello");
  EXPECT_EQ(rs[0].service, "helloworld.Greeter");
  EXPECT_EQ(rs[0].method, "SayHello");
  EXPECT_EQ(rs[0].cluster, "a");
  EXPECT_EQ(rs[0].timeout_default, Duration(2s));
  EXPECT_EQ(rs[0].timeout_max, Duration(30s));
  ASSERT_TRUE(rs[0].retry.has_value());
  EXPECT_EQ(rs[0].retry->max_attempts, 3u);
  EXPECT_EQ(rs[0].retry->retry_on, std::vector<int>{14});

  EXPECT_EQ(rs[1].name, "helloworld.Greeter/*");
  EXPECT_TRUE(rs[1].method.empty());
  EXPECT_FALSE(rs[1].timeout_default.has_value());
  EXPECT_FALSE(rs[1].retry.has_value());

  EXPECT_EQ(rs[2].name, "prefix:/grpc.reflection.");
  EXPECT_EQ(rs[2].prefix, "/grpc.reflection.");
  EXPECT_TRUE(rs[2].service.empty());

  EXPECT_EQ(rs[3].name, "*");
}

TEST(RouteTable, EmptyTableMatchesNothing) {
  const auto t = RouteTable::build({});
  EXPECT_TRUE(t.routes().empty());
  EXPECT_EQ(t.match("/a.B/C"), nullptr);
  EXPECT_EQ(t.match(""), nullptr);
}

TEST(RouteTable, ExactServiceAndPrefixKinds) {
  const auto t = RouteTable::build({exact("pkg.A", "Get", "exact"), service("pkg.B", "svc"), prefix("/other.", "pfx")});
  EXPECT_EQ(clusterOf(t, "/pkg.A/Get"), "exact");
  EXPECT_EQ(clusterOf(t, "/pkg.A/Put"), "<none>");
  EXPECT_EQ(clusterOf(t, "/pkg.A/GetX"), "<none>");
  EXPECT_EQ(clusterOf(t, "/pkg.B/Anything"), "svc");
  EXPECT_EQ(clusterOf(t, "/pkg.Bx/Anything"), "<none>");
  EXPECT_EQ(clusterOf(t, "/pkg/B/Anything"), "<none>");
  EXPECT_EQ(clusterOf(t, "/other.Svc/M"), "pfx");
  EXPECT_EQ(clusterOf(t, "/other."), "pfx");  // prefix matches the raw path
  EXPECT_EQ(clusterOf(t, "/nope.Svc/M"), "<none>");
}

TEST(RouteTable, FirstMatchWinsInSpecOrder) {
  // A broad prefix before a specific exact route shadows it.
  const auto t1 = RouteTable::build({prefix("/pkg.", "prefix"), exact("pkg.A", "Get", "exact"), service("pkg.A", "svc")});
  EXPECT_EQ(clusterOf(t1, "/pkg.A/Get"), "prefix");
  EXPECT_EQ(clusterOf(t1, "/pkg.A/Put"), "prefix");

  // Exact before service before prefix: each wins where it matches.
  const auto t2 = RouteTable::build({exact("pkg.A", "Get", "exact"), service("pkg.A", "svc"), prefix("/pkg.", "prefix")});
  EXPECT_EQ(clusterOf(t2, "/pkg.A/Get"), "exact");
  EXPECT_EQ(clusterOf(t2, "/pkg.A/Put"), "svc");
  EXPECT_EQ(clusterOf(t2, "/pkg.B/Put"), "prefix");

  // A service route before an exact route for the same service shadows it.
  const auto t3 = RouteTable::build({service("pkg.A", "svc"), exact("pkg.A", "Get", "exact")});
  EXPECT_EQ(clusterOf(t3, "/pkg.A/Get"), "svc");

  // Prefix between service and exact: the service route (index 0) wins for
  // pkg.A, the prefix (index 1) wins over the later exact route for pkg.B.
  const auto t4 = RouteTable::build({service("pkg.A", "svcA"), prefix("/pkg.", "prefix"), exact("pkg.B", "Get", "exactB")});
  EXPECT_EQ(clusterOf(t4, "/pkg.A/Get"), "svcA");
  EXPECT_EQ(clusterOf(t4, "/pkg.B/Get"), "prefix");

  // Duplicates: the first one wins.
  const auto t5 = RouteTable::build({exact("pkg.A", "Get", "first"), exact("pkg.A", "Get", "second"),
                                     service("pkg.A", "svc1"), service("pkg.A", "svc2"), prefix("/p", "p1"),
                                     prefix("/p", "p2")});
  EXPECT_EQ(clusterOf(t5, "/pkg.A/Get"), "first");
  EXPECT_EQ(clusterOf(t5, "/pkg.A/Put"), "svc1");
  EXPECT_EQ(clusterOf(t5, "/p.X/Y"), "p1");
  EXPECT_EQ(t5.match("/pkg.A/Get")->index, 0u);
  EXPECT_EQ(t5.match("/pkg.A/Put")->index, 2u);
  EXPECT_EQ(t5.match("/p.X/Y")->index, 4u);

  // Longer prefix after a shorter one never wins.
  const auto t6 = RouteTable::build({prefix("/a", "short"), prefix("/a.B/", "long")});
  EXPECT_EQ(clusterOf(t6, "/a.B/C"), "short");
}

TEST(RouteTable, CatchAllRoute) {
  const auto t = RouteTable::build({exact("pkg.A", "Get", "exact"), prefix("", "default")});
  EXPECT_EQ(clusterOf(t, "/pkg.A/Get"), "exact");
  EXPECT_EQ(clusterOf(t, "/x.Y/Z"), "default");
  EXPECT_EQ(clusterOf(t, "garbage"), "default");
}

TEST(RouteTable, CaseSensitive) {
  const auto t = RouteTable::build({exact("pkg.A", "Get", "exact"), service("pkg.B", "svc"), prefix("/grpc.", "pfx")});
  EXPECT_EQ(clusterOf(t, "/pkg.A/get"), "<none>");
  EXPECT_EQ(clusterOf(t, "/PKG.A/Get"), "<none>");
  EXPECT_EQ(clusterOf(t, "/pkg.b/Get"), "<none>");
  EXPECT_EQ(clusterOf(t, "/GRPC.x/Y"), "<none>");
  EXPECT_EQ(clusterOf(t, "/pkg.B/get"), "svc");  // method case is free under a service route
}

TEST(RouteTable, MalformedPathsDoNotMatchServiceOrExactRoutes) {
  const auto t = RouteTable::build({exact("pkg.A", "Get", "exact"), service("pkg.B", "svc")});
  for (const char* bad : {"", "/", "pkg.A/Get", "/pkg.A/Get/", "/pkg.A/Get/x", "/pkg.A/Get?x=1", "/pkg.B",
                          "/pkg.B/", "/pkg.B//", "/pkg.B/M/extra", "/pkg.B/M?q", "//pkg.B/M", "/pkg.B/M#f",
                          " /pkg.B/M"}) {
    EXPECT_EQ(t.match(bad), nullptr) << "'" << bad << "'";
  }
}

TEST(RouteTable, MethodWithoutServiceNeverMatches) {
  config::RouteSpec bad;
  bad.match.method = "Get";
  bad.cluster = "bad";
  const auto t = RouteTable::build({bad, prefix("/", "pfx")});
  ASSERT_EQ(t.routes().size(), 2u);
  EXPECT_EQ(clusterOf(t, "/pkg.A/Get"), "pfx");
  EXPECT_EQ(clusterOf(t, "/Get"), "pfx");
}

TEST(RouteTable, ServiceWinsOverPrefixInTheSameSpec) {
  config::RouteSpec both = service("pkg.A", "both");
  both.match.prefix = "/other.";
  const auto t = RouteTable::build({both});
  EXPECT_EQ(clusterOf(t, "/pkg.A/M"), "both");
  EXPECT_EQ(clusterOf(t, "/other.X/M"), "<none>");
}

TEST(RouteTable, MatchReturnsStablePointersIntoRoutes) {
  const auto t = RouteTable::build({service("a.B", "x"), prefix("/", "y")});
  EXPECT_EQ(t.match("/a.B/C"), &t.routes()[0]);
  EXPECT_EQ(t.match("/c.D/E"), &t.routes()[1]);
}

TEST(RouteTable, ManyRoutes) {
  std::vector<config::RouteSpec> specs;
  for (int i = 0; i < 500; ++i) {
    specs.push_back(exact("svc" + std::to_string(i) + ".S", "M", "e" + std::to_string(i)));
    specs.push_back(service("svc" + std::to_string(i) + ".S", "s" + std::to_string(i)));
  }
  specs.push_back(prefix("/", "last"));
  const auto t = RouteTable::build(specs);
  for (int i = 0; i < 500; i += 37) {
    const std::string svc = "/svc" + std::to_string(i) + ".S/";
    EXPECT_EQ(clusterOf(t, svc + "M"), "e" + std::to_string(i));
    EXPECT_EQ(clusterOf(t, svc + "N"), "s" + std::to_string(i));
  }
  EXPECT_EQ(clusterOf(t, "/svc9999.S/M"), "last");
}

}  // namespace
}  // namespace switchyard::routing
