// FrameSink: DATA payloads reserved at the end of the staging block or an
// evbuffer, then completed with their frame header (http2/frame_sink.h).
#include "http2/frame_sink.h"

#include <event2/buffer.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace switchyard::http2 {
namespace {

nghttp2_frame DataFrame(int32_t stream_id, size_t length, size_t padlen = 0) {
  nghttp2_frame f{};
  f.hd.type = NGHTTP2_DATA;
  f.hd.stream_id = stream_id;
  f.hd.length = length + padlen;
  f.data.padlen = padlen;
  return f;
}

std::string Header(char tag) { return std::string(FrameSink::kFrameHeader, tag); }

std::string Drain(evbuffer* b) {
  std::string s(evbuffer_get_length(b), '\0');
  evbuffer_remove(b, s.data(), s.size());
  return s;
}

TEST(FrameSinkTest, BlockFramesFollowWhatIsStagedInOrder) {
  std::vector<uint8_t> block(1024);
  size_t used = 3;
  std::memcpy(block.data(), "abc", 3);
  FrameSink sink;
  sink.toBlock(block.data(), &used, block.size(), 512);
  uint8_t* p = sink.reserve(1, 100);
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "hello", 5);
  nghttp2_frame f = DataFrame(1, 5);
  std::string hd = Header('H');
  ASSERT_TRUE(sink.commit(&f, reinterpret_cast<const uint8_t*>(hd.data()), 5));
  EXPECT_EQ(used, 3u + 9u + 5u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(block.data()), used), "abc" + hd + "hello");
}

TEST(FrameSinkTest, PaddingIsWrittenAsNghttp2AsksForIt) {
  evbuffer* out = evbuffer_new();
  FrameSink sink;
  sink.toBuffer(out, 1 << 20);
  uint8_t* p = sink.reserve(3, 16);
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "xyz", 3);
  nghttp2_frame f = DataFrame(3, 3, /*padlen=*/4);  // Pad Length field + 3 zeros
  std::string hd = Header('P');
  ASSERT_TRUE(sink.commit(&f, reinterpret_cast<const uint8_t*>(hd.data()), 3));
  EXPECT_EQ(Drain(out), hd + std::string("\x03xyz\0\0\0", 7));
  evbuffer_free(out);
}

TEST(FrameSinkTest, NoRoomOrNoFlushMeansTheCopyingPath) {
  std::vector<uint8_t> block(1000);
  size_t used = 0;
  FrameSink sink;
  EXPECT_EQ(sink.reserve(1, 10), nullptr);  // no flush under way
  sink.toBlock(block.data(), &used, block.size(), 600);
  EXPECT_EQ(sink.reserve(1, 800), nullptr);  // header + payload + padding do not fit
  used = 600;
  EXPECT_EQ(sink.reserve(1, 10), nullptr);  // at the high-water mark
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, block.data(), 700);
  sink.toBuffer(out, 700);
  EXPECT_EQ(sink.reserve(1, 10), nullptr);
  sink.detach();
  EXPECT_EQ(sink.reserve(1, 10), nullptr);
  evbuffer_free(out);
}

TEST(FrameSinkTest, AFrameOtherThanTheReservedOneIsRefused) {
  evbuffer* out = evbuffer_new();
  evbuffer_add(out, "q", 1);
  FrameSink sink;
  sink.toBuffer(out, 1 << 20);
  std::string hd = Header('h');
  const auto* hdp = reinterpret_cast<const uint8_t*>(hd.data());
  nghttp2_frame other = DataFrame(5, 4);
  ASSERT_NE(sink.reserve(7, 8), nullptr);
  EXPECT_FALSE(sink.commit(&other, hdp, 4));  // another stream
  ASSERT_NE(sink.reserve(5, 2), nullptr);
  EXPECT_FALSE(sink.commit(&other, hdp, 4));  // longer than reserved
  nghttp2_frame f = DataFrame(5, 0);
  EXPECT_FALSE(sink.commit(&f, hdp, 0));  // nothing reserved any more
  // An abandoned reservation (nghttp2 cancelled the frame) leaves nothing behind.
  ASSERT_NE(sink.reserve(5, 8), nullptr);
  ASSERT_NE(sink.reserve(5, 8), nullptr);
  ASSERT_TRUE(sink.commit(&f, hdp, 0));  // an empty DATA (END_STREAM only)
  EXPECT_EQ(Drain(out), "q" + hd);
  evbuffer_free(out);
}

}  // namespace
}  // namespace switchyard::http2
