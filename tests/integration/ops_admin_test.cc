// The admin endpoint: liveness, readiness, /clusters and /config contents
// (with TLS key material kept out), 404 for unknown paths, 405 for non-GET.
#include "ops_support.h"

namespace sytest::ops {
namespace {

class OpsAdminTest : public OpsTest {
 protected:
  google::protobuf::Struct Json(const std::string& path) {
    HttpResponse r = Admin(path);
    EXPECT_EQ(r.status, 200) << path << ": " << r.error << r.head;
    EXPECT_NE(r.Header("Content-Type").find("application/json"), std::string::npos) << path << ": " << r.head;
    google::protobuf::Struct s;
    std::string error;
    EXPECT_TRUE(ParseJsonObject(r.body, &s, &error)) << path << " is not a JSON object: " << error << "\n" << r.body;
    return s;
  }
};

// /healthz, /ready, /clusters and /config answer as documented; /config shows
// the TLS key's path but none of the key itself.
TEST_F(OpsAdminTest, EndpointsAnswerAsDocumented) {
  TestPki pki;
  std::string error;
  ASSERT_TRUE(MakeTestPki(dir().path(), &pki, &error)) << error;
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.listeners.push_back({"secure", Loopback(), pki.server_cert.string(), pki.server_key.string()});
  c.clusters[0].extra = {"health_check: { interval: 200ms }"};
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(c));

  HttpResponse healthz = Admin("/healthz");
  EXPECT_EQ(healthz.status, 200) << healthz.error;
  EXPECT_EQ(healthz.body, "ok\n");
  EXPECT_EQ(healthz.Header("Cache-Control"), "no-store");

  bool ready = WaitUntil([&] { return Admin("/ready").status == 200; }, 10000ms, 50ms);
  HttpResponse r = Admin("/ready");
  EXPECT_TRUE(ready) << "/ready with a healthy endpoint: " << r.status << " " << r.body;
  EXPECT_EQ(r.body, "ready\n");

  // /clusters: the cluster, its endpoint and the endpoint's health.
  {
    auto clusters = Json("/clusters");
    const auto* list = Field(clusters, "clusters");
    ASSERT_NE(list, nullptr) << "no \"clusters\" key";
    ASSERT_EQ(list->list_value().values_size(), 1);
    const auto& cluster = list->list_value().values(0).struct_value();
    ASSERT_NE(Field(cluster, "name"), nullptr);
    EXPECT_EQ(Field(cluster, "name")->string_value(), "echo");
    const auto* endpoints = Field(cluster, "endpoints");
    ASSERT_NE(endpoints, nullptr) << "no endpoints";
    ASSERT_EQ(endpoints->list_value().values_size(), 1);
    const auto& ep = endpoints->list_value().values(0).struct_value();
    ASSERT_NE(Field(ep, "address"), nullptr);
    EXPECT_EQ(Field(ep, "address")->string_value(), b.address);
    ASSERT_NE(Field(ep, "health"), nullptr) << "endpoint without \"health\"";
    EXPECT_EQ(Field(ep, "health")->string_value(), "healthy");
  }

  // /config: listeners by name, routes, TLS as paths.
  HttpResponse config = Admin("/config");
  ASSERT_EQ(config.status, 200);
  auto cfg = Json("/config");
  {
    const auto* listeners = Field(cfg, "listeners");
    ASSERT_NE(listeners, nullptr);
    std::vector<std::string> names;
    std::string key_path;
    for (const auto& v : listeners->list_value().values()) {
      const auto& l = v.struct_value();
      if (const auto* n = Field(l, "name")) names.push_back(n->string_value());
      if (const auto* t = Field(l, "tls")) {
        if (const auto* k = Field(t->struct_value(), "key")) key_path = k->string_value();
      }
    }
    EXPECT_EQ(names, (std::vector<std::string>{"public", "secure"}));
    EXPECT_EQ(key_path, pki.server_key.string()) << "the TLS key path is missing from /config";
    const auto* routes = Field(cfg, "routes");
    ASSERT_NE(routes, nullptr);
    ASSERT_EQ(routes->list_value().values_size(), 2);
    const auto& route = routes->list_value().values(0).struct_value();
    ASSERT_NE(Field(route, "cluster"), nullptr);
    EXPECT_EQ(Field(route, "cluster")->string_value(), "echo");
    ASSERT_NE(Field(route, "match"), nullptr);
    ASSERT_NE(Field(Field(route, "match")->struct_value(), "service"), nullptr);
    EXPECT_EQ(Field(Field(route, "match")->struct_value(), "service")->string_value(), "switchyard.test.Echo");
  }
  // No key material in any answer: neither the PEM armour nor a line of it.
  std::string pem = ReadFile(pki.server_key);
  ASSERT_NE(pem.find("PRIVATE KEY"), std::string::npos) << "unexpected key file format";
  std::vector<std::string> body_lines;
  {
    std::istringstream in(pem);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.rfind("-----", 0) != 0) body_lines.push_back(line);
    }
  }
  ASSERT_FALSE(body_lines.empty());
  for (const char* path : {"/config", "/clusters", "/metrics"}) {
    std::string body = Admin(path).body;
    EXPECT_EQ(body.find("PRIVATE KEY"), std::string::npos) << path << " shows key material";
    for (const auto& line : body_lines) {
      EXPECT_EQ(body.find(line), std::string::npos) << path << " contains a line of the private key";
    }
  }
}

// Unknown paths are 404 and any method other than GET is 405 with Allow: GET.
TEST_F(OpsAdminTest, UnknownPathIs404AndPostIs405) {
  Backend& b = StartBackend("backend-a");
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(DefaultConfig({&b})));
  for (const char* path : {"/nope", "/", "/healthz/extra", "/metricsx"}) {
    HttpResponse r = Admin(path);
    EXPECT_EQ(r.status, 404) << path << ": " << r.error << r.head;
  }
  for (const char* path : {"/healthz", "/ready", "/metrics", "/config", "/clusters"}) {
    HttpResponse r = Admin(path, "POST");
    EXPECT_EQ(r.status, 405) << "POST " << path << ": " << r.error << r.head;
    EXPECT_EQ(r.Header("Allow"), "GET") << "POST " << path;
  }
  HttpResponse del = Admin("/config", "DELETE");
  EXPECT_EQ(del.status, 405) << del.head;
  // Still serving after the rejected requests.
  EXPECT_EQ(Admin("/healthz").status, 200);
}

// /ready is 503 naming the cluster when its only endpoint fails health
// checks, and returns to 200 when it recovers; /clusters shows the change.
TEST_F(OpsAdminTest, ReadyFollowsEndpointHealth) {
  Backend& b = StartBackend("backend-a");
  ProxyConfig c = DefaultConfig({&b});
  c.clusters[0].extra = {"health_check: { interval: 100ms, unhealthy_threshold: 2, healthy_threshold: 1 }"};
  ASSERT_NO_FATAL_FAILURE(StartProxyWith(c));
  ASSERT_TRUE(WaitUntil([&] { return Admin("/ready").status == 200; }, 10000ms, 50ms));

  ASSERT_NO_FATAL_FAILURE(SetServing(b, false));
  bool down = WaitUntil([&] { return Admin("/ready").status == 503; }, 10000ms, 50ms);
  HttpResponse r = Admin("/ready");
  EXPECT_TRUE(down) << "/ready stayed " << r.status;
  EXPECT_EQ(r.body, "not ready: cluster echo has no healthy endpoint\n");
  EXPECT_NE(Admin("/clusters").body.find("\"unhealthy\""), std::string::npos);

  ASSERT_NO_FATAL_FAILURE(SetServing(b, true));
  EXPECT_TRUE(WaitUntil([&] { return Admin("/ready").status == 200; }, 10000ms, 50ms)) << "/ready did not recover";
  EXPECT_EQ(Admin("/healthz").status, 200);
}

}  // namespace
}  // namespace sytest::ops
