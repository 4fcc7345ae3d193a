#include "grpc/method_path.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::grpc {
namespace {

TEST(GrpcMethodPath, Parses) {
  auto mp = parseMethodPath("/helloworld.Greeter/SayHello");
  ASSERT_TRUE(mp.has_value());
  EXPECT_EQ(mp->service, "helloworld.Greeter");
  EXPECT_EQ(mp->method, "SayHello");

  mp = parseMethodPath("/S/m");
  ASSERT_TRUE(mp.has_value());
  EXPECT_EQ(mp->service, "S");
  EXPECT_EQ(mp->method, "m");

  mp = parseMethodPath("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
  ASSERT_TRUE(mp.has_value());
  EXPECT_EQ(mp->service, "grpc.reflection.v1alpha.ServerReflection");
  EXPECT_EQ(mp->method, "ServerReflectionInfo");
}

TEST(GrpcMethodPath, ViewsPointIntoTheInput) {
  const std::string path = "/a.B/C";
  auto mp = parseMethodPath(path);
  ASSERT_TRUE(mp.has_value());
  EXPECT_EQ(mp->service.data(), path.data() + 1);
  EXPECT_EQ(mp->method.data(), path.data() + 5);
}

TEST(GrpcMethodPath, PreservesCase) {
  auto mp = parseMethodPath("/PKG.svc/mEtHoD");
  ASSERT_TRUE(mp.has_value());
  EXPECT_EQ(mp->service, "PKG.svc");
  EXPECT_EQ(mp->method, "mEtHoD");
}

TEST(GrpcMethodPath, Rejects) {
  for (const char* bad : {"", "/", "//", "///", "pkg.Svc/Method", "/pkg.Svc", "/pkg.Svc/", "//Method",
                          "/pkg.Svc/Method/", "/pkg.Svc/Method/extra", "/a/b/c", "/pkg.Svc/Method?x=1",
                          "/pkg.Svc/Method#frag", "/pkg.Svc?x/Method", "/pkg Svc/Method", "/pkg.Svc/Me thod",
                          "/pkg.Svc/Method\t", "*", "http://h/pkg.Svc/Method"}) {
    EXPECT_EQ(parseMethodPath(bad), std::nullopt) << "'" << bad << "'";
  }
  EXPECT_EQ(parseMethodPath(std::string_view("/a/b\0", 5)), std::nullopt);
}

}  // namespace
}  // namespace switchyard::grpc
