// StreamTable: a per-connection stream table that remembers its last hit
// must answer exactly as a plain map would, whatever order entries are
// found, made, erased, cleared or taken in; an entry it remembered must
// never be handed out after it is gone.
#include "common/stream_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace switchyard::common {
namespace {

TEST(StreamTable, AnErasedEntryIsNotFoundEvenRightAfterItsLastHit) {
  StreamTable<int> t;
  t[1] = 10;
  t[3] = 30;
  ASSERT_NE(t.find(1), nullptr);
  EXPECT_EQ(*t.find(1), 10);
  EXPECT_TRUE(t.erase(1));  // the entry it remembers
  EXPECT_EQ(t.find(1), nullptr);
  EXPECT_FALSE(t.erase(1));
  ASSERT_NE(t.find(3), nullptr);
  EXPECT_EQ(*t.find(3), 30);
}

TEST(StreamTable, ClearAndTakeAllForgetTheLastHit) {
  StreamTable<int> t;
  t[5] = 50;
  ASSERT_NE(t.find(5), nullptr);
  t.clear();
  EXPECT_EQ(t.find(5), nullptr);
  EXPECT_TRUE(t.empty());

  t[7] = 70;
  ASSERT_NE(t.find(7), nullptr);
  auto all = t.takeAll();
  EXPECT_EQ(all.size(), 1u);
  EXPECT_EQ(all.at(7), 70);
  EXPECT_EQ(t.find(7), nullptr);
  EXPECT_TRUE(t.empty());
  t[7] = 71;  // the id may come back (a new connection's table would reuse it)
  ASSERT_NE(t.find(7), nullptr);
  EXPECT_EQ(*t.find(7), 71);
}

TEST(StreamTable, MatchesAMapUnderAnyMixOfOperations) {
  std::mt19937 rng(20261130);
  StreamTable<int> t;
  std::map<int32_t, int> model;
  for (int step = 0; step < 20000; ++step) {
    // Few ids, so lookups of the last id, of erased ids and of new ids all happen often.
    auto id = static_cast<int32_t>(rng() % 8) * 2 + 1;
    switch (rng() % 6) {
      case 0:
      case 1: {
        int* v = t.find(id);
        auto it = model.find(id);
        ASSERT_EQ(v != nullptr, it != model.end()) << "step " << step << " id " << id;
        if (v != nullptr) {
          EXPECT_EQ(*v, it->second);
          ++*v;  // writes through the remembered entry must land in the table
          ++it->second;
        }
        break;
      }
      case 2:
        t[id] = step;
        model[id] = step;
        break;
      case 3:
        ASSERT_EQ(t.erase(id), model.erase(id) == 1) << "step " << step;
        break;
      case 4:
        if (rng() % 50 == 0) {
          if (rng() % 2 == 0) {
            t.clear();
          } else {
            EXPECT_EQ(t.takeAll().size(), model.size());
          }
          model.clear();
        }
        break;
      default: {
        size_t seen = 0;
        for (const auto& [k, v] : t) {
          ASSERT_EQ(model.count(k), 1u);
          EXPECT_EQ(model.at(k), v);
          ++seen;
        }
        EXPECT_EQ(seen, model.size());
        break;
      }
    }
    ASSERT_EQ(t.size(), model.size());
  }
}

}  // namespace
}  // namespace switchyard::common
