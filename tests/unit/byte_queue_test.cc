// ByteQueue: FIFO order across the inline bytes and the block chain, taken
// bytes kept and rewound (request replay), and no block held once the queue
// empties.
#include "proxy/byte_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace switchyard::proxy {
namespace {

void put(ByteQueue& q, const std::string& s) {
  q.append(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string take(ByteQueue& q, size_t n) {
  std::string s(n, '\0');
  s.resize(q.take(reinterpret_cast<uint8_t*>(s.data()), n));
  return s;
}

std::string pattern(size_t n, size_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

TEST(ByteQueue, KeepsOrderWithinTheInlineBlock) {
  ByteQueue q;
  EXPECT_TRUE(q.empty());
  put(q, "hello ");
  put(q, "world");
  EXPECT_EQ(q.size(), 11u);
  EXPECT_EQ(take(q, 3), "hel");
  EXPECT_EQ(take(q, 100), "lo world");
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(take(q, 5), "");
}

// Appends and takes of every size, across block boundaries and back to the
// inline bytes when the chain drains, must read as one unbroken stream.
TEST(ByteQueue, InterleavedAppendsAndTakesAcrossGrowth) {
  ByteQueue q;
  std::string expected, got;
  for (size_t round = 0; round < 200; ++round) {
    std::string chunk = pattern(1 + (round * 37) % 3000, round);
    put(q, chunk);
    expected += chunk;
    got += take(q, (round * 53) % 2500);
    ASSERT_EQ(q.size(), expected.size() - got.size()) << round;
  }
  got += take(q, q.size());
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(q.empty());
}

// Kept bytes come back in front of the unread ones on rewind, inline and
// across blocks, and are taken (and kept) again like any other.
TEST(ByteQueue, RewindReplaysKeptBytesInFront) {
  ByteQueue q;
  q.keepTaken();
  put(q, "abcde");
  EXPECT_EQ(take(q, 3), "abc");
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.kept(), 3u);
  put(q, "fg");
  EXPECT_EQ(q.rewind(), 3u);
  EXPECT_EQ(q.kept(), 0u);
  EXPECT_EQ(q.size(), 7u);
  EXPECT_EQ(take(q, 7), "abcdefg");
  EXPECT_EQ(q.kept(), 7u);

  // Past the inline bytes: the kept ones move with the rest into blocks.
  std::string big = pattern(3 * ByteQueue::kBlockBytes + 11, 5);
  put(q, big);
  EXPECT_EQ(take(q, 2 * ByteQueue::kBlockBytes), big.substr(0, 2 * ByteQueue::kBlockBytes));
  EXPECT_EQ(q.rewind(), 7 + 2 * ByteQueue::kBlockBytes);
  put(q, "end");
  EXPECT_EQ(take(q, q.size()), "abcdefg" + big + "end");
  EXPECT_EQ(q.rewind(), 7 + big.size() + 3);
  EXPECT_EQ(take(q, q.size()), "abcdefg" + big + "end");
  EXPECT_EQ(q.rewind(), 0u + 7 + big.size() + 3);
  EXPECT_EQ(q.clear(), 7 + big.size() + 3);
  EXPECT_EQ(q.kept(), 0u);
  EXPECT_EQ(q.blocks(), 0u);
}

// Dropping the kept bytes gives back every block they alone held and stops
// keeping: what is taken afterwards is gone for good.
TEST(ByteQueue, DropKeptReleasesTheBlocksBehindTheReadPosition) {
  ByteQueue q;
  q.keepTaken();
  std::string big = pattern(4 * ByteQueue::kBlockBytes, 9);
  put(q, big);
  EXPECT_EQ(take(q, 3 * ByteQueue::kBlockBytes + 5), big.substr(0, 3 * ByteQueue::kBlockBytes + 5));
  EXPECT_EQ(q.blocks(), 4u);
  q.dropKept();
  EXPECT_FALSE(q.keeping());
  EXPECT_EQ(q.kept(), 0u);
  EXPECT_EQ(q.blocks(), 1u);
  EXPECT_EQ(q.rewind(), 0u);
  EXPECT_EQ(take(q, 10), big.substr(3 * ByteQueue::kBlockBytes + 5, 10));
  EXPECT_EQ(q.rewind(), 0u);
  EXPECT_EQ(take(q, q.size()), big.substr(3 * ByteQueue::kBlockBytes + 15));
  EXPECT_EQ(q.blocks(), 0u);

  // Inline too.
  ByteQueue s;
  s.keepTaken();
  put(s, "hello");
  EXPECT_EQ(take(s, 2), "he");
  s.dropKept();
  EXPECT_EQ(s.rewind(), 0u);
  EXPECT_EQ(take(s, 10), "llo");
}

TEST(ByteQueue, ClearReturnsWhatWasDropped) {
  ByteQueue q;
  put(q, pattern(100000, 1));
  EXPECT_EQ(take(q, 10).size(), 10u);
  EXPECT_EQ(q.clear(), 99990u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.clear(), 0u);
  EXPECT_EQ(q.blocks(), 0u);
  // Usable again after its blocks went back.
  put(q, "again");
  EXPECT_EQ(take(q, 10), "again");
}

// A full DATA frame's worth of payload per block: a 64 KiB message sits in
// five blocks at most (one partly filled at each end), and every block goes
// back as soon as its last byte is read, so a queue that is read as fast as
// it is filled holds at most two.
TEST(ByteQueue, HoldsOnlyTheBlocksItsBytesNeed) {
  ByteQueue q;
  put(q, "hello");
  EXPECT_EQ(q.blocks(), 0u);  // inline
  put(q, pattern(64 * 1024, 1));
  EXPECT_LE(q.blocks(), 5u);
  EXPECT_GE(q.blocks(), 4u);
  EXPECT_EQ(take(q, 5 + 64 * 1024), "hello" + pattern(64 * 1024, 1));
  EXPECT_EQ(q.blocks(), 0u);

  std::string expected, got;
  for (size_t round = 0; round < 64; ++round) {
    std::string chunk = pattern(ByteQueue::kBlockBytes - 7 + round, round);
    put(q, chunk);
    expected += chunk;
    EXPECT_LE(q.blocks(), 2u) << round;
    got += take(q, q.size());
    EXPECT_EQ(q.blocks(), 0u) << round;
  }
  EXPECT_EQ(got, expected);
}

// Any mix of appends, takes, rewinds and drops of every size reads as the
// same bytes as a plain string model of kept and unread bytes.
TEST(ByteQueue, MatchesAStringModelUnderAnyMixOfOperations) {
  ByteQueue q;
  std::string kept, unread;
  bool keeping = false;
  uint64_t rng = 12345;
  auto next = [&rng](uint64_t n) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rng >> 33) % n;
  };
  for (size_t step = 0; step < 4000; ++step) {
    switch (next(10)) {
      case 0: case 1: case 2: case 3: {
        // Small sizes often, so the inline bytes are exercised too.
        size_t n = next(4) == 0 ? next(3 * ByteQueue::kBlockBytes) : next(40);
        std::string chunk = pattern(n, step);
        put(q, chunk);
        unread += chunk;
        break;
      }
      case 4: case 5: case 6: {
        size_t n = next(4) == 0 ? next(2 * ByteQueue::kBlockBytes) : next(50);
        std::string got = take(q, n);
        ASSERT_EQ(got, unread.substr(0, got.size())) << step;
        ASSERT_EQ(got.size(), std::min(n, unread.size())) << step;
        if (keeping) kept += got;
        unread.erase(0, got.size());
        break;
      }
      case 7:
        ASSERT_EQ(q.rewind(), kept.size()) << step;
        unread = kept + unread;
        kept.clear();
        break;
      case 8:
        q.dropKept();
        kept.clear();
        keeping = false;
        break;
      default:
        q.keepTaken();
        keeping = true;
        break;
    }
    ASSERT_EQ(q.size(), unread.size()) << step;
    ASSERT_EQ(q.kept(), kept.size()) << step;
    ASSERT_LE(q.blocks(), (kept.size() + unread.size()) / ByteQueue::kBlockBytes + 2) << step;
  }
  EXPECT_EQ(take(q, q.size()), unread);
}

}  // namespace
}  // namespace switchyard::proxy
