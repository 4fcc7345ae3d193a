// google.api.http path templates: parsing (and refusing malformed ones) and
// matching request paths, with variables, `*`, `**`, verbs and percent-decoding.
#include "transcode/path_template.h"

#include <gtest/gtest.h>

namespace switchyard::transcode {
namespace {

PathTemplate parsed(std::string_view text) {
  auto t = PathTemplate::parse(text);
  EXPECT_TRUE(t.ok()) << text << ": " << (t.ok() ? "" : t.error());
  return t.ok() ? *t : *PathTemplate::parse("/");
}

using B = PathBindings;

TEST(PathTemplate, LiteralsAndSingleVariables) {
  auto t = parsed("/v1/shelves/{shelf}/books/{book.id}");
  EXPECT_EQ(t.variables(), (std::vector<std::string>{"shelf", "book.id"}));
  EXPECT_EQ(t.match("/v1/shelves/s1/books/b2"), (B{{"shelf", "s1"}, {"book.id", "b2"}}));
  EXPECT_FALSE(t.match("/v1/shelves/s1/books"));
  EXPECT_FALSE(t.match("/v1/shelves/s1/books/b2/extra"));
  EXPECT_FALSE(t.match("/v1/shelves//books/b2"));
  EXPECT_FALSE(t.match("/v2/shelves/s1/books/b2"));
}

TEST(PathTemplate, VariablesWithSegmentsAndDoubleStar) {
  auto t = parsed("/v1/{name=messages/*}");
  EXPECT_EQ(t.match("/v1/messages/123"), (B{{"name", "messages/123"}}));
  EXPECT_FALSE(t.match("/v1/letters/123"));

  auto all = parsed("/v1/{path=**}");
  EXPECT_EQ(all.match("/v1/a/b/c"), (B{{"path", "a/b/c"}}));
  EXPECT_EQ(all.match("/v1"), (B{{"path", ""}}));

  auto mixed = parsed("/v1/{parent=projects/*/locations/*}/items/**");
  EXPECT_EQ(mixed.match("/v1/projects/p/locations/l/items/x/y"),
            (B{{"parent", "projects/p/locations/l"}}));
  auto star = parsed("/files/*/meta");
  EXPECT_EQ(star.match("/files/abc/meta"), B{});
}

TEST(PathTemplate, Verbs) {
  auto t = parsed("/v1/{name=operations/*}:cancel");
  EXPECT_EQ(t.verb(), "cancel");
  EXPECT_EQ(t.match("/v1/operations/42:cancel"), (B{{"name", "operations/42"}}));
  EXPECT_FALSE(t.match("/v1/operations/42"));
  EXPECT_FALSE(t.match("/v1/operations/42:delete"));
  auto plain = parsed("/v1/things/{id}");
  // Without a verb in the template, a colon is part of the segment.
  EXPECT_EQ(plain.match("/v1/things/a:b"), (B{{"id", "a:b"}}));
}

TEST(PathTemplate, PercentDecoding) {
  auto one = parsed("/v1/users/{id}");
  EXPECT_EQ(one.match("/v1/users/a%20b%2Fc"), (B{{"id", "a b/c"}}));
  EXPECT_FALSE(one.match("/v1/users/bad%2"));
  EXPECT_FALSE(one.match("/v1/users/bad%zz"));
  auto multi = parsed("/v1/{path=**}");
  // Multi-segment variables keep an encoded slash encoded.
  EXPECT_EQ(multi.match("/v1/a%2Fb/c%20d"), (B{{"path", "a%2Fb/c d"}}));
}

TEST(PathTemplate, MalformedTemplatesAreRefusedWithTheOffset) {
  for (const char* bad : {"", "v1/x", "/v1//x", "/v1/{", "/v1/{id", "/v1/{id=}", "/v1/{=x}",
                          "/v1/**/x", "/v1/{a}/{a}", "/v1/x:", "/v1/{a.}", "/v1/{a=b/{c}}"}) {
    auto t = PathTemplate::parse(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_NE(t.error().find("bad path template"), std::string::npos) << t.error();
    }
  }
}

TEST(PercentDecode, KeepsSlashOnlyWhenAsked) {
  EXPECT_EQ(percentDecode("a%2Fb", false), "a/b");
  EXPECT_EQ(percentDecode("a%2fb", true), "a%2fb");
  EXPECT_EQ(percentDecode("%41%42", true), "AB");
  EXPECT_FALSE(percentDecode("%4", false));
}

}  // namespace
}  // namespace switchyard::transcode
