// gRPC-Web through the real daemon: curl sends application/grpc-web(+proto)
// and application/grpc-web-text requests over HTTP/2 (h2c prior knowledge)
// to a real gRPC backend; the responses carry the messages and the status
// in the trailer frame. Proxy-made errors, deadlines and CORS preflights
// are answered the same way.
#include "grpc_web_support.h"

namespace sytest {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

constexpr const char* kOrigin = "https://app.example.com";

class GrpcWebTest : public ProxyTest {
 protected:
  void SetUp() override {
    Backend& b = StartBackend("backend-a");
    ProxyConfig c = DefaultConfig({&b});
    c.listener_extra["public"] = {
        "grpc_web: { cors: { allow_origins: [\"https://app.example.com\", \"*.example.org\"], "
        "max_age: 10m, allow_headers: [x-tenant], expose_headers: [x-backend] } }"};
    // A second listener without grpc_web.
    c.listeners.push_back({"native", "127.0.0.1:0", "", ""});
    StartProxy(c);
    native_address_ = BoundAddress(*proxy(), "native");
    ASSERT_FALSE(native_address_.empty());
  }

  std::string Url(const std::string& method, const std::string& address = "") const {
    return "http://" + (address.empty() ? proxy_address() : address) + "/switchyard.test.Echo/" + method;
  }

  static std::string Request(const EchoRequest& req) { return WebFrame(req.SerializeAsString()); }

  WebResponse Call(const std::string& method, const EchoRequest& req, bool text,
                   std::vector<std::string> extra_headers = {}) {
    CurlRequest c;
    c.url = Url(method);
    c.text = text;
    c.headers = {std::string("content-type: ") +
                     (text ? "application/grpc-web-text" : "application/grpc-web+proto"),
                 "x-grpc-web: 1", std::string("accept: ") +
                     (text ? "application/grpc-web-text" : "application/grpc-web")};
    for (auto& h : extra_headers) c.headers.push_back(h);
    c.body = text ? Base64(Request(req)) : Request(req);
    return RunCurl(c, dir());
  }

  std::string native_address_;
};

EchoResponse Parse(const std::string& bytes) {
  EchoResponse r;
  EXPECT_TRUE(r.ParseFromString(bytes));
  return r;
}

TEST_F(GrpcWebTest, UnaryBinary) {
  EchoRequest req;
  req.set_payload("hello from the web");
  WebResponse r = Call("Unary", req, false);
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.headers["content-type"], "application/grpc-web+proto");
  ASSERT_EQ(r.messages.size(), 1u);
  EchoResponse resp = Parse(r.messages[0]);
  EXPECT_EQ(resp.payload(), "hello from the web");
  EXPECT_EQ(resp.backend(), "backend-a");
  ASSERT_TRUE(r.has_trailer_frame);
  EXPECT_EQ(r.trailers["grpc-status"], "0");
  EXPECT_EQ(r.trailers["x-backend"], "backend-a");  // the backend's trailing metadata
  EXPECT_EQ(r.headers.count("grpc-status"), 0u) << "the status travels in the body";
  EXPECT_EQ(backends_[0]->Calls("Unary"), 1);
}

TEST_F(GrpcWebTest, ServerStreamText) {
  EchoRequest req;
  req.set_count(50);
  req.set_response_size(1000);  // not a multiple of 3: padding between segments is likely
  WebResponse r = Call("ServerStream", req, true);
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.headers["content-type"], "application/grpc-web-text");
  ASSERT_EQ(r.messages.size(), 50u);
  for (size_t i = 0; i < r.messages.size(); ++i) {
    EchoResponse resp = Parse(r.messages[i]);
    EXPECT_EQ(resp.seq(), static_cast<int64_t>(i));
    EXPECT_EQ(resp.payload(), Pattern(1000, static_cast<int64_t>(i)));
  }
  EXPECT_EQ(r.trailers["grpc-status"], "0");
}

TEST_F(GrpcWebTest, TextRequestWithPaddingBetweenSegments) {
  // The request body is cut in two base64 segments, each padded.
  EchoRequest req;
  req.set_payload("segmented");
  std::string framed = Request(req);
  CurlRequest c;
  c.url = Url("Unary");
  c.text = true;
  c.headers = {"content-type: application/grpc-web-text"};
  c.body = Base64(framed.substr(0, 4)) + Base64(framed.substr(4));
  WebResponse r = RunCurl(c, dir());
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_EQ(r.messages.size(), 1u) << r.error;
  EXPECT_EQ(Parse(r.messages[0]).payload(), "segmented");
  EXPECT_EQ(r.trailers["grpc-status"], "0");
}

TEST_F(GrpcWebTest, BackendErrorStatusAndMessage) {
  EchoRequest req;
  req.set_fail_code(5);
  req.set_fail_message("no such thing");
  WebResponse r = Call("Unary", req, false);
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.messages.empty());
  EXPECT_EQ(r.trailers["grpc-status"], "5");
  EXPECT_EQ(r.trailers["grpc-message"], "no such thing");
  EXPECT_EQ(r.headers["content-type"], "application/grpc-web+proto");
}

TEST_F(GrpcWebTest, ProxyMadeErrorsAreGrpcWeb) {
  CurlRequest c;
  c.url = "http://" + proxy_address() + "/no.such.Service/Call";
  c.text = true;
  c.headers = {"content-type: application/grpc-web-text"};
  c.send_body = false;
  WebResponse r = RunCurl(c, dir());
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.headers["content-type"], "application/grpc-web-text");
  EXPECT_EQ(r.trailers["grpc-status"], "12");  // UNIMPLEMENTED
  EXPECT_NE(r.trailers["grpc-message"].find("no route for method /no.such.Service/Call"), std::string::npos) << r.trailers["grpc-message"];
}

TEST_F(GrpcWebTest, DeadlineAtTheProxy) {
  EchoRequest req;
  req.set_sleep_ms(5000);
  WebResponse r = Call("Unary", req, false, {"grpc-timeout: 200m"});
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.trailers["grpc-status"], "4");  // DEADLINE_EXCEEDED
}

TEST_F(GrpcWebTest, MalformedTextBodyIsRefused) {
  CurlRequest c;
  c.url = Url("Unary");
  c.text = true;
  c.headers = {"content-type: application/grpc-web-text"};
  c.body = "AAAA!!!!";
  WebResponse r = RunCurl(c, dir());
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.trailers["grpc-status"], "13");  // INTERNAL
  EXPECT_EQ(backends_[0]->Calls("Unary"), 0);
}

TEST_F(GrpcWebTest, CompressedFlagInsideTextBodyIsRefused) {
  // The gRPC framing checks run on the decoded bytes: a -text body whose
  // message has the compressed flag and no grpc-encoding is INTERNAL, while
  // the base64 characters themselves ('A' is 0x41, low bit set) are not
  // taken for a flag (every other -text test would fail if they were).
  EchoRequest req;
  req.set_payload("squeezed");
  std::string framed = Request(req);
  framed[0] = '\x01';
  CurlRequest c;
  c.url = Url("Unary");
  c.text = true;
  c.headers = {"content-type: application/grpc-web-text"};
  c.body = Base64(framed);
  WebResponse r = RunCurl(c, dir());
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.trailers["grpc-status"], "13");  // INTERNAL
  EXPECT_NE(r.trailers["grpc-message"].find("compressed but the request has no grpc-encoding"),
            std::string::npos)
      << r.trailers["grpc-message"];
}

TEST_F(GrpcWebTest, CorsPreflightAllowedOrigin) {
  for (std::string origin : {kOrigin, "https://shop.example.org"}) {
    CurlRequest c;
    c.method = "OPTIONS";
    c.url = Url("Unary");
    c.headers = {"origin: " + origin, "access-control-request-method: POST",
                 "access-control-request-headers: content-type,x-grpc-web,x-tenant"};
    WebResponse r = RunCurl(c, dir());
    EXPECT_EQ(r.http_status, 204) << origin << " " << r.curl_err;
    EXPECT_EQ(r.headers["access-control-allow-origin"], origin);
    EXPECT_NE(r.headers["access-control-allow-methods"].find("POST"), std::string::npos);
    EXPECT_NE(r.headers["access-control-allow-headers"].find("x-tenant"), std::string::npos);
    EXPECT_EQ(r.headers["access-control-max-age"], "600");
  }
  EXPECT_EQ(backends_[0]->Calls("Unary"), 0) << "a preflight never reaches the backend";
}

TEST_F(GrpcWebTest, CorsPreflightOtherOriginRefused) {
  CurlRequest c;
  c.method = "OPTIONS";
  c.url = Url("Unary");
  c.headers = {"origin: https://evil.example.com", "access-control-request-method: POST"};
  WebResponse r = RunCurl(c, dir());
  EXPECT_EQ(r.http_status, 403) << r.curl_err;
  EXPECT_EQ(r.headers.count("access-control-allow-origin"), 0u);
}

TEST_F(GrpcWebTest, ResponsesCarryCorsHeadersForAllowedOrigins) {
  EchoRequest req;
  req.set_payload("x");
  WebResponse r = Call("Unary", req, false, {std::string("origin: ") + kOrigin});
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  EXPECT_EQ(r.headers["access-control-allow-origin"], kOrigin);
  std::string expose = r.headers["access-control-expose-headers"];
  EXPECT_NE(expose.find("grpc-status"), std::string::npos) << expose;
  EXPECT_NE(expose.find("grpc-message"), std::string::npos) << expose;
  EXPECT_NE(expose.find("x-backend"), std::string::npos) << expose;

  WebResponse other = Call("Unary", req, false, {"origin: https://evil.example.com"});
  EXPECT_EQ(other.http_status, 200);
  EXPECT_EQ(other.headers.count("access-control-allow-origin"), 0u);
}

TEST_F(GrpcWebTest, ListenerWithoutGrpcWebAnswers415) {
  CurlRequest c;
  c.url = Url("Unary", native_address_);
  c.headers = {"content-type: application/grpc-web"};
  c.send_body = false;
  WebResponse r = RunCurl(c, dir());
  EXPECT_EQ(r.http_status, 415) << r.curl_err;
}

// Native gRPC still works on the gRPC-Web listener.
TEST_F(GrpcWebTest, NativeGrpcUnchanged) {
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10s));
  EchoRequest req;
  req.set_payload("native");
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.payload(), "native");
}

// Merged reflection is answered by the proxy itself (the local-call phase);
// a gRPC-Web -text client gets it like any call: decoded request, base64
// answer, the status in the trailer frame, counted with protocol="grpc-web".
class GrpcWebLocalCallTest : public ProxyTest {
 protected:
  void SetUp() override {
    Backend& b = StartBackend("backend-a");
    ProxyConfig c = DefaultConfig({&b});
    c.clusters[0].extra.push_back("descriptor_sets: [\"" + std::string(SY_TEST_DESCRIPTORS) + "/echo.pb\"]");
    c.listener_extra["public"] = {"grpc_web: {}", "reflection: merged"};
    StartProxy(c);
  }
};

TEST_F(GrpcWebLocalCallTest, MergedReflectionOverGrpcWebText) {
  CurlRequest c;
  c.url = "http://" + proxy_address() + "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
  c.text = true;
  c.headers = {"content-type: application/grpc-web-text"};
  // ServerReflectionRequest { list_services: "*" } (field 7, a string).
  c.body = Base64(WebFrame(std::string("\x3a\x01*", 3)));
  WebResponse r = RunCurl(c, dir());
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.headers["content-type"], "application/grpc-web-text");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_NE(r.messages[0].find("switchyard.test.Echo"), std::string::npos);
  EXPECT_NE(r.messages[0].find("grpc.reflection.v1.ServerReflection"), std::string::npos);
  ASSERT_TRUE(r.has_trailer_frame);
  EXPECT_EQ(r.trailers["grpc-status"], "0") << r.trailers["grpc-message"];
}

}  // namespace
}  // namespace sytest

namespace sytest {
namespace {

// gRPC-Web calls are counted in RPC series of their own (protocol="grpc-web").
TEST_F(GrpcWebTest, MetricsCountGrpcWebCalls) {
  std::string admin = BoundAddress(*proxy(), "admin");
  ASSERT_FALSE(admin.empty());
  EchoRequest req;
  req.set_payload("count me");
  WebResponse r = Call("Unary", req, false);
  ASSERT_EQ(r.trailers["grpc-status"], "0") << r.error << r.curl_err;
  std::string text;
  bool seen = WaitUntil(
      [&] {
        CommandResult m = RunCommand({"curl", "-sS", "--max-time", "5", "http://" + admin + "/metrics"},
                                     dir().path(), 10000ms);
        text = m.out;
        for (size_t pos = 0; (pos = text.find("switchyard_grpc_server_handled_total{", pos)) != std::string::npos;
             ++pos) {
          std::string line = text.substr(pos, text.find('\n', pos) - pos);
          if (line.find("protocol=\"grpc-web\"") != std::string::npos &&
              line.find("grpc_code=\"OK\"") != std::string::npos && line.size() > 2 &&
              line.substr(line.size() - 2) == " 1") {
            return true;
          }
        }
        return false;
      },
      10000ms, 100ms);
  EXPECT_TRUE(seen) << text.substr(0, 4000);
  EXPECT_EQ(text.find("protocol=\"grpc\""), std::string::npos) << "native calls carry no protocol label";
}

}  // namespace
}  // namespace sytest
