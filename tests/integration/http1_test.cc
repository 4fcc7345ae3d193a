// HTTP/1.1 on a cleartext listener, through the real daemon to a real gRPC
// backend: gRPC-Web (curl --http1.1 and raw sockets) and REST/JSON, keep-alive
// and pipelining, chunked bodies both ways, Expect: 100-continue, HTTP/1.0,
// every request limit (431, 413, 408, counted in the listener metrics), plain
// gRPC refused with 415, and a malformed request answered 400 and closed
// without disturbing another connection. Native gRPC on the same port still
// speaks HTTP/2 (the first bytes tell).
#include <http_parser.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

#include "grpc_web_support.h"
#include "ops_support.h"
#include "raw_h2.h"

namespace sytest::ops {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One HTTP/1.1 response as the test's own parser (libhttp-parser in response
// mode) read it from the bytes.
struct Http1Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // chunked coding removed
  bool complete = false;
};

// Parses consecutive responses from `bytes` (those to a HEAD request excepted).
std::vector<Http1Response> ParseResponses(const std::string& bytes, std::string* error = nullptr) {
  struct State {
    std::vector<Http1Response> out;
    std::string field;
    bool in_value = false;
  } st;
  http_parser parser;
  http_parser_init(&parser, HTTP_RESPONSE);
  parser.data = &st;
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = [](http_parser* p) {
    static_cast<State*>(p->data)->out.emplace_back();
    return 0;
  };
  s.on_header_field = [](http_parser* p, const char* at, size_t len) {
    auto* st = static_cast<State*>(p->data);
    if (st->in_value) st->field.clear();
    st->in_value = false;
    st->field.append(at, len);
    return 0;
  };
  s.on_header_value = [](http_parser* p, const char* at, size_t len) {
    auto* st = static_cast<State*>(p->data);
    if (!st->in_value) st->out.back().headers[Lower(st->field)].clear();
    st->in_value = true;
    st->out.back().headers[Lower(st->field)].append(at, len);
    return 0;
  };
  s.on_headers_complete = [](http_parser* p) {
    auto* st = static_cast<State*>(p->data);
    st->out.back().status = static_cast<int>(p->status_code);
    st->field.clear();
    st->in_value = false;
    // 1xx answers have no body and are followed by the final one.
    return p->status_code / 100 == 1 ? 1 : 0;
  };
  s.on_body = [](http_parser* p, const char* at, size_t len) {
    static_cast<State*>(p->data)->out.back().body.append(at, len);
    return 0;
  };
  s.on_message_complete = [](http_parser* p) {
    static_cast<State*>(p->data)->out.back().complete = true;
    return 0;
  };
  size_t n = http_parser_execute(&parser, &s, bytes.data(), bytes.size());
  // A body delimited by the close ends with the bytes.
  if (n == bytes.size()) http_parser_execute(&parser, &s, nullptr, 0);
  if (error != nullptr && HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
    *error = http_errno_description(HTTP_PARSER_ERRNO(&parser));
  }
  // Informational answers are kept apart from the final ones by the caller.
  return st.out;
}

std::vector<Http1Response> FinalResponses(const std::string& bytes) {
  std::vector<Http1Response> out;
  for (auto& r : ParseResponses(bytes)) {
    if (r.status / 100 != 1) out.push_back(std::move(r));
  }
  return out;
}

// A raw client connection; every read is bounded.
class RawHttp1 {
 public:
  explicit RawHttp1(const std::string& address) : fd_(ConnectTcp(address)) {}
  ~RawHttp1() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  void Send(const std::string& bytes) { WriteAll(fd_, bytes); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Reads until `done(bytes so far)` or the peer closes; false on timeout.
  template <class Done>
  bool ReadUntil(Done done, std::chrono::milliseconds timeout = 10000ms) {
    auto until = Clock::now() + timeout;
    char buf[16384];
    for (int i = 0; i < 100000 && !done(bytes_); ++i) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) != 1) continue;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        return done(bytes_);
      }
      bytes_.append(buf, static_cast<size_t>(n));
    }
    return done(bytes_);
  }
  // Reads until `count` complete final responses arrived.
  std::vector<Http1Response> Responses(size_t count) {
    ReadUntil([&](const std::string& b) {
      auto all = FinalResponses(b);
      return all.size() >= count && all[count - 1].complete;
    });
    return FinalResponses(bytes_);
  }
  bool WaitClosed(std::chrono::milliseconds timeout = 10000ms) {
    ReadUntil([&](const std::string&) { return closed_; }, timeout);
    return closed_;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  int fd_;
  std::string bytes_;
  bool closed_ = false;
};

std::string WebRequest(const std::string& path, const std::string& body,
                       const std::string& extra_headers = "", const std::string& version = "HTTP/1.1") {
  return "POST " + path + " " + version + "\r\nHost: localhost\r\n"
         "Content-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

EchoResponse ParseEcho(const std::string& bytes) {
  EchoResponse r;
  EXPECT_TRUE(r.ParseFromString(bytes));
  return r;
}

// The messages and trailers of a gRPC-Web body.
WebResponse WebBody(const std::string& body) {
  WebResponse w;
  ParseWebBody(body, &w);
  return w;
}

class Http1Test : public OpsTest {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(MakeTestPki(dir_.path(), &pki_, &error)) << error;
    Backend& b = StartBackend("backend-a");
    ProxyConfig c = DefaultConfig({&b});
    c.admin_address = Loopback();
    c.listeners.push_back({"secure", "127.0.0.1:0", pki_.server_cert.string(), pki_.server_key.string()});
    c.listener_extra["secure"] = {"grpc_web: {}", "http2: { initial_stream_window: 1024 }"};
    c.listener_extra["public"] = {
        "grpc_web: { cors: { allow_origins: [\"https://app.example.com\"] } }",
        "http1: { max_request_body_bytes: 64KiB }",
        "http2: { max_header_list_size: 4096, max_header_fields: 30 }",
        "request_headers_timeout: 500ms"};
    c.routes_yaml =
        "  - match: { service: switchyard.test.Echo }\n"
        "    cluster: " + c.clusters[0].name + "\n"
        "    json_transcoding: true\n";
    StartProxyWith(c, "descriptor_sets: [\"" + std::string(SY_TEST_DESCRIPTORS) + "/echo_http.pb\"]\n");
    secure_address_ = BoundAddress(*proxy(), "secure");
    ASSERT_FALSE(secure_address_.empty());
  }

  TestPki pki_;
  std::string secure_address_;

  WebResponse CurlWeb(const std::string& method, const EchoRequest& req, bool text,
                      std::vector<std::string> extra_args = {}) {
    CurlRequest c;
    c.url = "http://" + proxy_address() + "/switchyard.test.Echo/" + method;
    c.http2 = false;
    c.text = text;
    c.headers = {std::string("content-type: ") +
                 (text ? "application/grpc-web-text" : "application/grpc-web+proto")};
    std::string framed = WebFrame(req.SerializeAsString());
    c.body = text ? Base64(framed) : framed;
    c.extra_args = std::move(extra_args);
    return RunCurl(c, dir());
  }

  double ListenerLimit(const std::string& limit) {
    return Sum(Scrape(), "switchyard_listener_limits_hit_total", {{"limit", limit}});
  }
};

TEST_F(Http1Test, GrpcWebUnaryWithCurl) {
  EchoRequest req;
  req.set_payload("over http/1.1");
  WebResponse r = CurlWeb("Unary", req, false);
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.headers["content-type"], "application/grpc-web+proto");
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(ParseEcho(r.messages[0]).payload(), "over http/1.1");
  EXPECT_EQ(r.trailers["grpc-status"], "0");
  EXPECT_EQ(backends_[0]->Calls("Unary"), 1);
  // Counted like any gRPC-Web call.
  EXPECT_GE(Sum(Scrape(), "switchyard_grpc_server_handled_total",
                {{"protocol", "grpc-web"}, {"grpc_code", "OK"}}),
            1);
}

TEST_F(Http1Test, GrpcWebServerStreamTextWithCurl) {
  EchoRequest req;
  req.set_count(50);
  req.set_response_size(1000);
  WebResponse r = CurlWeb("ServerStream", req, true);
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.messages.size(), 50u);
  for (size_t i = 0; i < r.messages.size(); ++i) {
    EchoResponse resp = ParseEcho(r.messages[i]);
    EXPECT_EQ(resp.seq(), static_cast<int64_t>(i));
    EXPECT_EQ(resp.payload(), Pattern(1000, static_cast<int64_t>(i)));
  }
  EXPECT_EQ(r.trailers["grpc-status"], "0");
}

// The first message of a server stream reaches the client while the backend
// has not finished (the second message is a minute away): the body streams.
// The client then goes away, and the backend sees its call cancelled.
TEST_F(Http1Test, ServerStreamIsDeliveredAsItArrives) {
  EchoRequest req;
  req.set_count(2);
  req.set_interval_ms(60000);
  req.set_response_size(10);
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  conn.Send(WebRequest("/switchyard.test.Echo/ServerStream", WebFrame(req.SerializeAsString())));
  bool first = conn.ReadUntil([](const std::string& b) {
    auto all = ParseResponses(b);
    return !all.empty() && all[0].body.size() >= 5 + 10;
  });
  ASSERT_TRUE(first) << conn.bytes();
  auto all = ParseResponses(conn.bytes());
  EXPECT_FALSE(all[0].complete);
  EXPECT_EQ(all[0].headers["transfer-encoding"], "chunked");
  WebResponse w = WebBody(all[0].body);
  ASSERT_GE(w.messages.size(), 1u) << w.error;
  EXPECT_EQ(ParseEcho(w.messages[0]).seq(), 0);
  conn.Close();
  EXPECT_TRUE(WaitUntil([&] { return backends_[0]->Stats().cancellations() >= 1; }, 10000ms, 50ms));
}

TEST_F(Http1Test, RestJsonWithCurl) {
  CurlRequest c;
  c.url = "http://" + proxy_address() + "/v1/echo";
  c.http2 = false;
  c.headers = {"content-type: application/json"};
  c.body = "{\"payload\": \"" + Base64("hello rest") + "\"}";
  WebResponse r = RunCurl(c, dir());
  ASSERT_EQ(r.http_status, 200) << r.curl_err << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_NE(r.body.find(Base64("hello rest")), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("backend-a"), std::string::npos) << r.body;

  CurlRequest get;
  get.url = "http://" + proxy_address() + "/v1/echo/5/no%20such%20thing";
  get.method = "GET";
  get.http2 = false;
  get.send_body = false;
  get.extra_args = {"--path-as-is"};
  WebResponse e = RunCurl(get, dir());
  EXPECT_EQ(e.http_status, 404) << e.curl_err << e.body;
  EXPECT_NE(e.body.find("no such thing"), std::string::npos) << e.body;
}

// curl sends a chunked request body when asked; the proxy reassembles it.
TEST_F(Http1Test, ChunkedRequestBody) {
  EchoRequest req;
  req.set_payload(std::string(20000, 'c'));
  WebResponse r = CurlWeb("Unary", req, false, {"-H", "Transfer-Encoding: chunked"});
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_EQ(r.messages.size(), 1u) << r.error;
  EXPECT_EQ(ParseEcho(r.messages[0]).payload(), std::string(20000, 'c'));
  EXPECT_EQ(r.trailers["grpc-status"], "0");
}

// Three requests written at once on one connection: answered in order on the
// same connection (keep-alive), the last one's "Connection: close" ends it.
TEST_F(Http1Test, PipelinedRequestsOnOneKeptAliveConnection) {
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  std::string all;
  for (int i = 0; i < 3; ++i) {
    EchoRequest req;
    req.set_payload("call " + std::to_string(i));
    all += WebRequest("/switchyard.test.Echo/Unary", WebFrame(req.SerializeAsString()),
                      i == 2 ? "Connection: close\r\n" : "");
  }
  conn.Send(all);
  auto responses = conn.Responses(3);
  ASSERT_EQ(responses.size(), 3u) << conn.bytes();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(responses[i].complete);
    EXPECT_EQ(responses[i].status, 200);
    WebResponse w = WebBody(responses[i].body);
    ASSERT_EQ(w.messages.size(), 1u) << w.error;
    EXPECT_EQ(ParseEcho(w.messages[0]).payload(), "call " + std::to_string(i));
    EXPECT_EQ(w.trailers["grpc-status"], "0");
  }
  EXPECT_EQ(responses[2].headers["connection"], "close");
  EXPECT_TRUE(conn.WaitClosed());
  EXPECT_EQ(backends_[0]->Calls("Unary"), 3);
}

TEST_F(Http1Test, ExpectContinue) {
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  EchoRequest req;
  req.set_payload("after continue");
  std::string body = WebFrame(req.SerializeAsString());
  std::string head = WebRequest("/switchyard.test.Echo/Unary", body, "Expect: 100-continue\r\n");
  conn.Send(head.substr(0, head.size() - body.size()));
  ASSERT_TRUE(conn.ReadUntil([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; }))
      << conn.bytes();
  EXPECT_EQ(conn.bytes().rfind("HTTP/1.1 100 Continue\r\n\r\n", 0), 0u) << conn.bytes();
  conn.Send(body);
  auto responses = conn.Responses(1);
  ASSERT_EQ(responses.size(), 1u) << conn.bytes();
  WebResponse w = WebBody(responses[0].body);
  ASSERT_EQ(w.messages.size(), 1u) << w.error;
  EXPECT_EQ(ParseEcho(w.messages[0]).payload(), "after continue");
}

// An h2c upgrade request is answered as plain HTTP/1.1 (no 101), and the
// connection goes on with the next request.
TEST_F(Http1Test, H2cUpgradeIsAnsweredAsHttp11) {
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  EchoRequest req;
  req.set_payload("no upgrade");
  std::string body = WebFrame(req.SerializeAsString());
  conn.Send(WebRequest("/switchyard.test.Echo/Unary", body,
                       "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                       "HTTP2-Settings: AAMAAABkAAQAAP__\r\n") +
            WebRequest("/switchyard.test.Echo/Unary", body, "Connection: close\r\n"));
  ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  EXPECT_EQ(conn.bytes().find("101"), std::string::npos) << conn.bytes();
  auto responses = ParseResponses(conn.bytes());
  ASSERT_EQ(responses.size(), 2u) << conn.bytes();
  for (const auto& r : responses) {
    EXPECT_EQ(r.status, 200);
    WebResponse w = WebBody(r.body);
    ASSERT_EQ(w.messages.size(), 1u) << w.error;
    EXPECT_EQ(ParseEcho(w.messages[0]).payload(), "no upgrade");
  }
}

// HTTP/1.0 has no chunked coding: the body ends with the connection.
TEST_F(Http1Test, Http10ResponseIsDelimitedByTheClose) {
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  EchoRequest req;
  req.set_payload("old client");
  conn.Send(WebRequest("/switchyard.test.Echo/Unary", WebFrame(req.SerializeAsString()), "", "HTTP/1.0"));
  ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  auto responses = ParseResponses(conn.bytes());
  ASSERT_EQ(responses.size(), 1u) << conn.bytes();
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].headers.count("transfer-encoding"), 0u);
  WebResponse w = WebBody(responses[0].body);
  ASSERT_EQ(w.messages.size(), 1u) << w.error;
  EXPECT_EQ(w.trailers["grpc-status"], "0");
}

TEST_F(Http1Test, PlainGrpcIsRefusedWith415) {
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  conn.Send(std::string("POST /switchyard.test.Echo/Unary HTTP/1.1\r\nHost: localhost\r\n"
            "Content-Type: application/grpc\r\nContent-Length: 5\r\n\r\n") + std::string(5, '\0'));
  auto responses = conn.Responses(1);
  ASSERT_EQ(responses.size(), 1u) << conn.bytes();
  EXPECT_EQ(responses[0].status, 415);
  EXPECT_NE(responses[0].body.find("needs HTTP/2"), std::string::npos) << responses[0].body;
  EXPECT_TRUE(conn.WaitClosed());
  EXPECT_EQ(backends_[0]->Calls("Unary"), 0);
}

TEST_F(Http1Test, HeadersOverTheSizeLimitGet431) {
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  conn.Send(WebRequest("/switchyard.test.Echo/Unary", "", "X-Big: " + std::string(5000, 'b') + "\r\n"));
  ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  auto responses = ParseResponses(conn.bytes());
  ASSERT_EQ(responses.size(), 1u) << conn.bytes();
  EXPECT_EQ(responses[0].status, 431);
  EXPECT_EQ(ListenerLimit("header_list_size"), 1);
}

TEST_F(Http1Test, TooManyHeaderFieldsGet431) {
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  std::string many;
  for (int i = 0; i < 40; ++i) many += "X-F" + std::to_string(i) + ": v\r\n";
  conn.Send(WebRequest("/switchyard.test.Echo/Unary", "", many));
  ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  auto responses = ParseResponses(conn.bytes());
  ASSERT_EQ(responses.size(), 1u) << conn.bytes();
  EXPECT_EQ(responses[0].status, 431);
  EXPECT_EQ(ListenerLimit("header_fields"), 1);
}

TEST_F(Http1Test, BodyOverTheLimitGets413) {
  // Declared too large: refused before any of it is read.
  {
    RawHttp1 conn(proxy_address());
    ASSERT_TRUE(conn.ok());
    conn.Send("POST /switchyard.test.Echo/Unary HTTP/1.1\r\nHost: localhost\r\n"
              "Content-Type: application/grpc-web\r\nContent-Length: 100000\r\n\r\n");
    ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
    auto responses = ParseResponses(conn.bytes());
    ASSERT_EQ(responses.size(), 1u) << conn.bytes();
    EXPECT_EQ(responses[0].status, 413);
  }
  // Chunked past the limit.
  {
    RawHttp1 conn(proxy_address());
    ASSERT_TRUE(conn.ok());
    std::string chunk(40000, 'x');
    conn.Send("POST /switchyard.test.Echo/Unary HTTP/1.1\r\nHost: localhost\r\n"
              "Content-Type: application/grpc-web\r\nTransfer-Encoding: chunked\r\n\r\n9c40\r\n" +
              chunk + "\r\n9c40\r\n" + chunk + "\r\n");
    ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
    auto responses = ParseResponses(conn.bytes());
    ASSERT_EQ(responses.size(), 1u) << conn.bytes();
    EXPECT_EQ(responses[0].status, 413);
  }
  EXPECT_EQ(ListenerLimit("request_body_size"), 2);
}

TEST_F(Http1Test, SlowHeadersGet408) {
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  conn.Send("POST /switchyard.test.Echo/Unary HTTP/1.1\r\nHost: local");
  ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  auto responses = ParseResponses(conn.bytes());
  ASSERT_EQ(responses.size(), 1u) << conn.bytes();
  EXPECT_EQ(responses[0].status, 408);
  EXPECT_EQ(ListenerLimit("request_headers_timeout"), 1);
}

// One byte that could start either protocol ("P": POST or the HTTP/2
// preface) and nothing more: the connection is closed once
// request_headers_timeout passes, and counted.
TEST_F(Http1Test, StallInsideTheFirstBytesIsBounded) {
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  conn.Send("P");
  ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  EXPECT_EQ(ListenerLimit("request_headers_timeout"), 1);
}

// A malformed request gets 400 and its connection closes; a kept-alive
// connection next to it goes on serving.
TEST_F(Http1Test, MalformedRequestGets400WithoutAffectingOthers) {
  RawHttp1 good(proxy_address());
  ASSERT_TRUE(good.ok());
  EchoRequest req;
  req.set_payload("first");
  good.Send(WebRequest("/switchyard.test.Echo/Unary", WebFrame(req.SerializeAsString())));
  ASSERT_EQ(good.Responses(1).size(), 1u) << good.bytes();

  RawHttp1 bad(proxy_address());
  ASSERT_TRUE(bad.ok());
  bad.Send("POST /switchyard.test.Echo/Unary HTTP/1.1\r\nBad Header Line\r\n\r\n");
  ASSERT_TRUE(bad.WaitClosed()) << bad.bytes();
  auto answers = ParseResponses(bad.bytes());
  ASSERT_EQ(answers.size(), 1u) << bad.bytes();
  EXPECT_EQ(answers[0].status, 400);

  req.set_payload("second");
  good.Send(WebRequest("/switchyard.test.Echo/Unary", WebFrame(req.SerializeAsString())));
  auto responses = good.Responses(2);
  ASSERT_EQ(responses.size(), 2u) << good.bytes();
  WebResponse w = WebBody(responses[1].body);
  ASSERT_EQ(w.messages.size(), 1u) << w.error;
  EXPECT_EQ(ParseEcho(w.messages[0]).payload(), "second");
}

// Over TLS, ALPN http/1.1 (curl --http1.1) gets HTTP/1.1: gRPC-Web and REST.
TEST_F(Http1Test, TlsWithAlpnHttp11) {
  EchoRequest req;
  req.set_payload("tls http/1.1");
  CurlRequest c;
  c.url = "https://" + secure_address_ + "/switchyard.test.Echo/Unary";
  c.http2 = false;
  c.headers = {"content-type: application/grpc-web+proto"};
  c.body = WebFrame(req.SerializeAsString());
  c.extra_args = {"--cacert", pki_.ca_cert.string()};
  WebResponse r = RunCurl(c, dir());
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  ASSERT_EQ(r.messages.size(), 1u) << r.error;
  EXPECT_EQ(ParseEcho(r.messages[0]).payload(), "tls http/1.1");
  EXPECT_EQ(r.trailers["grpc-status"], "0");
  EXPECT_GE(Sum(Scrape(), "switchyard_tls_handshakes_total", {{"listener", "secure"}, {"result", "ok"}}), 1);
}

// A chunked body hundreds of times the listener's stream window (1 KiB on
// the TLS listener here) and a response as large: reading pauses until the
// backend has taken the bytes, and the whole message arrives.
TEST_F(Http1Test, BodyLargerThanTheStreamWindow) {
  EchoRequest req;
  std::string payload(900 * 1024, 'w');
  for (size_t i = 0; i < payload.size(); i += 13) payload[i] = static_cast<char>('a' + i % 26);
  req.set_payload(payload);
  CurlRequest c;
  c.url = "https://" + secure_address_ + "/switchyard.test.Echo/Unary";
  c.http2 = false;
  c.headers = {"content-type: application/grpc-web+proto", "Transfer-Encoding: chunked"};
  c.body = WebFrame(req.SerializeAsString());
  c.extra_args = {"--cacert", pki_.ca_cert.string()};
  WebResponse r = RunCurl(c, dir());
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  ASSERT_EQ(r.messages.size(), 1u) << r.error;
  EXPECT_TRUE(ParseEcho(r.messages[0]).payload() == payload);
  EXPECT_EQ(r.trailers["grpc-status"], "0");
}

// A REST server stream over HTTP/1.1 (curl --http1.1): the JSON array is
// chunked and its first element arrives while the backend's call is open.
TEST_F(Http1Test, RestServerStreamIsChunkedAndIncremental) {
  auto headers = dir() / "stream-headers";
  auto body = dir() / "stream-body";
  ProcessGuard curl({"curl", "-sS", "-N", "--http1.1", "--max-time", "60", "-D", headers.string(), "-o",
                     body.string(), "http://" + proxy_address() + "/v1/stream/2?interval_ms=600000"},
                    dir() / "curl.out", dir() / "curl.err");
  auto has = [](const std::filesystem::path& p, const std::string& what) {
    return std::filesystem::exists(p) && ReadFile(p).find(what) != std::string::npos;
  };
  ASSERT_TRUE(WaitUntil([&] { return has(body, "\"backend\":\"backend-a\""); }, 10000ms, 20ms))
      << "no element arrived; curl: " << curl.err();
  std::string first = ReadFile(body);
  EXPECT_EQ(first.rfind("[{", 0), 0u) << first;
  EXPECT_EQ(first.find(']'), std::string::npos) << "the array is still open: " << first;
  std::string head = Lower(ReadFile(headers));
  EXPECT_EQ(head.rfind("http/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("transfer-encoding: chunked"), std::string::npos) << head;
  EXPECT_NE(head.find("content-type: application/json"), std::string::npos) << head;
  curl.stop();
  EXPECT_TRUE(WaitUntil([&] { return backends_[0]->Stats().cancellations() >= 1; }, 10000ms, 20ms));
}

// A failure after a message ends the chunked array with the error element.
TEST_F(Http1Test, RestServerStreamFailureIsTheLastElement) {
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  conn.Send("GET /v1/stream/1?fail_code=10&fail_message=aborted HTTP/1.1\r\nHost: localhost\r\n\r\n");
  auto responses = conn.Responses(1);
  ASSERT_EQ(responses.size(), 1u) << conn.bytes();
  ASSERT_TRUE(responses[0].complete);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].headers["transfer-encoding"], "chunked");
  const std::string& b = responses[0].body;
  EXPECT_EQ(b.rfind("[{", 0), 0u) << b;
  size_t error = b.find("\"error\"");
  ASSERT_NE(error, std::string::npos) << b;
  EXPECT_GT(error, b.find("backend-a")) << b;
  EXPECT_NE(b.find("aborted", error), std::string::npos) << b;
  EXPECT_EQ(b.back(), ']') << b;
}

// gRPC-Web server streaming over TLS with ALPN http/1.1.
TEST_F(Http1Test, GrpcWebServerStreamOverTlsWithCurl) {
  EchoRequest req;
  req.set_count(20);
  req.set_response_size(3000);
  CurlRequest c;
  c.url = "https://" + secure_address_ + "/switchyard.test.Echo/ServerStream";
  c.http2 = false;
  c.headers = {"content-type: application/grpc-web+proto"};
  c.body = WebFrame(req.SerializeAsString());
  c.extra_args = {"--cacert", pki_.ca_cert.string()};
  WebResponse r = RunCurl(c, dir());
  ASSERT_EQ(r.http_status, 200) << r.curl_err;
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  ASSERT_EQ(r.messages.size(), 20u) << r.error;
  for (size_t i = 0; i < r.messages.size(); ++i) {
    EchoResponse resp = ParseEcho(r.messages[i]);
    EXPECT_EQ(resp.seq(), static_cast<int64_t>(i));
    EXPECT_EQ(resp.payload(), Pattern(3000, static_cast<int64_t>(i)));
  }
  EXPECT_EQ(r.trailers["grpc-status"], "0");
}

// HEAD is not a google.api.http method: REST answers 405, with the head only
// (no body); the connection goes on with the next request (pipelined behind
// it), whose answer follows the HEAD answer's head directly.
TEST_F(Http1Test, HeadResponseHasNoBody) {
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  conn.Send("HEAD /v1/echo/5/no%20such%20thing HTTP/1.1\r\nHost: localhost\r\n\r\n"
            "GET /v1/echo/5/no%20such%20thing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  const std::string& bytes = conn.bytes();
  size_t head_end = bytes.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << bytes;
  EXPECT_EQ(bytes.rfind("HTTP/1.1 405", 0), 0u) << bytes;
  std::string rest = bytes.substr(head_end + 4);
  EXPECT_EQ(rest.rfind("HTTP/1.1 404", 0), 0u) << "a body followed the HEAD answer: " << bytes;
  auto second = ParseResponses(rest);
  ASSERT_EQ(second.size(), 1u) << rest;
  EXPECT_NE(second[0].body.find("no such thing"), std::string::npos) << rest;
}

// Listeners with an access log and HTTP/1.1 timeouts.
class Http1EdgeTest : public OpsTest {
 protected:
  void Start(std::vector<std::string> extra) {
    Backend& b = StartBackend("backend-a");
    ProxyConfig c = DefaultConfig({&b});
    c.admin_address = Loopback();
    extra.push_back("grpc_web: {}");
    c.listener_extra["public"] = extra;
    c.routes_yaml =
        "  - match: { service: switchyard.test.Echo }\n"
        "    cluster: " + c.clusters[0].name + "\n"
        "    json_transcoding: true\n";
    log_ = (dir() / "access.log").string();
    StartProxyWith(c, "descriptor_sets: [\"" + std::string(SY_TEST_DESCRIPTORS) +
                          "/echo_http.pb\"]\nlogging: { access_log: \"" + log_ + "\" }\n");
  }
  // Waits for an access-log line holding every one of `parts`; returns it.
  std::string WaitLogLine(const std::vector<std::string>& parts) {
    std::string found;
    WaitUntil([&] {
      if (!std::filesystem::exists(log_)) return false;
      std::istringstream in(ReadFile(log_));
      for (std::string line; std::getline(in, line);) {
        bool all = true;
        for (const auto& p : parts) all = all && line.find(p) != std::string::npos;
        if (all) {
          found = line;
          return true;
        }
      }
      return false;
    }, 10000ms, 20ms);
    return found;
  }
  double ListenerLimit(const std::string& limit) {
    return Sum(Scrape(), "switchyard_listener_limits_hit_total", {{"limit", limit}});
  }
  std::string log_;
};

// Answers the connection makes itself are access-logged like RPCs, and still counted.
TEST_F(Http1EdgeTest, ConnectionAnswersAreAccessLogged) {
  ASSERT_NO_FATAL_FAILURE(Start({"http2: { max_header_list_size: 4096 }", "request_headers_timeout: 300ms"}));
  {
    RawHttp1 conn(proxy_address());
    ASSERT_TRUE(conn.ok());
    conn.Send("POST /switchyard.test.Echo/Unary HTTP/1.1\r\nHost: plain.test\r\nUser-Agent: grpc-probe\r\n"
              "Content-Type: application/grpc\r\nContent-Length: 5\r\n\r\n" + std::string(5, '\0'));
    ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  }
  {
    RawHttp1 conn(proxy_address());
    ASSERT_TRUE(conn.ok());
    conn.Send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  }
  {
    RawHttp1 conn(proxy_address());
    ASSERT_TRUE(conn.ok());
    conn.Send("GET /x HTTP/1.1\r\nX-Big: " + std::string(5000, 'b') + "\r\n\r\n");
    ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  }
  {
    RawHttp1 conn(proxy_address());
    ASSERT_TRUE(conn.ok());
    conn.Send("POST /switchyard.test.Echo/Unary HTTP/1.1\r\nHost: localhost\r\n"
              "Content-Type: application/grpc-web\r\nContent-Length: 100000000\r\n\r\n");
    ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  }
  std::string l413 = WaitLogLine({"http_status=413"});
  EXPECT_NE(l413.find("request body too large"), std::string::npos) << l413;
  EXPECT_NE(l413.find("\"/switchyard.test.Echo/Unary\""), std::string::npos) << l413;
  std::string l415 = WaitLogLine({"http_status=415"});
  ASSERT_FALSE(l415.empty()) << (std::filesystem::exists(log_) ? ReadFile(log_) : "no log");
  EXPECT_NE(l415.find("\"/switchyard.test.Echo/Unary\""), std::string::npos) << l415;
  EXPECT_NE(l415.find("listener=public"), std::string::npos) << l415;
  EXPECT_NE(l415.find("authority=\"plain.test\""), std::string::npos) << l415;
  EXPECT_NE(l415.find("user_agent=\"grpc-probe\""), std::string::npos) << l415;
  EXPECT_NE(l415.find("grpc_status=- "), std::string::npos) << l415;
  EXPECT_NE(l415.find("needs HTTP/2"), std::string::npos) << l415;
  std::string l405 = WaitLogLine({"http_status=405"});
  EXPECT_NE(l405.find("CONNECT"), std::string::npos) << l405;
  std::string l431 = WaitLogLine({"http_status=431"});
  EXPECT_NE(l431.find("listener=public"), std::string::npos) << l431;
  EXPECT_NE(l431.find("\"/x\""), std::string::npos) << l431;
  EXPECT_EQ(ListenerLimit("header_list_size"), 1);
  // Headers cut short: 408, logged with what was read of them.
  RawHttp1 slow(proxy_address());
  ASSERT_TRUE(slow.ok());
  slow.Send("POST /slow.Svc/Call HTTP/1.1\r\nHost: slow.test\r\nX-Part");
  ASSERT_TRUE(slow.WaitClosed(20000ms)) << slow.bytes();
  std::string l408 = WaitLogLine({"http_status=408"});
  EXPECT_NE(l408.find("\"/slow.Svc/Call\""), std::string::npos) << l408;
  EXPECT_NE(l408.find("authority=\"slow.test\""), std::string::npos) << l408;
}

// stream_idle_timeout ends an HTTP/1.1 exchange whose RPC moves nothing, as on HTTP/2.
TEST_F(Http1EdgeTest, StreamIdleTimeoutEndsTheExchange) {
  ASSERT_NO_FATAL_FAILURE(Start({"stream_idle_timeout: 300ms"}));
  EchoRequest req;
  req.set_count(2);
  req.set_interval_ms(60000);
  req.set_response_size(10);
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  conn.Send(WebRequest("/switchyard.test.Echo/ServerStream", WebFrame(req.SerializeAsString())));
  auto responses = conn.Responses(1);
  ASSERT_EQ(responses.size(), 1u) << conn.bytes();
  ASSERT_TRUE(responses[0].complete) << conn.bytes();
  WebResponse w = WebBody(responses[0].body);
  ASSERT_EQ(w.messages.size(), 1u) << w.error;
  EXPECT_EQ(w.trailers["grpc-status"], "14") << responses[0].body;
  EXPECT_NE(w.trailers["grpc-message"].find("stream_idle_timeout"), std::string::npos);
  EXPECT_EQ(ListenerLimit("stream_idle_timeout"), 1);
  EXPECT_TRUE(WaitUntil([&] { return backends_[0]->Stats().cancellations() >= 1; }, 10000ms, 50ms));
}

// max_connection_age: the response in flight finishes, then the connection closes.
TEST_F(Http1EdgeTest, MaxConnectionAgeClosesAfterTheResponseInFlight) {
  ASSERT_NO_FATAL_FAILURE(Start({"max_connection_age: 300ms"}));
  EchoRequest req;
  req.set_count(3);
  req.set_interval_ms(250);
  req.set_response_size(10);
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  conn.Send(WebRequest("/switchyard.test.Echo/ServerStream", WebFrame(req.SerializeAsString())));
  ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  auto responses = ParseResponses(conn.bytes());
  ASSERT_EQ(responses.size(), 1u) << conn.bytes();
  ASSERT_TRUE(responses[0].complete) << conn.bytes();
  WebResponse w = WebBody(responses[0].body);
  EXPECT_EQ(w.messages.size(), 3u) << w.error;
  EXPECT_EQ(w.trailers["grpc-status"], "0");
  EXPECT_EQ(Sum(Scrape(), "switchyard_listener_connections_aged_total", {{"listener", "public"}}), 1);
  // An idle kept-alive connection is closed at its age too.
  RawHttp1 idle(proxy_address());
  ASSERT_TRUE(idle.ok());
  EchoRequest one;
  one.set_payload("before the age");
  idle.Send(WebRequest("/switchyard.test.Echo/Unary", WebFrame(one.SerializeAsString())));
  ASSERT_EQ(idle.Responses(1).size(), 1u) << idle.bytes();
  EXPECT_TRUE(idle.WaitClosed());
}

// A response still running when max_connection_age_grace passes after the
// age ends with UNAVAILABLE, and the connection closes.
TEST_F(Http1EdgeTest, MaxConnectionAgeGraceEndsTheResponse) {
  ASSERT_NO_FATAL_FAILURE(Start({"max_connection_age: 200ms", "max_connection_age_grace: 300ms"}));
  EchoRequest req;
  req.set_count(2);
  req.set_interval_ms(60000);
  req.set_response_size(10);
  RawHttp1 conn(proxy_address());
  ASSERT_TRUE(conn.ok());
  conn.Send(WebRequest("/switchyard.test.Echo/ServerStream", WebFrame(req.SerializeAsString())));
  ASSERT_TRUE(conn.WaitClosed()) << conn.bytes();
  auto responses = ParseResponses(conn.bytes());
  ASSERT_EQ(responses.size(), 1u) << conn.bytes();
  ASSERT_TRUE(responses[0].complete) << conn.bytes();
  WebResponse w = WebBody(responses[0].body);
  EXPECT_EQ(w.messages.size(), 1u) << w.error;
  EXPECT_EQ(w.trailers["grpc-status"], "14") << responses[0].body;
  EXPECT_NE(w.trailers["grpc-message"].find("max_connection_age_grace"), std::string::npos);
  EXPECT_TRUE(WaitUntil([&] { return backends_[0]->Stats().cancellations() >= 1; }, 10000ms, 50ms));
}

// The same port still speaks HTTP/2 to native gRPC clients.
TEST_F(Http1Test, NativeGrpcOnTheSamePort) {
  auto stub = EchoStub();
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(5000ms));
    EchoRequest req;
    req.set_payload("native");
    EchoResponse resp;
    grpc::Status s = stub->Unary(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.payload(), "native");
  }
}

}  // namespace
}  // namespace sytest::ops
