// routes[].json_transcoding: the config key (defaults, values, errors with
// file:line:col), the TranscodingTable checked against the descriptor sets
// (what --check-config and reload run), and the RestProtocol adapter's
// pieces: binding selection and refusals, the request headers and body
// toward the backend, and the rendered JSON response and errors.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

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
  // response_size (field 2) = 3, fail_message (field 7) = "hi", fail_code (field 6) 0 or absent.
  google::protobuf::UnknownFieldSet fields;
  ASSERT_TRUE(fields.ParseFromString(*message));
  std::map<int, std::string> seen;
  for (int i = 0; i < fields.field_count(); ++i) {
    const auto& f = fields.field(i);
    seen[f.number()] = f.type() == google::protobuf::UnknownField::TYPE_VARINT
                           ? std::to_string(f.varint())
                           : f.length_delimited();
  }
  EXPECT_EQ(seen[2], "3");
  EXPECT_EQ(seen[7], "hi");
  if (seen.count(6) != 0) {
    EXPECT_EQ(seen[6], "0");
  }
  EXPECT_EQ(seen.size() - seen.count(6), 2u);
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

// --- server streams: sent as they arrive

// Everything the adapter writes from `flow` with a buffer of `chunk` bytes per call.
std::string Drain(proxy::RestProtocol& p, proxy::FlowBuffers& flow, size_t chunk = 8192) {
  std::string out;
  std::string buf(chunk, '\0');
  for (int i = 0; i < 100000; ++i) {
    size_t written = 0;
    size_t taken = p.readResponse(flow, reinterpret_cast<uint8_t*>(buf.data()), buf.size(), &written);
    out.append(buf.data(), written);
    if (written == 0 && taken == 0) break;
  }
  return out;
}

std::string End(proxy::RestProtocol& p, const std::string& status, const std::string& message = "") {
  http2::NvList trailers;
  trailers.add("grpc-status", status);
  if (!message.empty()) trailers.add("grpc-message", message);
  p.endBody(trailers);
  std::string out(8192, '\0');
  bool done = false;
  out.resize(p.readBodyEnd(reinterpret_cast<uint8_t*>(out.data()), out.size(), &done));
  EXPECT_TRUE(done);
  return out;
}

void Add(proxy::FlowBuffers& flow, const std::string& bytes) {
  flow.addResponse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::map<std::string, std::string> Headers(const proxy::RestProtocol& p) {
  http2::NvList nva;
  p.addLocalResponseHeaders(nva);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < nva.size(); ++i) {
    const nghttp2_nv& nv = nva.data()[i];
    out[std::string(reinterpret_cast<const char*>(nv.name), nv.namelen)] =
        std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen);
  }
  return out;
}

TEST_F(RestProtocolTest, ServerStreamAsJsonArray) {
  auto p = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/2");
  proxy::FlowBuffers flow;
  Add(flow, Response("a", "x") + Response("b", "x"));
  std::string body = Drain(*p, flow);
  body += End(*p, "0");
  EXPECT_EQ(p->httpStatus(), 200);
  EXPECT_EQ(body, "[{\"payload\":\"YQ==\",\"backend\":\"x\"},{\"payload\":\"Yg==\",\"backend\":\"x\"}]");
  auto none = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/0");
  EXPECT_EQ(Render(*none, "", "0"), "[]");
  EXPECT_FALSE(none->responseStarted());
  EXPECT_EQ(Headers(*none)["content-length"], "2");
}

TEST_F(RestProtocolTest, StreamHeadersGoWithTheFirstMessage) {
  auto p = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/3");
  proxy::FlowBuffers flow;
  std::string first = Response("a", "x");
  // Half a message: nothing is decided yet.
  Add(flow, first.substr(0, 4));
  size_t written = 7;
  EXPECT_EQ(p->readResponse(flow, nullptr, 0, &written), 4u);
  EXPECT_EQ(written, 0u);
  EXPECT_FALSE(p->responseStarted());
  // The rest of it and a second message: the headers may go, and only the
  // first message was taken.
  std::string second = Response("b", "x");
  Add(flow, first.substr(4) + second);
  EXPECT_EQ(p->readResponse(flow, nullptr, 0, &written), first.size() - 4);
  EXPECT_TRUE(p->responseStarted());
  EXPECT_EQ(flow.responsePending(), second.size());
  auto headers = Headers(*p);
  EXPECT_EQ(headers[":status"], "200");
  EXPECT_EQ(headers["content-type"], "application/json");
  EXPECT_EQ(headers.count("content-length"), 0u) << "a stream's length is not known";
  EXPECT_EQ(Drain(*p, flow), "[{\"payload\":\"YQ==\",\"backend\":\"x\"},{\"payload\":\"Yg==\",\"backend\":\"x\"}");
  // The third arrives later, then the end.
  Add(flow, Response("c", "x"));
  EXPECT_EQ(Drain(*p, flow), ",{\"payload\":\"Yw==\",\"backend\":\"x\"}");
  EXPECT_EQ(End(*p, "0"), "]");
  EXPECT_EQ(p->httpStatus(), 200);
}

TEST_F(RestProtocolTest, StreamTakesFromTheBackendOnlyWhatTheClientTook) {
  auto p = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/3");
  proxy::FlowBuffers flow;
  std::string m = Response(std::string(30, 'q'), "x");
  Add(flow, m + m + m);
  std::string out;
  std::string buf(10, '\0');
  // A 10-byte window: a message is taken from the backend only when the
  // client has taken all of the one before (its JSON is about 60 bytes).
  auto started = [&] { return static_cast<size_t>(std::count(out.begin(), out.end(), '{')); };
  size_t taken_total = 0;
  for (int i = 0; i < 100; ++i) {
    size_t written = 0;
    size_t taken = p->readResponse(flow, reinterpret_cast<uint8_t*>(buf.data()), buf.size(), &written);
    taken_total += taken;
    out.append(buf.data(), written);
    EXPECT_LE(written, buf.size());
    // Taken: the messages whose JSON was started, and at most the next one.
    EXPECT_GE(taken_total, started() * m.size()) << "after " << out;
    EXPECT_LE(taken_total, (started() + 1) * m.size()) << "after " << out;
    if (i == 0) {
      EXPECT_EQ(taken, m.size()) << "the first call takes the first message only";
    }
    if (written == 0 && taken == 0) break;
  }
  EXPECT_EQ(flow.responsePending(), 0u);
  EXPECT_TRUE(p->responseDrained());
  out += End(*p, "0");
  google::protobuf::Value json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(out, &json).ok()) << out;
  EXPECT_EQ(json.list_value().values_size(), 3);
}

TEST_F(RestProtocolTest, StreamFailureAfterMessagesIsTheLastElement) {
  auto p = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/3");
  proxy::FlowBuffers flow;
  Add(flow, Response("a", "x"));
  std::string body = Drain(*p, flow);
  body += End(*p, "14", "backend%20gone");
  EXPECT_EQ(p->httpStatus(), 200) << "the status went out with the first message";
  EXPECT_EQ(body,
            "[{\"payload\":\"YQ==\",\"backend\":\"x\"},"
            "{\"error\":{\"code\":14,\"message\":\"backend gone\",\"details\":[]}}]");
}

TEST_F(RestProtocolTest, StreamFailureBeforeMessagesIsAnHttpError) {
  auto p = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/3");
  proxy::FlowBuffers flow;
  EXPECT_EQ(Drain(*p, flow), "");
  EXPECT_EQ(End(*p, "5", "none"), "{\"code\":5,\"message\":\"none\",\"details\":[]}");
  EXPECT_EQ(p->httpStatus(), 404);
  EXPECT_EQ(Headers(*p)["content-type"], "application/json");
}

TEST_F(RestProtocolTest, StreamMessageThatDoesNotConvertFails) {
  auto p = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/3");
  proxy::FlowBuffers flow;
  Add(flow, Response("a", "x") + grpc::frameMessage("\xff\xff\xff"));
  std::string body = Drain(*p, flow);
  EXPECT_EQ(body, "[{\"payload\":\"YQ==\",\"backend\":\"x\"}");
  ASSERT_TRUE(p->failure());
  EXPECT_EQ(p->failure()->code, grpc::StatusCode::Internal);
  // The Rpc ends the call with the failure; it is the stream's last element.
  std::string end = End(*p, "13", "x");
  EXPECT_NE(end.find("{\"error\":{\"code\":13"), std::string::npos) << end;
}

TEST_F(RestProtocolTest, StreamLimitIsPerMessage) {
  // 4 KiB max_response_body_bytes: 100 small messages (6 KiB of JSON) pass...
  auto p = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/100");
  proxy::FlowBuffers flow;
  std::string many;
  for (int i = 0; i < 100; ++i) many += Response(std::string(60, 'z'), "backend");
  Add(flow, many);
  std::string body = Drain(*p, flow) + End(*p, "0");
  EXPECT_FALSE(p->failure());
  EXPECT_GT(body.size(), 4096u);
  // ...one message over it does not.
  auto big = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/1");
  proxy::FlowBuffers big_flow;
  std::string payload(3500, 'z');  // 3500 bytes: under 4 KiB as protobuf, over it as base64 JSON
  std::string m;
  m += '\x0a';
  m += static_cast<char>(0x80 | (payload.size() & 0x7f));
  m += static_cast<char>(payload.size() >> 7);
  m += payload;
  Add(big_flow, grpc::frameMessage(m));
  Drain(*big, big_flow);
  ASSERT_TRUE(big->failure());
  EXPECT_TRUE(big->failure()->too_large);
  EXPECT_NE(big->failure()->message.find("max_response_body_bytes"), std::string::npos);
}

TEST_F(RestProtocolTest, UnaryResponseOverTheLimitFails) {
  auto p = proxy::RestProtocol::select(*table_, "POST", "/v1/echo");
  std::string payload(3500, 'z');
  std::string m;
  m += '\x0a';
  m += static_cast<char>(0x80 | (payload.size() & 0x7f));
  m += static_cast<char>(payload.size() >> 7);
  m += payload;
  Render(*p, grpc::frameMessage(m), "0");
  ASSERT_TRUE(p->failure());
  EXPECT_TRUE(p->failure()->too_large);
  EXPECT_EQ(p->httpStatus(), 500);
}

// --- response metadata

// A HeaderList as nghttp2 hands received fields over (by rcbuf): encoded by
// one in-memory session and decoded by another.
http2::HeaderList BackendHeaders(const std::vector<std::pair<std::string, std::string>>& fields) {
  http2::HeaderList out;
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_header_callback2(
      cbs, [](nghttp2_session*, const nghttp2_frame*, nghttp2_rcbuf* name, nghttp2_rcbuf* value,
              uint8_t, void* ud) {
        static_cast<http2::HeaderList*>(ud)->add(name, value);
        return 0;
      });
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_http_messaging(opt, 1);
  nghttp2_session* client = nullptr;
  nghttp2_session* server = nullptr;
  nghttp2_session_client_new2(&client, cbs, nullptr, opt);
  nghttp2_session_server_new2(&server, cbs, &out, opt);
  std::vector<nghttp2_nv> nva;
  for (const auto& [n, v] : fields) nva.push_back(http2::makeNv(n, v));
  nghttp2_submit_settings(client, NGHTTP2_FLAG_NONE, nullptr, 0);
  nghttp2_submit_headers(client, NGHTTP2_FLAG_END_STREAM, -1, nullptr, nva.data(), nva.size(), nullptr);
  const uint8_t* data = nullptr;
  for (ssize_t n; (n = nghttp2_session_mem_send(client, &data)) > 0;) {
    nghttp2_session_mem_recv(server, data, static_cast<size_t>(n));
  }
  nghttp2_session_del(client);
  nghttp2_session_del(server);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  return out;
}

TEST_F(RestProtocolTest, UnaryMetadataFromHeadersAndTrailers) {
  auto p = proxy::RestProtocol::select(*table_, "POST", "/v1/echo");
  p->keepResponseHeaders(BackendHeaders({{":status", "200"},
                                         {"content-type", "application/grpc"},
                                         {"grpc-encoding", "identity"},
                                         {"x-request-cost", "7"},
                                         {"x-trace-bin", "AAEC"}}));
  proxy::FlowBuffers flow;
  Add(flow, Response("hi", "b1"));
  size_t written = 0;
  p->readResponse(flow, nullptr, 0, &written);
  http2::NvList trailers;
  trailers.add("grpc-status", "0");
  trailers.add("x-backend", "b1");
  p->endBody(trailers);
  auto headers = Headers(*p);
  EXPECT_EQ(headers["grpc-metadata-x-request-cost"], "7");
  EXPECT_EQ(headers["grpc-metadata-x-trace-bin"], "AAEC") << "binary values stay base64";
  EXPECT_EQ(headers["grpc-trailer-x-backend"], "b1") << "trailers too: the status came first";
  EXPECT_EQ(headers.count("grpc-metadata-x-backend"), 0u) << "trailers keep their own prefix";
  EXPECT_EQ(headers.count("grpc-trailer-grpc-status"), 0u);
  EXPECT_EQ(headers.count("grpc-metadata-grpc-encoding"), 0u);
  EXPECT_EQ(headers.count("grpc-metadata-content-type"), 0u);
  EXPECT_EQ(headers.count("grpc-metadata-grpc-status"), 0u);
  EXPECT_EQ(headers.count("grpc-metadata-:status"), 0u);
  EXPECT_EQ(headers[":status"], "200");
}

TEST_F(RestProtocolTest, StreamMetadataIsTheHeadersOnly) {
  auto p = proxy::RestProtocol::select(*table_, "GET", "/v1/stream/1");
  p->keepResponseHeaders(BackendHeaders({{":status", "200"}, {"x-shard", "3"}}));
  proxy::FlowBuffers flow;
  Add(flow, Response("a", "x"));
  size_t written = 0;
  p->readResponse(flow, nullptr, 0, &written);
  ASSERT_TRUE(p->responseStarted());
  auto headers = Headers(*p);
  EXPECT_EQ(headers["grpc-metadata-x-shard"], "3");
  Drain(*p, flow);
  http2::NvList trailers;
  trailers.add("grpc-status", "0");
  trailers.add("x-backend", "b1");
  p->endBody(trailers);
  EXPECT_EQ(Headers(*p).count("grpc-trailer-x-backend"), 0u) << "the headers went before the trailers";
}

TEST(RestProtocolNdjson, ServerStreamOneValuePerLine) {
  auto t = Build(Yaml("switchyard.test.Echo", "{ stream_format: ndjson }"));
  ASSERT_TRUE(t.ok()) << t.error();
  auto p = proxy::RestProtocol::select(**t, "GET", "/v1/stream/2");
  proxy::FlowBuffers flow;
  std::string m = grpc::frameMessage(std::string("\x12\x01x", 3));
  Add(flow, m + m);
  std::string out = Drain(*p, flow);
  out += End(*p, "0");
  EXPECT_EQ(out, "{\"backend\":\"x\"}\n{\"backend\":\"x\"}\n");
  EXPECT_EQ(Headers(*p)["content-type"], "application/x-ndjson");
}

TEST(RestProtocolNdjson, FailureAfterMessagesIsTheLastLine) {
  auto t = Build(Yaml("switchyard.test.Echo", "{ stream_format: ndjson }"));
  ASSERT_TRUE(t.ok()) << t.error();
  auto p = proxy::RestProtocol::select(**t, "GET", "/v1/stream/2");
  proxy::FlowBuffers flow;
  Add(flow, grpc::frameMessage(std::string("\x12\x01x", 3)));
  std::string out = Drain(*p, flow);
  out += End(*p, "4", "late");
  EXPECT_EQ(out, "{\"backend\":\"x\"}\n{\"error\":{\"code\":4,\"message\":\"late\",\"details\":[]}}\n");
  EXPECT_EQ(p->httpStatus(), 200);
}

}  // namespace
}  // namespace switchyard
