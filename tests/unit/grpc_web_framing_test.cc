#include "grpc/web_framing.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::grpc {
namespace {

const uint8_t* bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::string encode(std::string_view s) {
  std::string out;
  base64Encode(bytes(s), s.size(), out);
  return out;
}

TEST(WebContentTypeTest, RecognisesBinaryAndText) {
  auto bin = parseWebContentType("application/grpc-web");
  ASSERT_TRUE(bin);
  EXPECT_FALSE(bin->text);
  EXPECT_EQ(bin->grpcContentType(), "application/grpc");
  EXPECT_EQ(bin->webContentType(), "application/grpc-web");

  auto proto = parseWebContentType("Application/GRPC-Web+Proto");
  ASSERT_TRUE(proto);
  EXPECT_FALSE(proto->text);
  EXPECT_EQ(proto->grpcContentType(), "application/grpc+proto");
  EXPECT_EQ(proto->webContentType(), "application/grpc-web+proto");

  auto text = parseWebContentType("application/grpc-web-text");
  ASSERT_TRUE(text);
  EXPECT_TRUE(text->text);
  EXPECT_EQ(text->grpcContentType(), "application/grpc");
  EXPECT_EQ(text->webContentType(), "application/grpc-web-text");

  auto text_proto = parseWebContentType(" application/grpc-web-text+proto ; charset=utf-8");
  ASSERT_TRUE(text_proto);
  EXPECT_TRUE(text_proto->text);
  EXPECT_EQ(text_proto->codec, "+proto");
}

TEST(WebContentTypeTest, RefusesEverythingElse) {
  EXPECT_FALSE(parseWebContentType("application/grpc"));
  EXPECT_FALSE(parseWebContentType("application/grpc+proto"));
  EXPECT_FALSE(parseWebContentType("application/grpc-webx"));
  EXPECT_FALSE(parseWebContentType("application/grpc-web-textx"));
  EXPECT_FALSE(parseWebContentType("application/grpc-web+"));
  EXPECT_FALSE(parseWebContentType("application/json"));
  EXPECT_FALSE(parseWebContentType(""));
}

TEST(Base64Test, EncodesWithPadding) {
  EXPECT_EQ(encode(""), "");
  EXPECT_EQ(encode("f"), "Zg==");
  EXPECT_EQ(encode("fo"), "Zm8=");
  EXPECT_EQ(encode("foo"), "Zm9v");
  EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string enc = encode(all);
  EXPECT_EQ(enc.size(), base64Size(all.size()));
  EXPECT_EQ(enc.substr(0, 8), "AAECAwQF");
  EXPECT_EQ(enc.substr(enc.size() - 4), "/w==");
}

TEST(Base64Test, DecodesSplitAtEveryByte) {
  std::string message;
  for (int i = 0; i < 200; ++i) message.push_back(static_cast<char>(i * 7));
  std::string text = encode(message);
  for (size_t cut1 = 0; cut1 <= text.size(); ++cut1) {
    for (size_t cut2 = cut1; cut2 <= text.size(); cut2 += 13) {
      Base64Decoder d;
      std::string out;
      ASSERT_TRUE(d.feed(bytes(text), cut1, out));
      ASSERT_TRUE(d.feed(bytes(text) + cut1, cut2 - cut1, out));
      ASSERT_TRUE(d.feed(bytes(text) + cut2, text.size() - cut2, out));
      EXPECT_TRUE(d.complete());
      ASSERT_EQ(out, message) << cut1 << " " << cut2;
    }
  }
}

TEST(Base64Test, DecodesPaddingBetweenSegments) {
  // Clients may encode each message on its own, padded.
  std::string text = encode("a") + encode("bc") + encode("def");
  Base64Decoder d;
  std::string out;
  for (char c : text) ASSERT_TRUE(d.feed(reinterpret_cast<const uint8_t*>(&c), 1, out));
  EXPECT_TRUE(d.complete());
  EXPECT_EQ(out, "abcdef");
}

TEST(Base64Test, ReportsAnIncompleteGroup) {
  Base64Decoder d;
  std::string out;
  ASSERT_TRUE(d.feed(bytes("Zm9vYm"), 6, out));
  EXPECT_FALSE(d.complete());
  EXPECT_EQ(out, "foo");
}

TEST(Base64Test, RefusesBadInput) {
  for (std::string_view bad : {"Zm9v!mFy", "Zm9v\nYmFy", "=m9v", "Z=9v", "Zm=v", "Zm9v YmFy"}) {
    Base64Decoder d;
    std::string out;
    EXPECT_FALSE(d.feed(bytes(bad), bad.size(), out)) << bad;
    EXPECT_TRUE(d.failed());
    EXPECT_FALSE(d.feed(bytes("Zm9v"), 4, out)) << "stays failed";
  }
}

TEST(TrailerFrameTest, EncodesFlagLengthAndLines) {
  std::string frame = trailerFrame({{"grpc-status", "3"}, {"Grpc-Message", "bad%20thing"}});
  std::string block = "grpc-status:3\r\ngrpc-message:bad%20thing\r\n";
  ASSERT_EQ(frame.size(), 5 + block.size());
  EXPECT_EQ(static_cast<uint8_t>(frame[0]), 0x80);
  uint32_t len = (uint32_t{static_cast<uint8_t>(frame[1])} << 24) |
                 (uint32_t{static_cast<uint8_t>(frame[2])} << 16) |
                 (uint32_t{static_cast<uint8_t>(frame[3])} << 8) | static_cast<uint8_t>(frame[4]);
  EXPECT_EQ(len, block.size());
  EXPECT_EQ(frame.substr(5), block);

  auto parsed = parseTrailerBlock(frame.substr(5));
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0], (std::pair<std::string, std::string>{"grpc-status", "3"}));
  EXPECT_EQ((*parsed)[1], (std::pair<std::string, std::string>{"grpc-message", "bad%20thing"}));
}

TEST(TrailerFrameTest, EmptyTrailersStillFrame) {
  std::string frame = trailerFrame({});
  EXPECT_EQ(frame, std::string("\x80\0\0\0\0", 5));
  EXPECT_FALSE(parseTrailerBlock("no colon here\r\n"));
}

}  // namespace
}  // namespace switchyard::grpc
