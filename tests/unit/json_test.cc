// Tests for the JSON writer: structure, separators and string escaping.
#include "common/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace switchyard {
namespace {

TEST(JsonTest, NestedStructureWithCommas) {
  JsonWriter w;
  w.beginObject()
      .key("name").value("greeter")
      .key("port").value(50051)
      .key("healthy").value(true)
      .key("weight").value(0.5)
      .key("tags").beginArray().value("a").value("b").endArray()
      .key("empty").beginObject().endObject()
      .key("none").null()
      .endObject();
  EXPECT_EQ(w.str(),
            R"({"name":"greeter","port":50051,"healthy":true,"weight":0.5,)"
            R"("tags":["a","b"],"empty":{},"none":null})");
}

TEST(JsonTest, ArrayOfObjects) {
  JsonWriter w;
  w.beginArray();
  for (int i = 0; i < 3; ++i) w.beginObject().key("i").value(i).endObject();
  w.endArray();
  EXPECT_EQ(w.take(), R"([{"i":0},{"i":1},{"i":2}])");
}

TEST(JsonTest, IntegerExtremes) {
  JsonWriter w;
  w.beginArray()
      .value(std::numeric_limits<int64_t>::min())
      .value(std::numeric_limits<uint64_t>::max())
      .value(0u)
      .endArray();
  EXPECT_EQ(w.str(), "[-9223372036854775808,18446744073709551615,0]");
}

// JSON has no NaN or Infinity.
TEST(JsonTest, NonFiniteDoublesBecomeNull) {
  JsonWriter w;
  w.beginArray().value(std::nan("")).value(std::numeric_limits<double>::infinity()).value(1e21).endArray();
  EXPECT_EQ(w.str(), "[null,null,1e+21]");
}

TEST(JsonTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(jsonQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(jsonQuote("l1\nl2\r\t\b\f"), R"("l1\nl2\r\t\b\f")");
  EXPECT_EQ(jsonQuote(std::string("nul\0x", 5)), R"("nul\u0000x")");
  EXPECT_EQ(jsonQuote("\x01\x1f\x7f"), R"("\u0001\u001f\u007f")");
  EXPECT_EQ(jsonQuote("</script>"), R"("</script>")");
}

TEST(JsonTest, KeepsValidUtf8) {
  EXPECT_EQ(jsonQuote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

// Invalid UTF-8 must not make the document unparseable.
TEST(JsonTest, ReplacesInvalidUtf8) {
  EXPECT_EQ(jsonQuote("a\xff" "b"), R"("a\ufffdb")");
  EXPECT_EQ(jsonQuote("\xc3"), R"("\ufffd")");                 // truncated sequence
  EXPECT_EQ(jsonQuote("\xc0\xaf"), R"("\ufffd\ufffd")");       // overlong '/'
  EXPECT_EQ(jsonQuote("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // surrogate
  EXPECT_EQ(jsonQuote("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // > U+10FFFF
}

TEST(JsonTest, EscapesLineAndParagraphSeparators) {
  EXPECT_EQ(jsonQuote("a\xe2\x80\xa8" "b\xe2\x80\xa9"), R"("a\u2028b\u2029")");
}

TEST(JsonTest, KeysAreEscaped) {
  JsonWriter w;
  w.beginObject().key("we\"ird").value(1).endObject();
  EXPECT_EQ(w.str(), R"({"we\"ird":1})");
}

TEST(JsonTest, PrettyPrint) {
  JsonWriter w(2);
  w.beginObject().key("a").beginArray().value(1).value(2).endArray().key("b").beginObject().endObject().endObject();
  EXPECT_EQ(w.str(), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}");
}

TEST(JsonTest, RawValue) {
  JsonWriter w;
  w.beginObject().key("x").raw(R"({"y":1})").key("z").value(2).endObject();
  EXPECT_EQ(w.str(), R"({"x":{"y":1},"z":2})");
}

}  // namespace
}  // namespace switchyard
