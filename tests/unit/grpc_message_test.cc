#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "grpc/content_type.h"
#include "grpc/message.h"

namespace switchyard::grpc {
namespace {

TEST(GrpcMessageEncode, PlainAsciiIsUnchanged) {
  EXPECT_EQ(percentEncodeGrpcMessage(""), "");
  EXPECT_EQ(percentEncodeGrpcMessage("no healthy upstream"), "no healthy upstream");
  EXPECT_EQ(percentEncodeGrpcMessage("a!\"#$&'()*+,-./0:;<=>?@Z[\\]^_`z{|}~"),
            "a!\"#$&'()*+,-./0:;<=>?@Z[\\]^_`z{|}~");
}

TEST(GrpcMessageEncode, EveryByte) {
  for (int b = 0; b < 256; ++b) {
    const std::string in(1, static_cast<char>(b));
    const std::string out = percentEncodeGrpcMessage(in);
    const bool plain = (b >= 0x20 && b <= 0x24) || (b >= 0x26 && b <= 0x7e);
    if (plain) {
      EXPECT_EQ(out, in) << b;
    } else {
      char want[4];
      std::snprintf(want, sizeof want, "%%%02X", b);
      EXPECT_EQ(out, want) << b;
    }
  }
}

TEST(GrpcMessageEncode, PercentNewlineAndUtf8) {
  EXPECT_EQ(percentEncodeGrpcMessage("100%"), "100%25");
  EXPECT_EQ(percentEncodeGrpcMessage("a\nb\r"), "a%0Ab%0D");
  EXPECT_EQ(percentEncodeGrpcMessage("caf\xc3\xa9"), "caf%C3%A9");        // é
  EXPECT_EQ(percentEncodeGrpcMessage("\xe2\x82\xac"), "%E2%82%AC");      // €
  EXPECT_EQ(percentEncodeGrpcMessage(std::string_view("\0", 1)), "%00");
}

TEST(GrpcMessageDecode, Valid) {
  EXPECT_EQ(percentDecodeGrpcMessage("100%25"), "100%");
  EXPECT_EQ(percentDecodeGrpcMessage("caf%C3%A9"), "caf\xc3\xa9");
  EXPECT_EQ(percentDecodeGrpcMessage("caf%c3%a9"), "caf\xc3\xa9");  // lower-case hex accepted
  EXPECT_EQ(percentDecodeGrpcMessage("%00"), std::string(1, '\0'));
  EXPECT_EQ(percentDecodeGrpcMessage("plain text"), "plain text");
}

TEST(GrpcMessageDecode, InvalidSequencesAreKept) {
  EXPECT_EQ(percentDecodeGrpcMessage("%"), "%");
  EXPECT_EQ(percentDecodeGrpcMessage("%4"), "%4");
  EXPECT_EQ(percentDecodeGrpcMessage("abc%"), "abc%");
  EXPECT_EQ(percentDecodeGrpcMessage("abc%4"), "abc%4");
  EXPECT_EQ(percentDecodeGrpcMessage("%GG"), "%GG");
  EXPECT_EQ(percentDecodeGrpcMessage("%4G%41"), "%4GA");
  EXPECT_EQ(percentDecodeGrpcMessage("%%41"), "%A");
  EXPECT_EQ(percentDecodeGrpcMessage("100% sure"), "100% sure");
  EXPECT_EQ(percentDecodeGrpcMessage("\xff raw"), "\xff raw");  // unencoded non-ASCII kept
}

TEST(GrpcMessage, RoundTripAllBytes) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(percentDecodeGrpcMessage(percentEncodeGrpcMessage(all)), all);
}

TEST(GrpcContentType, Accepts) {
  for (const char* ok : {"application/grpc", "application/grpc+proto", "application/grpc+json",
                         "application/grpc+custom", "application/grpc;charset=utf-8",
                         "application/grpc+proto; charset=utf-8", "application/grpc ;x=y", "APPLICATION/GRPC",
                         "Application/gRPC+proto", " application/grpc "}) {
    EXPECT_TRUE(isGrpcContentType(ok)) << "'" << ok << "'";
  }
}

TEST(GrpcContentType, Rejects) {
  for (const char* bad : {"", "application/grpc-web", "application/grpc-web+proto", "application/grpc-web-text",
                          "application/grpcx", "application/grp", "application/json", "text/html",
                          "application/grpc x", "xapplication/grpc", "application/ grpc", "grpc"}) {
    EXPECT_FALSE(isGrpcContentType(bad)) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace switchyard::grpc
