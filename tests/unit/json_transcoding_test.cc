// routes[].json_transcoding: the config key (defaults, values, errors with
// file:line:col), the TranscodingTable checked against the descriptor sets
// (what --check-config and reload run), and the RestProtocol adapter's
// pieces: binding selection and refusals, the request headers and body
// toward the backend, and the rendered JSON response and errors.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "config/loader.h"
#include "grpc/framing.h"
#include "proxy/rest_protocol.h"
#include "schema/descriptor_catalog.h"
#include "transcode/transcoding_table.h"

namespace switchyard {
namespace {

using config::JsonTranscodingSpec;
using config::LoadResult;

std::string Set(const std::string& name) { return std::string(SY_TEST_DESCRIPTORS) + "/" + name; }

// Line 1 descriptor_sets, routes from line 5; route 0's json_transcoding is on line 7.
std::string Yaml(const std::string& service, const std::string& transcoding,
                 const std::string& set = "echo_http.pb") {
  std::string sets = set.empty() ? "" : "descriptor_sets: [\"" + Set(set) + "\"]\n";
  return sets +
         "listeners:\n"
         "  - name: public\n"
         "    address: 127.0.0.1:8080\n"
         "routes:\n"
         "  - match: { service: " + service + " }\n"
         "    json_transcoding: " + transcoding + "\n"
         "    cluster: echo\n"
         "clusters:\n"
         "  - name: echo\n"
         "    endpoints: [127.0.0.1:50051]\n";
}

std::string Joined(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += "  " + e + "\n";
  return out;
}

TEST(JsonTranscodingConfig, TrueTakesTheDefaults) {
  LoadResult r = config::loadString(Yaml("switchyard.test.Echo", "true"), "t.yaml");
  ASSERT_TRUE(r.config) << Joined(r);
  const auto& spec = r.config->routes[0].json_transcoding;
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->unknown_fields, JsonTranscodingSpec::UnknownFields::Reject);
  EXPECT_EQ(spec->stream_format, JsonTranscodingSpec::StreamFormat::Array);
  EXPECT_EQ(spec->max_request_body_bytes, 1024u * 1024u);
  EXPECT_EQ(spec->max_response_body_bytes, 4u * 1024u * 1024u);
  LoadResult off = config::loadString(Yaml("switchyard.test.Echo", "false"), "t.yaml");
  ASSERT_TRUE(off.config) << Joined(off);
  EXPECT_FALSE(off.config->routes[0].json_transcoding);
}

TEST(JsonTranscodingConfig, MapValues) {
  LoadResult r = config::loadString(
      Yaml("switchyard.test.Echo",
           "{ unknown_fields: ignore, stream_format: ndjson, max_request_body_bytes: 64KiB, "
           "max_response_body_bytes: 2MiB }"),
      "t.yaml");
  ASSERT_TRUE(r.config) << Joined(r);
  const auto& spec = *r.config->routes[0].json_transcoding;
  EXPECT_EQ(spec.unknown_fields, JsonTranscodingSpec::UnknownFields::Ignore);
  EXPECT_EQ(spec.stream_format, JsonTranscodingSpec::StreamFormat::Ndjson);
  EXPECT_EQ(spec.max_request_body_bytes, 64u * 1024u);
  EXPECT_EQ(spec.max_response_body_bytes, 2u * 1024u * 1024u);
}

TEST(JsonTranscodingConfig, ErrorsNameThePlace) {
  auto fails = [](const std::string& yaml, const std::string& where, const std::string& what) {
    LoadResult r = config::loadString(yaml, "t.yaml");
    EXPECT_FALSE(r.config);
    bool found = false;
    for (const auto& e : r.errors) found = found || (e.rfind(where, 0) == 0 && e.find(what) != std::string::npos);
    EXPECT_TRUE(found) << "want " << where << " ... " << what << "\n" << Joined(r);
  };
  fails(Yaml("switchyard.test.Echo", "{ unknown_fields: maybe }"), "t.yaml:7:", "reject or ignore");
  fails(Yaml("switchyard.test.Echo", "{ stream_format: csv }"), "t.yaml:7:", "array or ndjson");
  fails(Yaml("switchyard.test.Echo", "{ max_request_body_bytes: lots }"), "t.yaml:7:",
        "max_request_body_bytes");
  fails(Yaml("switchyard.test.Echo", "{ body: \"*\" }"), "t.yaml:7:", "body");
  fails(Yaml("switchyard.test.Echo", "perhaps"), "t.yaml:7:", "json_transcoding");
  fails(Yaml("switchyard.test.Echo", "true", ""), "t.yaml:6:", "no descriptor_sets are configured");
}

// What prepareConfig runs: the table checked against the descriptor sets.
Result<transcode::TranscodingTablePtr> Build(const std::string& yaml) {
  LoadResult r = config::loadString(yaml, "t.yaml");
  if (!r.config) return Error{"config: " + Joined(r)};
  auto catalog = schema::loadCatalog(*r.config);
  if (!catalog.ok()) return Error{catalog.error()};
  return transcode::TranscodingTable::build(*r.config, *catalog);
}

TEST(TranscodingTable, BuildsTheRoutesBindings) {
  auto t = Build(Yaml("switchyard.test.Echo", "true"));
  ASSERT_TRUE(t.ok()) << t.error();
  ASSERT_TRUE(*t);
  auto m = (*t)->match("GET", "/v1/echo/5/gone");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->binding->grpc_path, "/switchyard.test.Echo/Unary");
  ASSERT_EQ(m->fields.size(), 2u);
  EXPECT_EQ(m->fields[1].second, "gone");
  EXPECT_EQ(m->options->max_request_body_bytes, 1024u * 1024u);
  EXPECT_FALSE((*t)->match("GET", "/v1/echo"));
  EXPECT_TRUE((*t)->pathMatchesOtherMethod("GET", "/v1/echo"));
  // Without json_transcoding routes there is no table.
  auto none = Build(Yaml("switchyard.test.Echo", "false"));
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_FALSE(*none);
}

TEST(TranscodingTable, RefusesServicesTheSetsLackOrThatHaveNoRules) {
  auto missing = Build(Yaml("shop.Catalog", "true"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().rfind("t.yaml:7:", 0), 0u) << missing.error();
  EXPECT_NE(missing.error().find("shop.Catalog"), std::string::npos) << missing.error();
  // echo.pb has the Echo service without any google.api.http rule.
  auto bare = Build(Yaml("switchyard.test.Echo", "true", "echo.pb"));
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().find("no google.api.http rules"), std::string::npos) << bare.error();
}

// ------------------------------------------------------------- the adapter

class RestProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = Build(Yaml("switchyard.test.Echo",
                        "{ max_request_body_bytes: 64, max_response_body_bytes: 4KiB }"));
    ASSERT_TRUE(t.ok()) << t.error();
    table_ = *t;
  }

  // One serialized EchoResponse {payload: bytes, backend: name}, gRPC-framed.
  static std::string Response(const std::string& payload, const std::string& backend) {
    std::string m;
    m += '\x0a';
    m += static_cast<char>(payload.size());
    m += payload;
    m += '\x12';
    m += static_cast<char>(backend.size());
    m += backend;
    return grpc::frameMessage(m);
  }

  static std::string Render(proxy::RestProtocol& p, const std::string& backend_bytes,
                            const std::string& status, const std::string& message = "") {
    proxy::FlowBuffers flow;
    flow.addResponse(reinterpret_cast<const uint8_t*>(backend_bytes.data()), backend_bytes.size());
    size_t written = 1;
    EXPECT_EQ(p.readResponse(flow, nullptr, 0, &written), backend_bytes.size());
    EXPECT_EQ(written, 0u);
    http2::NvList trailers;
    trailers.add("grpc-status", status);
    if (!message.empty()) trailers.add("grpc-message", message);
    p.endBody(trailers);
    std::string out(8192, '\0');
    bool done = false;
    size_t n = p.readBodyEnd(reinterpret_cast<uint8_t*>(out.data()), out.size(), &done);
    EXPECT_TRUE(done);
    out.resize(n);
    return out;
  }

  transcode::TranscodingTablePtr table_;
};

TEST_F(RestProtocolTest, RefusalsForPathsWithoutBindings) {
  auto missing = proxy::RestProtocol::select(*table_, "GET", "/v2/none?x=1");
  ASSERT_TRUE(missing->failure());
  EXPECT_EQ(missing->failure()->code, grpc::StatusCode::NotFound);
  std::string body = Render(*missing, "", "5", "no HTTP rule matches GET /v2/none");
  EXPECT_EQ(missing->httpStatus(), 404);
  EXPECT_EQ(body, "{\"code\":5,\"message\":\"no HTTP rule matches GET /v2/none\",\"details\":[]}");

  auto method = proxy::RestProtocol::select(*table_, "PATCH", "/v1/echo");
  ASSERT_TRUE(method->failure());
  Render(*method, "", "12", method->failure()->message);
  EXPECT_EQ(method->httpStatus(), 405);
}

TEST_F(RestProtocolTest, RequestTowardTheBackendIsGrpc) {
  auto p = proxy::RestProtocol::select(*table_, "GET", "/v1/echo/0/hi?response_size=3");
  ASSERT_FALSE(p->failure());
  EXPECT_EQ(p->name(), "json");
  EXPECT_EQ(p->grpcPath("/v1/echo/0/hi?response_size=3"), "/switchyard.test.Echo/Unary");
  EXPECT_EQ(*p->upstreamField(":method", "GET"), "POST");
  EXPECT_EQ(*p->upstreamField(":path", "/v1/echo/0/hi"), "/switchyard.test.Echo/Unary");
  EXPECT_EQ(*p->upstreamField("content-type", "application/json"), "application/grpc");
  EXPECT_FALSE(p->upstreamField("content-length", "12"));
  EXPECT_FALSE(p->upstreamField("accept-encoding", "gzip"));
  EXPECT_EQ(*p->upstreamField("x-tenant", "a"), "a");
  auto framed = p->finishRequest();
  ASSERT_TRUE(framed.ok()) << framed.error();
  grpc::MessageReader reader(1024);
  ASSERT_TRUE(reader.feed(reinterpret_cast<const uint8_t*>(framed->data()), framed->size()));
  auto message = reader.next();
  ASSERT_TRUE(message);
  // response_size (field 2) = 3, fail_message (field 7) = "hi".
  EXPECT_EQ(*message, std::string("\x10\x03\x3a\x02hi", 6));
}

TEST_F(RestProtocolTest, BodyOverTheLimitIsRefusedWith413) {
  auto p = proxy::RestProtocol::select(*table_, "POST", "/v1/echo");
  std::string part(40, ' ');
  auto first = p->decodeRequest(reinterpret_cast<const uint8_t*>(part.data()), part.size());
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->empty()) << "the adapter keeps the body";
  EXPECT_EQ(p->clientBytesFor(100), 0u);
  EXPECT_FALSE(p->decodeRequest(reinterpret_cast<const uint8_t*>(part.data()), part.size()));
  ASSERT_TRUE(p->failure());
  EXPECT_TRUE(p->failure()->too_large);
  EXPECT_EQ(p->failure()->code, grpc::StatusCode::ResourceExhausted);
  std::string body = Render(*p, "", "8", p->failure()->message);
  EXPECT_EQ(p->httpStatus(), 413);
  EXPECT_NE(body.find("max_request_body_bytes"), std::string::npos);
}

TEST_F(RestProtocolTest, MalformedBodyIsAnErrorNamingTheBody) {
  auto p = proxy::RestProtocol::select(*table_, "POST", "/v1/echo");
  std::string json = "{\"responseSize\": true}";
  ASSERT_TRUE(p->decodeRequest(reinterpret_cast<const uint8_t*>(json.data()), json.size()));
  auto framed = p->finishRequest();
  ASSERT_FALSE(framed.ok());
  EXPECT_NE(framed.error().find("request body"), std::string::npos) << framed.error();
}

TEST_F(RestProtocolTest, UnaryResponseAndErrors) {
  auto ok = proxy::RestProtocol::select(*table_, "POST", "/v1/echo");
  std::string body = Render(*ok, Response("hi", "b1"), "0");
  EXPECT_EQ(ok->httpStatus(), 200);
  EXPECT_EQ(body, "{\"payload\":\"aGk=\",\"backend\":\"b1\"}");
  http2::NvList headers;
  ok->addLocalResponseHeaders(headers);
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(headers.data()[2].value),
                        headers.data()[2].valuelen),
            std::to_string(body.size()));

  auto failed = proxy::RestProtocol::select(*table_, "POST", "/v1/echo");
  body = Render(*failed, "", "16", "who%20are%20you");
  EXPECT_EQ(failed->httpStatus(), 401);
  EXPECT_EQ(body, "{\"code\":16,\"message\":\"who are you\",\"details\":[]}");

  auto empty = proxy::RestProtocol::select(*table_, "POST", "/v1/echo");
  Render(*empty, "", "0");
  EXPECT_EQ(empty->httpStatus(), 500) << "a unary OK without a message is the backend's fault";

  auto twice = proxy::RestProtocol::select(*table_, "POST", "/v1/echo");
  Render(*twice, Response("a", "b") + Response("b", "b"), "0");
  ASSERT_TRUE(twice->failure());
  EXPECT_EQ(twice->httpStatus(), 500);
}

TEST_F(RestProtocolTest, ServerStreamAsJsonArray) {
  auto p = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/2");
  std::string body = Render(*p, Response("a", "x") + Response("b", "x"), "0");
  EXPECT_EQ(p->httpStatus(), 200);
  EXPECT_EQ(body, "[{\"payload\":\"YQ==\",\"backend\":\"x\"},{\"payload\":\"Yg==\",\"backend\":\"x\"}]");
  auto none = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/0");
  EXPECT_EQ(Render(*none, "", "0"), "[]");
}

TEST_F(RestProtocolTest, ResponseOverTheLimitFails) {
  auto p = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/100");
  std::string many;
  for (int i = 0; i < 100; ++i) many += Response(std::string(60, 'z'), "backend");
  Render(*p, many, "0");
  ASSERT_TRUE(p->failure());
  EXPECT_TRUE(p->failure()->too_large);
  EXPECT_EQ(p->httpStatus(), 500);
}

TEST(RestProtocolNdjson, ServerStreamOneValuePerLine) {
  auto t = Build(Yaml("switchyard.test.Echo", "{ stream_format: ndjson }"));
  ASSERT_TRUE(t.ok()) << t.error();
  auto p = proxy::RestProtocol::select(**t, "GET", "/v1/stream/2");
  proxy::FlowBuffers flow;
  std::string m = grpc::frameMessage(std::string("\x12\x01x", 3));
  std::string two = m + m;
  flow.addResponse(reinterpret_cast<const uint8_t*>(two.data()), two.size());
  size_t written = 0;
  p->readResponse(flow, nullptr, 0, &written);
  http2::NvList trailers;
  trailers.add("grpc-status", "0");
  p->endBody(trailers);
  std::string out(256, '\0');
  bool done = false;
  out.resize(p->readBodyEnd(reinterpret_cast<uint8_t*>(out.data()), out.size(), &done));
  EXPECT_EQ(out, "{\"backend\":\"x\"}\n{\"backend\":\"x\"}\n");
  http2::NvList headers;
  p->addLocalResponseHeaders(headers);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(headers.data()[1].value), headers.data()[1].valuelen),
            "application/x-ndjson");
}

}  // namespace
}  // namespace switchyard
