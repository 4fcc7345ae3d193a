// listeners[].grpc_web and its cors map: defaults, values, and errors with
// file:line:col.
#include <gtest/gtest.h>

#include "config/loader.h"

namespace switchyard::config {
namespace {

LoadResult load(const std::string& yaml) { return loadString(yaml, "test.yaml"); }

std::string joined(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += "  " + e + "\n";
  return out;
}

bool hasError(const LoadResult& r, const std::string& prefix, const std::string& needle) {
  for (const auto& e : r.errors) {
    if (e.rfind(prefix, 0) == 0 && e.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string listener(const std::string& grpc_web) {
  return "listeners:\n  - name: public\n    address: 127.0.0.1:8080\n    grpc_web: " + grpc_web + "\n";
}

TEST(ConfigGrpcWeb, AbsentByDefault) {
  LoadResult r = load("listeners:\n  - name: public\n    address: 127.0.0.1:8080\n");
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_FALSE(r.config->listeners[0].grpc_web);
}

TEST(ConfigGrpcWeb, PresenceEnablesItWithoutCors) {
  LoadResult r = load(listener("{}"));
  ASSERT_TRUE(r.config) << joined(r);
  ASSERT_TRUE(r.config->listeners[0].grpc_web);
  EXPECT_FALSE(r.config->listeners[0].grpc_web->cors);
}

TEST(ConfigGrpcWeb, CorsValuesAndDefaults) {
  LoadResult r = load(listener(
      "{ cors: { allow_origins: [\"https://app.example.com\", \"*.example.org\"], max_age: 5m, "
      "allow_headers: [x-tenant], expose_headers: [x-cost], allow_credentials: true } }"));
  ASSERT_TRUE(r.config) << joined(r);
  const auto& cors = *r.config->listeners[0].grpc_web->cors;
  EXPECT_EQ(cors.allow_origins, (std::vector<std::string>{"https://app.example.com", "*.example.org"}));
  EXPECT_EQ(cors.max_age, Duration(std::chrono::minutes(5)));
  EXPECT_EQ(cors.allow_headers, std::vector<std::string>{"x-tenant"});
  EXPECT_EQ(cors.expose_headers, std::vector<std::string>{"x-cost"});
  EXPECT_TRUE(cors.allow_credentials);

  LoadResult d = load(listener("{ cors: { allow_origins: [\"*\"] } }"));
  ASSERT_TRUE(d.config) << joined(d);
  EXPECT_EQ(d.config->listeners[0].grpc_web->cors->max_age, Duration(std::chrono::minutes(10)));
  EXPECT_FALSE(d.config->listeners[0].grpc_web->cors->allow_credentials);
}

TEST(ConfigGrpcWeb, Errors) {
  LoadResult bad_origin = load(listener("{ cors: { allow_origins: [app.example.com] } }"));
  EXPECT_FALSE(bad_origin.config);
  EXPECT_TRUE(hasError(bad_origin, "test.yaml:4:41: ", "bad origin \"app.example.com\""))
      << joined(bad_origin);

  LoadResult no_origins = load(listener("{ cors: { max_age: 1m } }"));
  EXPECT_FALSE(no_origins.config);
  EXPECT_TRUE(hasError(no_origins, "test.yaml:4:", "allow_origins")) << joined(no_origins);

  LoadResult unknown = load(listener("{ corz: {} }"));
  EXPECT_FALSE(unknown.config);
  EXPECT_TRUE(hasError(unknown, "test.yaml:4:", "corz")) << joined(unknown);

  LoadResult bad_age = load(listener("{ cors: { allow_origins: [\"*\"], max_age: soon } }"));
  EXPECT_FALSE(bad_age.config);
  EXPECT_TRUE(hasError(bad_age, "test.yaml:4:", "max_age")) << joined(bad_age);
}

}  // namespace
}  // namespace switchyard::config
