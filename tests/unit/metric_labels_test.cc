// Metric labels come from the operator's routes, never from a path the client
// invents: only named methods get series of their own.
#include <gtest/gtest.h>

#include "routing/metric_labels.h"

namespace switchyard::routing {
namespace {

config::RouteSpec Spec(std::string service, std::string method, std::string prefix,
                       std::vector<std::string> per_method = {}) {
  config::RouteSpec s;
  s.match.service = std::move(service);
  s.match.method = std::move(method);
  s.match.prefix = std::move(prefix);
  s.cluster = "c";
  s.stats_per_method = std::move(per_method);
  return s;
}

TEST(MetricLabels, ExactMethodRouteKeepsItsNames) {
  auto t = RouteTable::build({Spec("pkg.Svc", "Get", "")});
  const Route* r = t.match("/pkg.Svc/Get");
  ASSERT_NE(r, nullptr);
  auto l = metricLabels(*r, "/pkg.Svc/Get");
  EXPECT_EQ(l.service, "pkg.Svc");
  EXPECT_EQ(l.method, "Get");
}

TEST(MetricLabels, ServiceRouteCountsUnlistedMethodsAsOther) {
  auto t = RouteTable::build({Spec("pkg.Svc", "", "", {"pkg.Svc/Listed"})});
  const Route* r = t.match("/pkg.Svc/NoSuch12345");
  ASSERT_NE(r, nullptr);
  auto l = metricLabels(*r, "/pkg.Svc/NoSuch12345");
  EXPECT_EQ(l.service, "pkg.Svc");
  EXPECT_EQ(l.method, "other");
  l = metricLabels(*r, "/pkg.Svc/Listed");
  EXPECT_EQ(l.service, "pkg.Svc");
  EXPECT_EQ(l.method, "Listed");
}

TEST(MetricLabels, PrefixRouteUsesTheRouteNameUnlessListed) {
  auto t = RouteTable::build({Spec("", "", "/pkg.", {"pkg.A/Run"})});
  const Route* r = t.match("/pkg.Invented/Anything");
  ASSERT_NE(r, nullptr);
  auto l = metricLabels(*r, "/pkg.Invented/Anything");
  EXPECT_EQ(l.service, "prefix:/pkg.");
  EXPECT_EQ(l.method, "other");
  l = metricLabels(*r, "/pkg.A/Run");
  EXPECT_EQ(l.service, "pkg.A");
  EXPECT_EQ(l.method, "Run");
}

}  // namespace
}  // namespace switchyard::routing
