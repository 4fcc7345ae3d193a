// Where header blocks keep their entries: an NvList inline up to 16 fields
// and on the heap past that, a HeaderList's typical block in storage its
// thread recycles.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http2/headers.h"

namespace switchyard::http2 {
namespace {

TEST(NvList, KeepsEveryFieldInOrderPastItsInlineRoom) {
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("x-field-" + std::to_string(i));
  NvList nva;
  for (int i = 0; i < 40; ++i) {
    nva.add(names[i], "v", i % 2 == 0 ? NGHTTP2_NV_FLAG_NO_INDEX : 0);
    ASSERT_EQ(nva.size(), static_cast<size_t>(i + 1));
    // Every entry so far is intact after each growth.
    for (int j = 0; j <= i; ++j) {
      const nghttp2_nv& nv = nva.data()[j];
      ASSERT_EQ(std::string(reinterpret_cast<const char*>(nv.name), nv.namelen), names[j]);
      ASSERT_EQ(nv.flags, j % 2 == 0 ? NGHTTP2_NV_FLAG_NO_INDEX : 0);
    }
  }
}

TEST(NvList, ReserveMovesWhatIsThereAlready) {
  NvList nva;
  nva.add("a", "1");
  nva.add("b", "2");
  nva.reserve(100);
  nva.add("c", "3");
  ASSERT_EQ(nva.size(), 3u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(nva.data()[0].value), 1), "1");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(nva.data()[2].name), 1), "c");
}

TEST(HeaderListStorage, ATypicalBlocksStorageIsReusedByTheNextBlock) {
  using Blocks = FieldAllocator<HeaderField>::Blocks;
  const void* storage = nullptr;
  {
    HeaderList first;
    first.addOwned("content-type", "application/grpc");
    storage = first.fields().data();
  }
  const size_t kept = Blocks::kept();
  EXPECT_GE(kept, 1u);
  HeaderList second;
  second.addOwned("te", "trailers");
  EXPECT_EQ(second.fields().data(), storage);
  EXPECT_EQ(Blocks::kept(), kept - 1);
}

TEST(HeaderListStorage, ABlockPastTheTypicalSizeStillHoldsEveryField) {
  HeaderList list;
  for (int i = 0; i < 50; ++i) list.addOwned("x-" + std::to_string(i), std::to_string(i));
  ASSERT_EQ(list.size(), 50u);
  EXPECT_EQ(list.get("x-0"), "0");
  EXPECT_EQ(list.get("x-49"), "49");
  HeaderList moved(std::move(list));
  EXPECT_EQ(moved.get("x-17"), "17");
}

}  // namespace
}  // namespace switchyard::http2
