// MessageCounter: counting length-prefixed messages across arbitrary chunk
// boundaries, and spotting a declared length over the limit.
#include "proxy/message_counter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace switchyard::proxy {
namespace {

using namespace std::string_literals;

std::string frame(uint32_t len) {
  std::string f(5, '\0');
  f[1] = static_cast<char>(len >> 24);
  f[2] = static_cast<char>(len >> 16);
  f[3] = static_cast<char>(len >> 8);
  f[4] = static_cast<char>(len);
  return f + std::string(len, 'x');
}

void feedBytewise(MessageCounter& c, const std::string& s) {
  for (char ch : s) {
    auto b = static_cast<uint8_t>(ch);
    c.feed(&b, 1);
  }
}

TEST(MessageCounter, CountsAcrossChunks) {
  MessageCounter c;
  feedBytewise(c, frame(3) + frame(0) + frame(10));
  EXPECT_EQ(c.messages(), 3u);
  EXPECT_EQ(c.oversized(), 0u);
}

TEST(MessageCounter, LimitAllowsEqualRefusesLarger) {
  MessageCounter c;
  c.setLimit(10);
  feedBytewise(c, frame(10));
  EXPECT_EQ(c.oversized(), 0u);
  std::string big = frame(11);
  // The prefix alone is enough to refuse: the payload is never needed.
  c.feed(reinterpret_cast<const uint8_t*>(big.data()), 5);
  EXPECT_EQ(c.oversized(), 11u);
  EXPECT_EQ(c.messages(), 1u);
}

TEST(MessageCounter, PrefixSplitOverChunksIsStillChecked) {
  MessageCounter c;
  c.setLimit(1 << 20);
  feedBytewise(c, frame(5 << 20).substr(0, 5));
  EXPECT_EQ(c.oversized(), 5u << 20);
}

TEST(MessageCounter, PartialWhileInsideAPrefixOrAPayload) {
  MessageCounter c;
  EXPECT_FALSE(c.partial());
  const std::string two = frame(4) + frame(2);
  for (size_t i = 0; i < two.size(); ++i) {
    auto b = static_cast<uint8_t>(two[i]);
    c.feed(&b, 1);
    const bool at_boundary = i + 1 == 9 || i + 1 == two.size();
    EXPECT_EQ(c.partial(), !at_boundary) << "after byte " << i;
  }
  EXPECT_EQ(c.messages(), 2u);
}

TEST(MessageCounter, SeesTheCompressedFlag) {
  MessageCounter c;
  feedBytewise(c, frame(3));
  EXPECT_FALSE(c.compressed());
  std::string compressed = frame(2);
  compressed[0] = '\x01';
  feedBytewise(c, compressed);
  EXPECT_TRUE(c.compressed());
  // A payload byte of 0x01 is not a flag.
  MessageCounter d;
  feedBytewise(d, "\x00\x00\x00\x00\x02\x01\x01"s);
  EXPECT_FALSE(d.compressed());
}

// Whole prefixes inside one chunk take a shorter path than split ones; every
// way of cutting the same bytes must give the same answers.
TEST(MessageCounter, AnyChunkingAgreesWithByteByByte) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string bytes;
    const int messages = static_cast<int>(rng() % 6);
    for (int m = 0; m < messages; ++m) {
      std::string f = frame(static_cast<uint32_t>(rng() % 40));
      if (rng() % 5 == 0) f[0] = '\x01';
      bytes += f;
    }
    bytes += frame(static_cast<uint32_t>(rng() % 60)).substr(0, rng() % 8);  // maybe a partial tail
    const uint64_t limit = rng() % 3 == 0 ? 30 : 0;
    MessageCounter bytewise;
    bytewise.setLimit(limit);
    feedBytewise(bytewise, bytes);
    MessageCounter chunked;
    chunked.setLimit(limit);
    for (size_t at = 0; at < bytes.size();) {
      size_t n = std::min<size_t>(bytes.size() - at, 1 + rng() % 24);
      chunked.feed(reinterpret_cast<const uint8_t*>(bytes.data() + at), n);
      at += n;
    }
    ASSERT_EQ(chunked.messages(), bytewise.messages()) << "round " << round;
    ASSERT_EQ(chunked.oversized(), bytewise.oversized()) << "round " << round;
    ASSERT_EQ(chunked.compressed(), bytewise.compressed()) << "round " << round;
    ASSERT_EQ(chunked.partial(), bytewise.partial()) << "round " << round;
  }
}

}  // namespace
}  // namespace switchyard::proxy
