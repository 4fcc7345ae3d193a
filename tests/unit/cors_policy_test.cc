#include "routing/cors_policy.h"

#include <gtest/gtest.h>

namespace switchyard::routing {
namespace {

std::string field(const std::vector<grpc::HeaderField>& h, std::string_view name) {
  for (const auto& f : h) {
    if (f.name == name) return f.value;
  }
  return "<absent>";
}

config::CorsSpec spec(std::vector<std::string> origins) {
  config::CorsSpec s;
  s.allow_origins = std::move(origins);
  return s;
}

TEST(CorsPolicyTest, ExactOriginsCompareWhole) {
  CorsPolicy p(spec({"https://app.example.com"}));
  EXPECT_TRUE(p.allows("https://app.example.com"));
  EXPECT_TRUE(p.allows("HTTPS://App.Example.com"));
  EXPECT_FALSE(p.allows("http://app.example.com"));
  EXPECT_FALSE(p.allows("https://app.example.com:8443"));
  EXPECT_FALSE(p.allows("https://app.example.com.evil.net"));
  EXPECT_FALSE(p.allows(""));
  EXPECT_FALSE(p.allows("null"));
}

TEST(CorsPolicyTest, SuffixMatchesSubdomainsOnly) {
  CorsPolicy p(spec({"*.example.org"}));
  EXPECT_TRUE(p.allows("https://a.example.org"));
  EXPECT_TRUE(p.allows("http://b.c.example.org:8080"));
  EXPECT_FALSE(p.allows("https://example.org"));
  EXPECT_FALSE(p.allows("https://badexample.org"));
  EXPECT_FALSE(p.allows("https://a.example.org.evil.net"));
  EXPECT_FALSE(p.allows("a.example.org"));  // no scheme: not an origin
}

TEST(CorsPolicyTest, StarAllowsAnyOrigin) {
  CorsPolicy p(spec({"*"}));
  EXPECT_TRUE(p.allows("https://anything.test"));
  EXPECT_TRUE(p.allows("null"));
}

TEST(CorsPolicyTest, PreflightNamesMethodsHeadersAndMaxAge) {
  auto s = spec({"https://app.example.com"});
  s.max_age = std::chrono::minutes(10);
  s.allow_headers = {"X-Tenant"};
  s.expose_headers = {"x-request-cost"};
  CorsPolicy p(s);
  auto h = p.preflightHeaders("https://app.example.com");
  EXPECT_EQ(field(h, "access-control-allow-origin"), "https://app.example.com");
  EXPECT_EQ(field(h, "access-control-allow-methods"), "POST,OPTIONS");
  EXPECT_EQ(field(h, "access-control-max-age"), "600");
  EXPECT_NE(field(h, "access-control-allow-headers").find("x-grpc-web"), std::string::npos);
  EXPECT_NE(field(h, "access-control-allow-headers").find("x-tenant"), std::string::npos);
  EXPECT_EQ(field(h, "access-control-allow-credentials"), "<absent>");

  auto r = p.responseHeaders("https://app.example.com");
  std::string expose = field(r, "access-control-expose-headers");
  EXPECT_NE(expose.find("grpc-status"), std::string::npos);
  EXPECT_NE(expose.find("grpc-message"), std::string::npos);
  EXPECT_NE(expose.find("x-request-cost"), std::string::npos);
  EXPECT_EQ(field(r, "vary"), "origin");
}

TEST(CorsPolicyTest, CredentialsAreOptIn) {
  auto s = spec({"https://app.example.com"});
  s.allow_credentials = true;
  CorsPolicy p(s);
  EXPECT_EQ(field(p.responseHeaders("https://app.example.com"), "access-control-allow-credentials"),
            "true");
}

}  // namespace
}  // namespace switchyard::routing
