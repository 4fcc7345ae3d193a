// JSON transcoding's message conversions over the real descriptor set of
// tests/proto/transcode.proto: body forms, path and query fields, unknown
// fields (reject or ignore), wrong types, response_body, streams, and the
// gRPC status → HTTP status table with its JSON error body.
#include "transcode/json_codec.h"

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace switchyard::transcode {
namespace {

namespace pb = google::protobuf;

class JsonCodecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ifstream f(std::string(SY_TEST_DESCRIPTORS) + "/transcode.pb", std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    auto built = schema::DescriptorCatalog::build({{"transcode.pb", "", ss.str()}});
    ASSERT_TRUE(built.ok()) << built.error();
    catalog_ = *built;
    auto t = BindingTable::build(*catalog_, {"switchyard.test.rest.Library"});
    ASSERT_TRUE(t.ok()) << t.error();
    table_ = *t;
    codec_ = std::make_unique<JsonCodec>(catalog_);
    factory_.SetDelegateToGeneratedFactory(false);
  }

  // The request message for an HTTP request, printed back as JSON to compare.
  std::string Request(const std::string& method, const std::string& path, const std::string& query,
                      const std::string& body, UnknownFields unknown = UnknownFields::Reject,
                      std::string* error = nullptr) {
    auto m = table_.match(method, path);
    EXPECT_TRUE(m) << method << " " << path;
    if (!m) return "";
    auto bytes = codec_->requestMessage(*m->binding, m->fields, query, body, unknown);
    if (!bytes.ok()) {
      if (error != nullptr) *error = bytes.error();
      return "ERROR";
    }
    return ToJson(m->binding->method->input_type(), *bytes);
  }

  std::string ToJson(const pb::Descriptor* type, const std::string& bytes) {
    std::unique_ptr<pb::Message> msg(factory_.GetPrototype(type)->New());
    EXPECT_TRUE(msg->ParseFromString(bytes));
    std::string out;
    EXPECT_TRUE(pb::util::MessageToJsonString(*msg, &out).ok());
    return out;
  }

  std::string FromJson(const std::string& type_name, const std::string& json) {
    const pb::Descriptor* type = catalog_->pool().FindMessageTypeByName(type_name);
    std::unique_ptr<pb::Message> msg(factory_.GetPrototype(type)->New());
    EXPECT_TRUE(pb::util::JsonStringToMessage(json, msg.get()).ok());
    return msg->SerializeAsString();
  }

  schema::CatalogPtr catalog_;
  BindingTable table_;
  std::unique_ptr<JsonCodec> codec_;
  pb::DynamicMessageFactory factory_;
};

TEST_F(JsonCodecTest, PathAndQueryFieldsWithoutBody) {
  EXPECT_EQ(Request("GET", "/v1/shelves/s1/books/b2", "view=FULL", ""),
            R"({"shelf":"s1","book":"b2","view":"FULL"})");
  EXPECT_EQ(Request("GET", "/v1/shelves/s%201/books", "page_size=5", ""),
            R"({"shelf":"s 1","pageSize":5})");
  // The JSON name works in the query too.
  EXPECT_EQ(Request("GET", "/v1/shelves/s/books", "pageSize=7", ""), R"({"shelf":"s","pageSize":7})");
}

TEST_F(JsonCodecTest, BodyStarAndFieldBody) {
  EXPECT_EQ(Request("PATCH", "/v1/books/9", "", R"({"title":"T","pages":12})"),
            R"({"name":"books/9","title":"T","pages":12})");
  // The path wins over the body for the fields it sets.
  EXPECT_EQ(Request("PUT", "/v1/books/9:replace", "", R"({"name":"other","title":"T"})"),
            R"({"name":"books/9","title":"T"})");
  EXPECT_EQ(Request("POST", "/v1/shelves/s1/books", "", R"({"title":"New","pages":"3"})"),
            R"({"shelf":"s1","book":{"title":"New","pages":3}})");
}

TEST_F(JsonCodecTest, BadInputIsAnErrorNamingTheField) {
  std::string err;
  EXPECT_EQ(Request("PATCH", "/v1/books/9", "", R"({"title":"T","nope":1})", UnknownFields::Reject, &err),
            "ERROR");
  EXPECT_NE(err.find("nope"), std::string::npos) << err;
  EXPECT_EQ(Request("PATCH", "/v1/books/9", "", R"({"title":"T","nope":1})", UnknownFields::Ignore),
            R"({"name":"books/9","title":"T"})");
  EXPECT_EQ(Request("PATCH", "/v1/books/9", "", R"({"pages":"many"})", UnknownFields::Reject, &err), "ERROR");
  EXPECT_NE(err.find("pages"), std::string::npos) << err;
  EXPECT_EQ(Request("PATCH", "/v1/books/9", "", R"({"title": )", UnknownFields::Reject, &err), "ERROR");
  EXPECT_NE(err.find("request body"), std::string::npos) << err;
  EXPECT_EQ(Request("GET", "/v1/shelves/s/books", "page_size=x", "", UnknownFields::Reject, &err), "ERROR");
  EXPECT_NE(err.find("query parameter page_size"), std::string::npos) << err;
  EXPECT_EQ(Request("GET", "/v1/shelves/s/books", "colour=red", "", UnknownFields::Reject, &err), "ERROR");
  EXPECT_NE(err.find("colour"), std::string::npos) << err;
  EXPECT_EQ(Request("GET", "/v1/shelves/s/books/b", "", R"({"x":1})", UnknownFields::Reject, &err), "ERROR");
  EXPECT_NE(err.find("takes no body"), std::string::npos) << err;
}

TEST_F(JsonCodecTest, ResponsesAndResponseBody) {
  auto get = table_.match("GET", "/v1/shelves/s/books/b");
  ASSERT_TRUE(get);
  auto json = codec_->responseJson(*get->binding, FromJson("switchyard.test.rest.Book", R"({"name":"n","pages":2})"));
  ASSERT_TRUE(json.ok()) << json.error();
  EXPECT_EQ(*json, R"({"name":"n","pages":2})");

  auto list = table_.match("GET", "/v1/shelves/s/books");
  ASSERT_TRUE(list);
  auto books = codec_->responseJson(
      *list->binding, FromJson("switchyard.test.rest.ListBooksResponse", R"({"books":[{"name":"a"},{"name":"b"}]})"));
  ASSERT_TRUE(books.ok()) << books.error();
  EXPECT_EQ(*books, R"([{"name":"a"},{"name":"b"}])");
  auto none = codec_->responseJson(*list->binding, "");
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_EQ(*none, "[]");

  EXPECT_FALSE(codec_->responseJson(*get->binding, std::string("\xff\xff\xff", 3)).ok());
}

TEST(JsonStatus, GoogleRpcCodeToHttpAndErrorBody) {
  EXPECT_EQ(httpStatusFor(grpc::StatusCode::Ok), 200);
  EXPECT_EQ(httpStatusFor(grpc::StatusCode::NotFound), 404);
  EXPECT_EQ(httpStatusFor(grpc::StatusCode::InvalidArgument), 400);
  EXPECT_EQ(httpStatusFor(grpc::StatusCode::Unauthenticated), 401);
  EXPECT_EQ(httpStatusFor(grpc::StatusCode::PermissionDenied), 403);
  EXPECT_EQ(httpStatusFor(grpc::StatusCode::ResourceExhausted), 429);
  EXPECT_EQ(httpStatusFor(grpc::StatusCode::Unavailable), 503);
  EXPECT_EQ(httpStatusFor(grpc::StatusCode::DeadlineExceeded), 504);
  EXPECT_EQ(httpStatusFor(grpc::StatusCode::Unimplemented), 501);
  EXPECT_EQ(httpStatusFor(grpc::StatusCode::Cancelled), 499);
  std::string body = errorJson(grpc::StatusCode::NotFound, "no \"book\"");
  EXPECT_NE(body.find(R"("code":5)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("message":"no \"book\"")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("details":[])"), std::string::npos) << body;
}

TEST_F(JsonCodecTest, TypeCacheHoldsTheTypesItWasGivenAndAsksThePoolForOthers) {
  TypeCache cache(catalog_->pool());
  const pb::Descriptor* list = catalog_->pool().FindMessageTypeByName("switchyard.test.rest.ListBooksResponse");
  ASSERT_NE(list, nullptr);
  cache.add(list);
  pb::Type type;
  ASSERT_TRUE(cache.ResolveMessageType(TypeCache::urlOf(list), &type).ok());
  EXPECT_EQ(type.name(), "switchyard.test.rest.ListBooksResponse");
  // Book, reached through the repeated field, resolves to the same Type as the pool makes.
  pb::Type book;
  ASSERT_TRUE(cache.ResolveMessageType("type.googleapis.com/switchyard.test.rest.Book", &book).ok());
  EXPECT_EQ(book.fields_size(), 3);
  // Not added: still resolved, through the pool.
  pb::Type other;
  ASSERT_TRUE(cache.ResolveMessageType("type.googleapis.com/switchyard.test.rest.GetBookRequest", &other).ok());
  EXPECT_EQ(other.name(), "switchyard.test.rest.GetBookRequest");
  EXPECT_FALSE(cache.ResolveMessageType("type.googleapis.com/no.Such", &other).ok());
}

TEST_F(JsonCodecTest, PreparedAndUnpreparedCodecsAgree) {
  JsonCodec prepared(catalog_);
  for (const auto& b : table_.bindings()) prepared.prepare(b);
  auto m = table_.match("GET", "/v1/shelves/s1/books");
  ASSERT_TRUE(m);
  std::string binary = FromJson("switchyard.test.rest.ListBooksResponse",
                                R"({"books":[{"name":"a","pages":1},{"name":"b"}]})");
  auto a = prepared.responseJson(*m->binding, binary);
  auto b = codec_->responseJson(*m->binding, binary);
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(*a, *b);
  auto req = prepared.requestMessage(*m->binding, m->fields, "page_size=5", "", UnknownFields::Reject);
  ASSERT_TRUE(req.ok()) << req.error();
  EXPECT_EQ(ToJson(m->binding->method->input_type(), *req), R"({"shelf":"s1","pageSize":5})");
}

TEST(JsonStream, ArrayAndNdjson) {
  JsonStreamWriter a(JsonStreamWriter::Format::Array);
  EXPECT_FALSE(a.started());
  EXPECT_EQ(a.message("1"), "[1");
  EXPECT_TRUE(a.started());
  EXPECT_EQ(a.message("2"), ",2");
  EXPECT_EQ(a.end(), "]");
  JsonStreamWriter n(JsonStreamWriter::Format::Ndjson);
  std::string lines = n.message("{}");
  lines += n.message("{}");
  lines += n.end();
  EXPECT_EQ(lines, "{}\n{}\n");
  JsonStreamWriter empty(JsonStreamWriter::Format::Array);
  EXPECT_EQ(empty.end(), "[]");
  JsonStreamWriter none(JsonStreamWriter::Format::Ndjson);
  EXPECT_EQ(none.end(), "");
}

TEST(JsonStream, ErrorAfterMessagesIsTheLastElement) {
  std::string err = errorJson(grpc::StatusCode::Unavailable, "gone");
  JsonStreamWriter a(JsonStreamWriter::Format::Array);
  std::string array = a.message("{\"n\":1}");
  array += a.error(err);
  EXPECT_EQ(array, "[{\"n\":1},{\"error\":" + err + "}]");
  JsonStreamWriter n(JsonStreamWriter::Format::Ndjson);
  std::string lines = n.message("{\"n\":1}");
  lines += n.error(err);
  EXPECT_EQ(lines, "{\"n\":1}\n{\"error\":" + err + "}\n");
}

}  // namespace
}  // namespace switchyard::transcode
