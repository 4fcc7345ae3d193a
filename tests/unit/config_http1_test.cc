// listeners[].http1: default, value, and errors with file:line:col.
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

std::string listener(const std::string& http1) {
  return "listeners:\n  - name: public\n    address: 127.0.0.1:8080\n    http1: " + http1 + "\n";
}

TEST(ConfigHttp1, DefaultBodyLimitIs4MiB) {
  LoadResult r = load("listeners:\n  - name: public\n    address: 127.0.0.1:8080\n");
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->listeners[0].http1.max_request_body_bytes, 4u * 1024 * 1024);
}

TEST(ConfigHttp1, BodyLimitTakesASize) {
  LoadResult r = load(listener("{ max_request_body_bytes: 64KiB }"));
  ASSERT_TRUE(r.config) << joined(r);
  EXPECT_EQ(r.config->listeners[0].http1.max_request_body_bytes, 64u * 1024);
}

TEST(ConfigHttp1, Errors) {
  LoadResult zero = load(listener("{ max_request_body_bytes: 0 }"));
  EXPECT_FALSE(zero.config);
  ASSERT_FALSE(zero.errors.empty());
  EXPECT_EQ(zero.errors[0].rfind("test.yaml:4:", 0), 0u) << joined(zero);
  EXPECT_NE(zero.errors[0].find("max_request_body_bytes"), std::string::npos) << joined(zero);

  LoadResult unknown = load(listener("{ max_body: 1KiB }"));
  EXPECT_FALSE(unknown.config);
  ASSERT_FALSE(unknown.errors.empty());
  EXPECT_EQ(unknown.errors[0].rfind("test.yaml:4:", 0), 0u) << joined(unknown);
  EXPECT_NE(unknown.errors[0].find("max_body"), std::string::npos) << joined(unknown);
}

}  // namespace
}  // namespace switchyard::config
