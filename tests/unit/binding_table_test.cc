// The JSON transcoding binding table read from google.api.http annotations
// in a real descriptor set (protoc --include_imports of tests/proto/transcode.proto):
// every binding form, additional bindings, and rules that do not fit their
// method's messages.
#include "transcode/binding_table.h"

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace switchyard::transcode {
namespace {

namespace pb = google::protobuf;

std::string readSet(const std::string& name) {
  std::ifstream f(std::string(SY_TEST_DESCRIPTORS) + "/" + name, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

schema::CatalogPtr catalogOf(const std::string& bytes) {
  auto built = schema::DescriptorCatalog::build({{"transcode.pb", "", bytes}});
  EXPECT_TRUE(built.ok()) << (built.ok() ? "" : built.error());
  return built.ok() ? *built : nullptr;
}

class BindingTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_bytes_ = readSet("transcode.pb");
    ASSERT_FALSE(set_bytes_.empty());
    catalog_ = catalogOf(set_bytes_);
    ASSERT_NE(catalog_, nullptr);
    auto t = BindingTable::build(*catalog_, {"switchyard.test.rest.Library"});
    ASSERT_TRUE(t.ok()) << t.error();
    table_ = *t;
  }
  std::string set_bytes_;
  schema::CatalogPtr catalog_;
  BindingTable table_;
};

TEST_F(BindingTableTest, EveryRuleAndAdditionalBindingIsRead) {
  std::vector<std::string> seen;
  for (const auto& b : table_.bindings()) seen.push_back(b.http_method + " " + b.path.text() + " -> " + b.grpc_path);
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "GET /v1/shelves/{shelf}/books/{book} -> /switchyard.test.rest.Library/GetBook",
                      "GET /v1/books/{book=**} -> /switchyard.test.rest.Library/GetBook",
                      "POST /v1/shelves/{shelf}/books -> /switchyard.test.rest.Library/CreateBook",
                      "PATCH /v1/{name=books/*} -> /switchyard.test.rest.Library/UpdateBook",
                      "DELETE /v1/shelves/{shelf}/books/{book} -> /switchyard.test.rest.Library/DeleteBook",
                      "PUT /v1/{name=books/*}:replace -> /switchyard.test.rest.Library/ReplaceBook",
                      "GET /v1/shelves/{shelf}/books -> /switchyard.test.rest.Library/ListBooks",
                      "GET /v1/shelves/{shelf}:stream -> /switchyard.test.rest.Library/StreamBooks",
                  }));
  const auto& create = table_.bindings()[2];
  EXPECT_EQ(create.body, "book");
  EXPECT_EQ(table_.bindings()[3].body, "*");
  EXPECT_EQ(table_.bindings()[6].response_body, "books");
}

TEST_F(BindingTableTest, MatchingPicksTheMethodAndThePathFields) {
  auto m = table_.match("GET", "/v1/shelves/s1/books/b2");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->binding->grpc_path, "/switchyard.test.rest.Library/GetBook");
  EXPECT_EQ(m->fields, (PathBindings{{"shelf", "s1"}, {"book", "b2"}}));

  auto extra = table_.match("GET", "/v1/books/a/b");
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->fields, (PathBindings{{"book", "a/b"}}));

  auto del = table_.match("DELETE", "/v1/shelves/s1/books/b2");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->binding->method->name(), "DeleteBook");

  auto verb = table_.match("PUT", "/v1/books/7:replace");
  ASSERT_TRUE(verb);
  EXPECT_EQ(verb->fields, (PathBindings{{"name", "books/7"}}));

  EXPECT_FALSE(table_.match("GET", "/v2/anything"));
  EXPECT_FALSE(table_.match("POST", "/v1/shelves/s1/books/b2"));
  EXPECT_TRUE(table_.pathMatchesOtherMethod("POST", "/v1/shelves/s1/books/b2"));
  EXPECT_FALSE(table_.pathMatchesOtherMethod("POST", "/v2/anything"));
}

// Edits the set's GetBook rule, rebuilds, and returns the error.
std::string errorWithRule(const std::string& set_bytes, const std::function<void(pb::FileDescriptorSet&)>& edit) {
  pb::FileDescriptorSet set;
  EXPECT_TRUE(set.ParseFromString(set_bytes));
  edit(set);
  auto cat = catalogOf(set.SerializeAsString());
  if (cat == nullptr) return "catalog failed";
  auto t = BindingTable::build(*cat, {"switchyard.test.rest.Library"});
  return t.ok() ? "" : t.error();
}

TEST_F(BindingTableTest, UnknownServiceIsAnError) {
  auto t = BindingTable::build(*catalog_, {"no.Such"});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().find("no.Such"), std::string::npos);
}

TEST_F(BindingTableTest, RulesThatDoNotFitTheMessagesAreErrors) {
  // The options carry the rule as an extension the daemon reads through the
  // catalog's own google.api.HttpRule; here the rule bytes are swapped for a
  // rule naming a missing field, via a text-format options rewrite.
  std::string err = errorWithRule(set_bytes_, [](pb::FileDescriptorSet& set) {
    for (auto& f : *set.mutable_file()) {
      if (f.name() != "transcode.proto") continue;
      for (auto& m : *f.mutable_service(0)->mutable_method()) {
        if (m.name() != "CreateBook") continue;
        // Re-encode the options: field 72295728 (google.api.http) = { post: "/x/{missing}" }.
        std::string rule;
        rule.push_back(static_cast<char>((4 << 3) | 2));  // post = 4, length-delimited
        std::string path = "/x/{missing}";
        rule.push_back(static_cast<char>(path.size()));
        rule += path;
        pb::UnknownFieldSet* unknown = m.mutable_options()->GetReflection()->MutableUnknownFields(m.mutable_options());
        unknown->Clear();
        unknown->AddLengthDelimited(72295728, rule);
      }
    }
  });
  EXPECT_NE(err.find("switchyard.test.rest.Library.CreateBook: google.api.http: path variable {missing}"),
            std::string::npos)
      << err;
}

}  // namespace
}  // namespace switchyard::transcode
