#include "common/json_value.h"

#include <gtest/gtest.h>

namespace switchyard {
namespace {

TEST(JsonValueTest, ParsesDocuments) {
  auto v = parseJson(R"( {"a": [1, -2.5e1, true, false, null], "s": "x\u00e9\ud83d\ude00\n", "o": {}} )");
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->isObject());
  const JsonValue* a = v->find("a");
  ASSERT_TRUE(a && a->isArray());
  EXPECT_EQ(a->array().size(), 5u);
  EXPECT_EQ(a->array()[1].number(), -25);
  EXPECT_TRUE(a->array()[2].boolean());
  EXPECT_TRUE(a->array()[4].isNull());
  ASSERT_NE(v->findString("s"), nullptr);
  EXPECT_EQ(*v->findString("s"), "x\xC3\xA9\xF0\x9F\x98\x80\n");
  EXPECT_EQ(v->findString("a"), nullptr);
}

TEST(JsonValueTest, RefusesWhatIsNotStrictJson) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1,}", "{\"a\":1} x", "01", "1.", "-", "'a'", "\"\\x\"",
                          "\"\\ud800\"", "\"\\udc00x\"", "{\"a\":1,\"a\":2}", "\"a\nb\"", "nul", "1e999",
                          "{a:1}"}) {
    JsonParseError err;
    EXPECT_FALSE(parseJson(bad, &err)) << bad;
    EXPECT_FALSE(err.what.empty()) << bad;
  }
}

TEST(JsonValueTest, BoundsNesting) {
  std::string deep(kMaxJsonDepth + 2, '[');
  deep += std::string(kMaxJsonDepth + 2, ']');
  EXPECT_FALSE(parseJson(deep));
  std::string ok(kMaxJsonDepth, '[');
  ok += std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(parseJson(ok));
}

}  // namespace
}  // namespace switchyard
