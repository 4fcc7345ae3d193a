// FlowBuffers: a side's window is reopened only by what the other side took,
// and request bytes replayed for a retry are not paid for twice.
#include "proxy/flow_buffers.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard::proxy {
namespace {

const uint8_t* bytes(const char* s) { return reinterpret_cast<const uint8_t*>(s); }

TEST(FlowBuffers, RequestBytesAreConsumedAsTheyAreTaken) {
  FlowBuffers f;
  f.addRequest(bytes("hello"), 5);
  uint8_t buf[3];
  size_t consume = 99;
  EXPECT_EQ(f.takeRequest(buf, sizeof buf, &consume), 3u);
  EXPECT_EQ(consume, 3u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 3), "hel");
  EXPECT_FALSE(f.requestEmpty());
  EXPECT_EQ(f.takeRequest(buf, sizeof buf, &consume), 2u);
  EXPECT_EQ(consume, 2u);
  EXPECT_TRUE(f.requestEmpty());
  EXPECT_EQ(f.takeRequest(buf, sizeof buf, &consume), 0u);
  EXPECT_EQ(consume, 0u);
}

// Bytes put back for a retry were paid for when first received.
TEST(FlowBuffers, ReplayedBytesOpenNoWindow) {
  FlowBuffers f;
  f.addRequest(bytes("old"), 3);
  uint8_t buf[4];
  size_t consume = 99;
  EXPECT_EQ(f.takeRequest(buf, 3, &consume), 3u);
  EXPECT_EQ(consume, 3u);
  EXPECT_EQ(f.requestKept(), 3u);
  f.addRequest(bytes("new"), 3);
  EXPECT_EQ(f.replayRequest(), 3u);
  EXPECT_EQ(f.requestKept(), 0u);
  EXPECT_EQ(f.takeRequest(buf, sizeof buf, &consume), 4u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 4), "oldn");
  EXPECT_EQ(consume, 1u);  // only the "n" is new
  EXPECT_EQ(f.takeRequest(buf, sizeof buf, &consume), 2u);
  EXPECT_EQ(consume, 2u);
}

TEST(FlowBuffers, DiscardingTheRequestReturnsOnlyUnpaidBytes) {
  FlowBuffers f;
  f.addRequest(bytes("abcdef"), 6);
  uint8_t buf[2];
  size_t consume = 0;
  EXPECT_EQ(f.takeRequest(buf, 2, &consume), 2u);
  EXPECT_EQ(f.replayRequest(), 2u);
  EXPECT_EQ(f.discardRequest(), 4u);
  EXPECT_EQ(f.requestKept(), 0u);
  EXPECT_TRUE(f.requestEmpty());
  f.addRequest(bytes("xy"), 2);
  EXPECT_EQ(f.discardRequest(), 2u);  // the replay credit went with the discarded bytes
}

// Once the request is no longer replayable, sent bytes are not kept.
TEST(FlowBuffers, DroppedSentRequestIsNotReplayed) {
  FlowBuffers f;
  f.addRequest(bytes("abcdef"), 6);
  uint8_t buf[4];
  size_t consume = 0;
  EXPECT_EQ(f.takeRequest(buf, 4, &consume), 4u);
  f.dropSentRequest();
  EXPECT_EQ(f.requestKept(), 0u);
  EXPECT_EQ(f.replayRequest(), 0u);
  EXPECT_EQ(f.takeRequest(buf, 4, &consume), 2u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 2), "ef");
  EXPECT_EQ(f.replayRequest(), 0u);
}

TEST(FlowBuffers, ResponseBytesAreTakenOrDropped) {
  FlowBuffers f;
  f.addResponse(bytes("12345"), 5);
  uint8_t buf[2];
  EXPECT_EQ(f.takeResponse(buf, sizeof buf), 2u);
  EXPECT_EQ(f.responsePending(), 3u);
  EXPECT_EQ(f.discardResponse(), 3u);
  EXPECT_EQ(f.responsePending(), 0u);
  EXPECT_EQ(f.takeResponse(buf, sizeof buf), 0u);
}

}  // namespace
}  // namespace switchyard::proxy
