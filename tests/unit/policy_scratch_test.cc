#include "proxy/policy_scratch.h"

#include <gtest/gtest.h>

namespace sy = switchyard;

namespace {

struct Counter : sy::proxy::FilterState {
  int hits = 0;
};

TEST(PolicyScratch, SlotKeepsItsStateWithinOneConfiguration) {
  sy::proxy::PolicyScratch scratch;
  scratch.use(7, 2);
  scratch.slot<Counter>(1).hits = 3;
  scratch.use(7, 2);
  EXPECT_EQ(scratch.slot<Counter>(1).hits, 3);
  EXPECT_EQ(scratch.slot<Counter>(0).hits, 0);
}

TEST(PolicyScratch, ANewConfigurationDropsTheOldState) {
  sy::proxy::PolicyScratch scratch;
  scratch.use(7, 1);
  scratch.slot<Counter>(0).hits = 5;
  scratch.use(8, 1);
  EXPECT_EQ(scratch.slot<Counter>(0).hits, 0);
}

TEST(PolicyScratch, SlotBeyondTheCountIsStillUsable) {
  sy::proxy::PolicyScratch scratch;
  scratch.use(1, 1);
  scratch.slot<Counter>(3).hits = 2;
  EXPECT_EQ(scratch.slot<Counter>(3).hits, 2);
}

}  // namespace
