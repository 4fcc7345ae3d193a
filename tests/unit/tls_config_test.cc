// TLS configuration keys (listener, cluster and route), SNI name matching and
// allowed_sans patterns: defaults, values and file:line:col errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "config/loader.h"
#include "routing/san_match.h"
#include "tls/server_context.h"

namespace switchyard {
namespace {

namespace fs = std::filesystem;

// The loader checks that files are readable, not their contents; any file does.
const std::string kFile = "/proc/self/cmdline";

std::string Errors(const config::LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e + "\n";
  return out;
}

config::LoadResult Load(const std::string& listener_tls, const std::string& route_extra = "",
                        const std::string& cluster_extra = "") {
  return config::loadString("listeners:\n"
                            "  - name: public\n"
                            "    address: 127.0.0.1:0\n"
                            "    tls:\n" + listener_tls +
                            "routes:\n"
                            "  - match: { service: a.B }\n"
                            "    cluster: c\n" + route_extra +
                            "clusters:\n"
                            "  - name: c\n"
                            "    endpoints: [127.0.0.1:1]\n" + cluster_extra,
                            "/tmp/t.yaml");
}

const std::string kCertKey = "      cert: " + kFile + "\n      key: " + kFile + "\n";

TEST(TlsConfig, Defaults) {
  auto r = Load(kCertKey);
  ASSERT_TRUE(r.config) << Errors(r);
  const auto& t = *r.config->listeners[0].tls;
  EXPECT_EQ(t.client_auth, "none");
  EXPECT_EQ(t.handshake_timeout, std::chrono::seconds(10));
  EXPECT_TRUE(t.session_resumption);
  EXPECT_FALSE(t.forward_client_cert);
  EXPECT_EQ(t.min_version, "1.2");
  EXPECT_EQ(t.max_version, "1.3");
  EXPECT_FALSE(r.config->routes[0].require_client_cert);
  EXPECT_FALSE(r.config->clusters[0].tls.has_value());
}

TEST(TlsConfig, EveryListenerKey) {
  auto r = Load(kCertKey +
                "      client_ca: " + kFile + "\n      client_auth: require\n      crl: " + kFile +
                "\n      verify_depth: 3\n      handshake_timeout: 2s\n      forward_client_cert: true\n"
                "      ciphers: ECDHE-RSA-AES128-GCM-SHA256\n      ciphersuites: TLS_AES_128_GCM_SHA256\n"
                "      groups: X25519\n      session_timeout: 1m\n      max_version: \"1.3\"\n"
                "      certificates:\n        - { cert: " + kFile + ", key: " + kFile +
                ", server_names: [API.example.com, \"*.api.example.com\"] }\n");
  ASSERT_TRUE(r.config) << Errors(r);
  const auto& t = *r.config->listeners[0].tls;
  EXPECT_EQ(t.client_auth, "require");
  EXPECT_EQ(t.verify_depth, 3u);
  EXPECT_EQ(t.handshake_timeout, std::chrono::seconds(2));
  EXPECT_TRUE(t.forward_client_cert);
  ASSERT_EQ(t.certificates.size(), 1u);
  EXPECT_EQ(t.certificates[0].server_names, (std::vector<std::string>{"api.example.com", "*.api.example.com"}));
}

TEST(TlsConfig, SessionTicketKeys) {
  auto r = Load(kCertKey + "      session_ticket_keys: [" + kFile + ", " + kFile + "]\n");
  ASSERT_TRUE(r.config) << Errors(r);
  EXPECT_EQ(r.config->listeners[0].tls->session_ticket_keys, (std::vector<std::string>{kFile, kFile}));
  auto none = Load(kCertKey);
  ASSERT_TRUE(none.config) << Errors(none);
  EXPECT_TRUE(none.config->listeners[0].tls->session_ticket_keys.empty());

  auto bad = Load(kCertKey + "      session_resumption: false\n      session_ticket_keys: [/nonexistent/k]\n");
  ASSERT_FALSE(bad.config);
  std::string e = Errors(bad);
  EXPECT_NE(e.find("/tmp/t.yaml:8:29: cannot read tls.session_ticket_keys file \"/nonexistent/k\""),
            std::string::npos) << e;
  EXPECT_NE(e.find("/tmp/t.yaml:8:28: tls.session_ticket_keys needs tls.session_resumption"), std::string::npos)
      << e;
  auto empty = Load(kCertKey + "      session_ticket_keys: []\n");
  ASSERT_FALSE(empty.config);
  EXPECT_NE(Errors(empty).find("tls.session_ticket_keys must list at least one key file"), std::string::npos)
      << Errors(empty);
}

TEST(TlsConfig, ClientAuthNeedsAClientCa) {
  auto r = Load(kCertKey + "      client_auth: optional\n");
  ASSERT_FALSE(r.config);
  EXPECT_NE(Errors(r).find("/tmp/t.yaml:7:20: tls.client_auth \"optional\" needs tls.client_ca"),
            std::string::npos)
      << Errors(r);
}

TEST(TlsConfig, BadValuesAreReportedWithTheirPosition) {
  auto r = Load(kCertKey + "      client_auth: maybe\n      handshake_timeout: 0s\n      min_version: \"1.1\"\n");
  ASSERT_FALSE(r.config);
  std::string e = Errors(r);
  EXPECT_NE(e.find("/tmp/t.yaml:7:20: tls.client_auth must be none, optional or require"), std::string::npos) << e;
  EXPECT_NE(e.find("/tmp/t.yaml:8:26:"), std::string::npos) << e;
  EXPECT_NE(e.find("tls.min_version must be \"1.2\" or \"1.3\""), std::string::npos) << e;
}

TEST(TlsConfig, ServerNamesMustBeUniqueAcrossCertificates) {
  auto r = Load(kCertKey + "      certificates:\n"
                "        - { cert: " + kFile + ", key: " + kFile + ", server_names: [a.example.com] }\n"
                "        - { cert: " + kFile + ", key: " + kFile + ", server_names: [a.example.com, b.example.com] }\n"
                "        - { cert: " + kFile + ", key: " + kFile + ", server_names: [\"*.*.example.com\"] }\n");
  ASSERT_FALSE(r.config);
  std::string e = Errors(r);
  EXPECT_NE(e.find("server name \"a.example.com\" is already served by the certificate at 8:11"), std::string::npos)
      << e;
  EXPECT_NE(e.find("bad server name \"*.*.example.com\""), std::string::npos) << e;
}

TEST(TlsConfig, IdenticalNameListsFormOneGroup) {
  auto r = Load(kCertKey + "      certificates:\n"
                "        - { cert: " + kFile + ", key: " + kFile + ", server_names: [a.example.com] }\n"
                "        - { cert: " + kFile + ", key: " + kFile + ", server_names: [a.example.com] }\n");
  EXPECT_TRUE(r.config) << Errors(r);
}

TEST(TlsConfig, RouteAndClusterKeys) {
  auto r = Load(kCertKey, "    allowed_sans: [\"spiffe://prod/*\"]\n",
                "    tls: { ca: " + kFile + ", server_name: b.internal, verify: false, cert: " + kFile +
                    ", key: " + kFile + ", min_version: \"1.3\" }\n");
  ASSERT_TRUE(r.config) << Errors(r);
  EXPECT_TRUE(r.config->routes[0].require_client_cert);  // implied by allowed_sans
  const auto& t = *r.config->clusters[0].tls;
  EXPECT_EQ(t.server_name, "b.internal");
  EXPECT_FALSE(t.verify);
  EXPECT_EQ(t.min_version, "1.3");
}

TEST(TlsConfig, ClusterCertNeedsKeyAndFilesMustExist) {
  auto r = Load(kCertKey, "", "    tls: { cert: " + kFile + ", ca: /nonexistent/ca.pem }\n");
  ASSERT_FALSE(r.config);
  std::string e = Errors(r);
  EXPECT_NE(e.find("cluster tls.cert and tls.key must be given together"), std::string::npos) << e;
  EXPECT_NE(e.find("cannot read tls.ca file \"/nonexistent/ca.pem\""), std::string::npos) << e;
}

TEST(ServerNameMatch, ExactAndOneWildcardLabel) {
  EXPECT_TRUE(tls::serverNameMatches("api.example.com", "api.example.com"));
  EXPECT_TRUE(tls::serverNameMatches("*.example.com", "api.example.com"));
  EXPECT_FALSE(tls::serverNameMatches("*.example.com", "example.com"));
  EXPECT_FALSE(tls::serverNameMatches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(tls::serverNameMatches("api.example.com", "x.api.example.com"));
}

TEST(SanMatch, Patterns) {
  using routing::sanPatternMatches;
  EXPECT_TRUE(sanPatternMatches("spiffe://prod/ns/billing/*", "spiffe://prod/ns/billing/sa/api"));
  EXPECT_FALSE(sanPatternMatches("spiffe://prod/ns/billing/*", "spiffe://prod/ns/other/sa/x"));
  EXPECT_FALSE(sanPatternMatches("spiffe://prod/ns/billing/*", "spiffe://prod/ns/billing"));
  EXPECT_TRUE(sanPatternMatches("*.internal", "db.internal"));
  EXPECT_TRUE(sanPatternMatches("a*b*c", "a-x-b-y-c"));
  EXPECT_FALSE(sanPatternMatches("a*b*c", "a-x-c-y-b"));
  EXPECT_TRUE(sanPatternMatches("exact", "exact"));
  EXPECT_FALSE(sanPatternMatches("exact", "exact2"));
  EXPECT_TRUE(sanPatternMatches("*", ""));
  EXPECT_TRUE(routing::anySanAllowed({"x", "spiffe://*"}, {"dns.name", "spiffe://a"}));
  EXPECT_FALSE(routing::anySanAllowed({}, {"spiffe://a"}));
}

}  // namespace
}  // namespace switchyard
