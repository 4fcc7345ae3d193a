// JSON transcoding through the real daemon: curl sends REST requests over
// HTTP/2 (h2c prior knowledge) to routes with json_transcoding; the daemon
// matches the google.api.http rules of echo_http.pb, calls the real gRPC
// backend, and answers JSON. Bad input is refused with a JSON error before
// any backend sees it; limits and refusals show in the metrics.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <csignal>
#include <thread>

#include "grpc_web_support.h"
#include "ops_support.h"

namespace sytest::ops {
namespace {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

struct JsonAnswer {
  int http_status = 0;
  std::string content_type;
  std::map<std::string, std::string> headers;  // lower-case names; last value wins
  std::string body;
  google::protobuf::Value json;  // the parsed body (null if it is not JSON)
  bool parsed = false;
  std::string curl_err;

  const google::protobuf::Value& field(const std::string& name) const {
    static const google::protobuf::Value none;
    if (!json.has_struct_value()) return none;
    auto it = json.struct_value().fields().find(name);
    return it == json.struct_value().fields().end() ? none : it->second;
  }
};

class JsonTranscodingTest : public OpsTest {
 protected:
  // The route's json_transcoding block.
  virtual std::string Options() const { return "{ max_request_body_bytes: 1KiB }"; }

  void SetUp() override {
    Backend& b = StartBackend("backend-a");
    ProxyConfig c = DefaultConfig({&b});
    c.admin_address = Loopback();
    c.routes_yaml =
        "  - match: { service: switchyard.test.Echo }\n"
        "    cluster: " + c.clusters[0].name + "\n"
        "    json_transcoding: " + Options() + "\n";
    StartProxyWith(c, "descriptor_sets: [\"" + std::string(SY_TEST_DESCRIPTORS) + "/echo_http.pb\"]\n");
  }

  JsonAnswer Call(const std::string& method, const std::string& path, const std::string& body = "",
                  std::vector<std::string> headers = {"content-type: application/json"}) {
    CurlRequest c;
    c.url = "http://" + proxy_address() + path;
    c.method = method;
    c.headers = std::move(headers);
    c.body = body;
    c.send_body = !body.empty();
    c.extra_args = {"--path-as-is"};
    WebResponse r = RunCurl(c, dir());
    JsonAnswer a;
    a.http_status = r.http_status;
    a.headers = r.headers;
    a.content_type = r.headers["content-type"];
    a.body = r.body;
    a.curl_err = r.curl_err;
    a.parsed = google::protobuf::util::JsonStringToMessage(r.body, &a.json).ok();
    return a;
  }

  double LocalErrors(const std::string& cause) {
    return Sum(Scrape(), "switchyard_local_errors_total", {{"cause", cause}});
  }
};

std::string B64(const std::string& s) { return Base64(s); }

TEST_F(JsonTranscodingTest, PostWithWholeBody) {
  JsonAnswer a = Call("POST", "/v1/echo", "{\"payload\": \"" + B64("hello rest") + "\"}");
  ASSERT_EQ(a.http_status, 200) << a.curl_err << a.body;
  EXPECT_EQ(a.content_type, "application/json");
  ASSERT_TRUE(a.parsed) << a.body;
  EXPECT_EQ(a.field("payload").string_value(), B64("hello rest"));
  EXPECT_EQ(a.field("backend").string_value(), "backend-a");
  EXPECT_EQ(backends_[0]->Calls("Unary"), 1);
}

TEST_F(JsonTranscodingTest, GetWithPathVariablesAndQuery) {
  // fail_code 0 and fail_message from the path; response_size from the query.
  JsonAnswer a = Call("GET", "/v1/echo/0/unused?response_size=5", "", {});
  ASSERT_EQ(a.http_status, 200) << a.curl_err << a.body;
  ASSERT_TRUE(a.parsed) << a.body;
  EXPECT_EQ(a.field("payload").string_value(), B64(Pattern(5, 0)));
  EXPECT_EQ(a.field("backend").string_value(), "backend-a");
}

TEST_F(JsonTranscodingTest, FieldBodyWithVerb) {
  // PUT /v1/echo/{fail_message}:payload with body: "payload" (a bytes field: base64 JSON string).
  JsonAnswer a = Call("PUT", "/v1/echo/x:payload", "\"" + B64("only the field") + "\"");
  ASSERT_EQ(a.http_status, 200) << a.curl_err << a.body;
  EXPECT_EQ(a.field("payload").string_value(), B64("only the field"));
}

TEST_F(JsonTranscodingTest, GrpcStatusMapsToHttpStatusWithJsonError) {
  struct Case {
    int grpc;
    int http;
  };
  for (Case c : {Case{5, 404}, Case{3, 400}, Case{16, 401}, Case{7, 403}, Case{14, 503}}) {
    JsonAnswer a = Call("GET", "/v1/echo/" + std::to_string(c.grpc) + "/no%20such%20thing", "", {});
    EXPECT_EQ(a.http_status, c.http) << "grpc " << c.grpc << ": " << a.body << a.curl_err;
    EXPECT_EQ(a.content_type, "application/json");
    ASSERT_TRUE(a.parsed) << a.body;
    EXPECT_EQ(a.field("code").number_value(), c.grpc);
    EXPECT_EQ(a.field("message").string_value(), "no such thing");
    EXPECT_TRUE(a.field("details").has_list_value()) << a.body;
  }
}

TEST_F(JsonTranscodingTest, MalformedJsonIs400AndReachesNoBackend) {
  double before = LocalErrors("transcode_failed");
  JsonAnswer a = Call("POST", "/v1/echo", "{\"payload\": ");
  EXPECT_EQ(a.http_status, 400) << a.body << a.curl_err;
  ASSERT_TRUE(a.parsed) << a.body;
  EXPECT_EQ(a.field("code").number_value(), 3);  // INVALID_ARGUMENT
  EXPECT_NE(a.field("message").string_value().find("request body"), std::string::npos) << a.body;
  EXPECT_EQ(backends_[0]->Calls("Unary"), 0);
  EXPECT_TRUE(WaitUntil([&] { return LocalErrors("transcode_failed") >= before + 1; }, 5000ms, 50ms));
}

TEST_F(JsonTranscodingTest, UnknownFieldAndWrongTypeName400) {
  JsonAnswer unknown = Call("POST", "/v1/echo", "{\"no_such_field\": 1}");
  EXPECT_EQ(unknown.http_status, 400) << unknown.body;
  EXPECT_NE(unknown.field("message").string_value().find("no_such_field"), std::string::npos)
      << unknown.body;
  JsonAnswer wrong = Call("POST", "/v1/echo", "{\"responseSize\": \"many\"}");
  EXPECT_EQ(wrong.http_status, 400) << wrong.body;
  EXPECT_NE(wrong.field("message").string_value().find("response_size"), std::string::npos)
      << wrong.body;
  JsonAnswer query = Call("GET", "/v1/echo/0/x?response_size=many", "", {});
  EXPECT_EQ(query.http_status, 400) << query.body;
  EXPECT_NE(query.field("message").string_value().find("response_size"), std::string::npos)
      << query.body;
  EXPECT_EQ(backends_[0]->Calls("Unary"), 0);
}

TEST_F(JsonTranscodingTest, UnknownPathIs404AndOtherMethodIs405) {
  JsonAnswer missing = Call("GET", "/v1/nothing/here", "", {});
  EXPECT_EQ(missing.http_status, 404) << missing.body;
  ASSERT_TRUE(missing.parsed) << missing.body;
  EXPECT_EQ(missing.field("code").number_value(), 5);
  JsonAnswer method = Call("DELETE", "/v1/echo", "", {});
  EXPECT_EQ(method.http_status, 405) << method.body;
  ASSERT_TRUE(method.parsed) << method.body;
  EXPECT_EQ(backends_[0]->Calls("Unary"), 0);
}

TEST_F(JsonTranscodingTest, GrpcWebOnAListenerWithoutItStays415) {
  // Only requests that are neither gRPC nor gRPC-Web are taken as REST.
  JsonAnswer a = Call("POST", "/switchyard.test.Echo/Unary", "", {"content-type: application/grpc-web"});
  EXPECT_EQ(a.http_status, 415) << a.body;
}

TEST_F(JsonTranscodingTest, OversizeBodyIs413AndCounted) {
  double before = LocalErrors("body_too_large");
  std::string big = "{\"payload\": \"" + B64(std::string(2000, 'x')) + "\"}";  // over 1KiB
  JsonAnswer a = Call("POST", "/v1/echo", big);
  EXPECT_EQ(a.http_status, 413) << a.body << a.curl_err;
  ASSERT_TRUE(a.parsed) << a.body;
  EXPECT_EQ(a.field("code").number_value(), 8);  // RESOURCE_EXHAUSTED
  EXPECT_NE(a.field("message").string_value().find("max_request_body_bytes"), std::string::npos);
  EXPECT_EQ(backends_[0]->Calls("Unary"), 0);
  EXPECT_TRUE(WaitUntil([&] { return LocalErrors("body_too_large") >= before + 1; }, 5000ms, 50ms));
}

TEST_F(JsonTranscodingTest, ServerStreamIsAJsonArray) {
  JsonAnswer a = Call("GET", "/v1/stream/3", "", {});
  ASSERT_EQ(a.http_status, 200) << a.body << a.curl_err;
  ASSERT_TRUE(a.parsed) << a.body;
  ASSERT_TRUE(a.json.has_list_value()) << a.body;
  ASSERT_EQ(a.json.list_value().values_size(), 3);
  for (int i = 0; i < 3; ++i) {
    const auto& item = a.json.list_value().values(i).struct_value().fields();
    EXPECT_EQ(item.at("backend").string_value(), "backend-a");
    if (i > 0) {
      EXPECT_EQ(item.at("seq").string_value(), std::to_string(i));  // int64: a JSON string
    }
  }
}

// The elements of a streamed JSON array, each as a parsed value.
std::vector<google::protobuf::Value> Elements(const JsonAnswer& a) {
  std::vector<google::protobuf::Value> out;
  if (!a.json.has_list_value()) return out;
  for (const auto& v : a.json.list_value().values()) out.push_back(v);
  return out;
}

const google::protobuf::Value& Field(const google::protobuf::Value& v, const std::string& name) {
  static const google::protobuf::Value none;
  if (!v.has_struct_value()) return none;
  auto it = v.struct_value().fields().find(name);
  return it == v.struct_value().fields().end() ? none : it->second;
}

TEST_F(JsonTranscodingTest, ServerStreamSendsEachElementAsItArrives) {
  // The backend sends one message, then waits ten minutes before the next:
  // the first element must reach the client while the call is still open.
  auto headers = dir() / "stream-headers";
  auto body = dir() / "stream-body";
  ProcessGuard curl({"curl", "-sS", "-N", "--http2-prior-knowledge", "--max-time", "60", "-D",
                     headers.string(), "-o", body.string(),
                     "http://" + proxy_address() + "/v1/stream/2?interval_ms=600000"},
                    dir() / "curl.out", dir() / "curl.err");
  auto has = [](const std::filesystem::path& p, const std::string& what) {
    return std::filesystem::exists(p) && ReadFile(p).find(what) != std::string::npos;
  };
  ASSERT_TRUE(WaitUntil([&] { return has(body, "\"backend\":\"backend-a\""); }, 10000ms, 20ms))
      << "no element arrived; body: " << (std::filesystem::exists(body) ? ReadFile(body) : "")
      << " curl: " << curl.err();
  std::string first = ReadFile(body);
  EXPECT_EQ(first.rfind("[{", 0), 0u) << first;
  EXPECT_EQ(first.find(']'), std::string::npos) << "the array is still open: " << first;
  EXPECT_EQ(backends_[0]->Stats().active(), 1) << "the backend's stream has not ended";
  std::string head = ReadFile(headers);
  EXPECT_NE(head.find(" 200"), std::string::npos) << head;
  EXPECT_NE(head.find("content-type: application/json"), std::string::npos) << head;
  EXPECT_EQ(head.find("content-length"), std::string::npos) << head;
  // The client leaves: the backend's call is cancelled.
  curl.stop();
  EXPECT_TRUE(WaitUntil([&] { return backends_[0]->Stats().cancellations() >= 1; }, 10000ms, 20ms));
}

// 2,000 messages of 64 KiB (about 170 MiB of JSON) to a client that stops
// reading after the first element: the client's window holds the backend
// back (its call cannot finish) and the proxy does not buffer the stream;
// once the client reads again the whole array arrives.
TEST_F(JsonTranscodingTest, ServerStreamFollowsTheClientsPace) {
  constexpr int kMessages = 2000;
  constexpr long kMaxGrowthKb = 64 * 1024;
  const long baseline = ReadRssKb(proxy_pid());
  ASSERT_GT(baseline, 0);
  auto body = dir() / "slow-body";
  ProcessGuard curl({"curl", "-sS", "-N", "--http2-prior-knowledge", "--max-time", "120", "-o", body.string(),
                     "http://" + proxy_address() + "/v1/stream/" + std::to_string(kMessages) +
                         "?response_size=65536"},
                    dir() / "slow-curl.out", dir() / "slow-curl.err");
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(body) && std::filesystem::file_size(body) > 0; },
                        10000ms, 5ms))
      << curl.err();
  curl.signal(SIGSTOP);
  // Paused: the backend would send all of it at once if nothing held it back.
  long peak_paused = baseline;
  bool finished = false;
  auto pause_until = Clock::now() + 3s;
  for (int i = 0; i < 1000 && Clock::now() < pause_until && !finished; ++i) {
    peak_paused = std::max(peak_paused, ReadRssKb(proxy_pid()));
    finished = backends_[0]->Stats().active() == 0;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(finished) << "the backend finished a 128 MiB stream the client was not reading";
  EXPECT_LT(peak_paused - baseline, kMaxGrowthKb)
      << "proxy RSS grew from " << baseline << " KiB to " << peak_paused << " KiB while the client was paused";
  curl.signal(SIGCONT);
  auto exit_code = curl.waitExit(120000ms);
  ASSERT_TRUE(exit_code) << "curl did not finish";
  EXPECT_EQ(*exit_code, 0) << curl.err();
  std::string all = ReadFile(body);
  EXPECT_EQ(all.rfind("[{", 0), 0u);
  EXPECT_EQ(all.size() > 2 ? all.substr(all.size() - 2) : all, "}]");
  size_t elements = 0;
  for (size_t at = all.find("\"backend\":\"backend-a\""); at != std::string::npos;
       at = all.find("\"backend\":\"backend-a\"", at + 1)) {
    ++elements;
  }
  EXPECT_EQ(elements, static_cast<size_t>(kMessages));
  EXPECT_EQ(all.find("\"error\""), std::string::npos);
}

TEST_F(JsonTranscodingTest, ServerStreamFailureAfterMessagesIsTheLastElement) {
  JsonAnswer a = Call("GET", "/v1/stream/2?fail_code=14&fail_message=gone%20away", "", {});
  ASSERT_EQ(a.http_status, 200) << a.body << a.curl_err;
  ASSERT_TRUE(a.parsed) << a.body;
  auto items = Elements(a);
  ASSERT_EQ(items.size(), 3u) << a.body;
  EXPECT_EQ(Field(items[1], "backend").string_value(), "backend-a");
  const auto& error = Field(items[2], "error");
  EXPECT_EQ(Field(error, "code").number_value(), 14) << a.body;
  EXPECT_EQ(Field(error, "message").string_value(), "gone away") << a.body;
  EXPECT_TRUE(Field(error, "details").has_list_value()) << a.body;
}

TEST_F(JsonTranscodingTest, DeadlineAfterMessagesIsTheLastElement) {
  // One message at once, the next after ten minutes: the proxy's deadline
  // (grpc-timeout, stretched in sanitizer builds) ends the stream in between.
  std::string timeout = std::to_string(static_cast<int>(1000 * kSanitizerSlack)) + "m";
  JsonAnswer a = Call("GET", "/v1/stream/2?interval_ms=600000", "", {"grpc-timeout: " + timeout});
  ASSERT_EQ(a.http_status, 200) << a.body << a.curl_err;
  ASSERT_TRUE(a.parsed) << a.body;
  auto items = Elements(a);
  ASSERT_EQ(items.size(), 2u) << a.body;
  EXPECT_EQ(Field(items[0], "backend").string_value(), "backend-a");
  EXPECT_EQ(Field(Field(items[1], "error"), "code").number_value(), 4) << a.body;  // DEADLINE_EXCEEDED
  EXPECT_TRUE(WaitUntil([&] { return backends_[0]->Stats().cancellations() >= 1; }, 10000ms, 20ms))
      << "the backend's call is cancelled";
}

TEST_F(JsonTranscodingTest, ServerStreamFailureBeforeMessagesIsTheHttpStatus) {
  JsonAnswer a = Call("GET", "/v1/stream/0?fail_code=5&fail_message=no%20stream", "", {});
  EXPECT_EQ(a.http_status, 404) << a.body << a.curl_err;
  EXPECT_EQ(a.content_type, "application/json");
  ASSERT_TRUE(a.parsed) << a.body;
  EXPECT_EQ(a.field("code").number_value(), 5);
  EXPECT_EQ(a.field("message").string_value(), "no stream");
}

TEST_F(JsonTranscodingTest, ResponseMetadataBecomesGrpcMetadataHeaders) {
  // The backend copies x-echo-* request metadata into its response headers
  // and trailers, and always adds the trailer x-backend.
  JsonAnswer unary = Call("POST", "/v1/echo", "{\"echoMetadata\": true}",
                          {"content-type: application/json", "x-echo-color: blue"});
  ASSERT_EQ(unary.http_status, 200) << unary.body << unary.curl_err;
  EXPECT_EQ(unary.headers["grpc-metadata-x-echo-color"], "blue");
  EXPECT_EQ(unary.headers["grpc-trailer-x-backend"], "backend-a") << "a unary call's trailers too";
  EXPECT_EQ(unary.headers["grpc-trailer-x-echo-color"], "blue");
  EXPECT_EQ(unary.headers.count("grpc-metadata-x-backend"), 0u) << "trailers keep their own prefix";
  EXPECT_EQ(unary.headers.count("grpc-metadata-grpc-status"), 0u);
  EXPECT_EQ(unary.headers.count("grpc-metadata-content-type"), 0u);
  EXPECT_FALSE(unary.headers["content-length"].empty()) << "a unary answer keeps its length";

  JsonAnswer stream = Call("GET", "/v1/stream/2?echo_metadata=true", "", {"x-echo-color: green"});
  ASSERT_EQ(stream.http_status, 200) << stream.body << stream.curl_err;
  EXPECT_EQ(Elements(stream).size(), 2u) << stream.body;
  EXPECT_EQ(stream.headers["grpc-metadata-x-echo-color"], "green");
  EXPECT_EQ(stream.headers.count("grpc-trailer-x-backend"), 0u)
      << "a stream's trailers come after its headers";

  JsonAnswer failed = Call("GET", "/v1/echo/7/denied", "", {});
  EXPECT_EQ(failed.http_status, 403) << failed.body;
  EXPECT_EQ(failed.headers["grpc-trailer-x-backend"], "backend-a") << "an error carries them too";
}

TEST_F(JsonTranscodingTest, MetricsCarryTheJsonProtocolAndNativeGrpcStillWorks) {
  ASSERT_EQ(Call("POST", "/v1/echo", "{}").http_status, 200);
  // Each worker publishes its counters on its own schedule: wait for them.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return Sum(Scrape(), "switchyard_grpc_server_handled_total",
                   {{"protocol", "json"}, {"grpc_service", "switchyard.test.Echo"},
                    {"grpc_code", "OK"}}) >= 1.0;
      },
      5000ms, 50ms));
  auto stub = EchoStub();
  grpc::ClientContext ctx;
  ctx.set_deadline(In(5000ms));
  EchoRequest req;
  req.set_payload("native");
  EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.payload(), "native");
}

class JsonTranscodingNdjsonTest : public JsonTranscodingTest {
 protected:
  std::string Options() const override { return "{ stream_format: ndjson }"; }
};

std::vector<std::string> Lines(const std::string& body) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t nl = body.find('\n', start);
    if (nl == std::string::npos) {
      out.push_back(body.substr(start));  // not newline-terminated: a test failure below
      break;
    }
    out.push_back(body.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

TEST_F(JsonTranscodingNdjsonTest, ServerStreamIsOneObjectPerLine) {
  JsonAnswer a = Call("GET", "/v1/stream/3", "", {});
  ASSERT_EQ(a.http_status, 200) << a.body << a.curl_err;
  EXPECT_EQ(a.content_type, "application/x-ndjson");
  ASSERT_EQ(a.body.back(), '\n') << a.body;
  auto lines = Lines(a.body);
  ASSERT_EQ(lines.size(), 3u) << a.body;
  for (size_t i = 0; i < lines.size(); ++i) {
    google::protobuf::Value v;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &v).ok()) << lines[i];
    EXPECT_EQ(Field(v, "backend").string_value(), "backend-a");
  }
}

TEST_F(JsonTranscodingNdjsonTest, FailureAfterMessagesIsTheLastLine) {
  JsonAnswer a = Call("GET", "/v1/stream/1?fail_code=10&fail_message=aborted", "", {});
  ASSERT_EQ(a.http_status, 200) << a.body << a.curl_err;
  auto lines = Lines(a.body);
  ASSERT_EQ(lines.size(), 2u) << a.body;
  google::protobuf::Value last;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[1], &last).ok()) << lines[1];
  EXPECT_EQ(Field(Field(last, "error"), "code").number_value(), 10) << a.body;
  EXPECT_EQ(Field(Field(last, "error"), "message").string_value(), "aborted") << a.body;
}

TEST_F(JsonTranscodingNdjsonTest, FailureBeforeMessagesIsTheHttpStatus) {
  JsonAnswer a = Call("GET", "/v1/stream/0?fail_code=3&fail_message=bad", "", {});
  EXPECT_EQ(a.http_status, 400) << a.body << a.curl_err;
  EXPECT_EQ(a.content_type, "application/json");
  EXPECT_EQ(a.field("code").number_value(), 3) << a.body;
}

}  // namespace
}  // namespace sytest::ops

namespace sytest::ops {
namespace {

// --check-config and SIGHUP check the json_transcoding routes against the
// descriptor sets: a service the sets lack is an error with file:line:col,
// and a reload that fails so keeps serving the old rules.
class JsonTranscodingConfigTest : public OpsTest {
 protected:
  std::string Yaml(const std::string& service, const std::string& backend) {
    return "workers: 1\n"
           "admin: { address: 127.0.0.1:0 }\n"
           "descriptor_sets: [\"" + std::string(SY_TEST_DESCRIPTORS) + "/echo_http.pb\"]\n"
           "listeners:\n"
           "  - name: public\n"
           "    address: 127.0.0.1:0\n"
           "routes:\n"
           "  - match: { service: " + service + " }\n"
           "    cluster: echo\n"
           "    json_transcoding: true\n"
           "clusters:\n"
           "  - name: echo\n"
           "    endpoints: [\"" + backend + "\"]\n";
  }
};

TEST_F(JsonTranscodingConfigTest, CheckConfigNamesAServiceTheSetsLack) {
  WriteFile(dir() / "bad.yaml", Yaml("shop.Catalog", "127.0.0.1:1"));
  CommandResult r = RunCommand({ProxyBinary(), "--check-config", "--config", (dir() / "bad.yaml").string()},
                               dir().path(), 20000ms);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find((dir() / "bad.yaml").string() + ":10:23: route 0: json_transcoding:"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("shop.Catalog"), std::string::npos) << r.err;
  WriteFile(dir() / "good.yaml", Yaml("switchyard.test.Echo", "127.0.0.1:1"));
  CommandResult ok = RunCommand({ProxyBinary(), "--check-config", "--config", (dir() / "good.yaml").string()},
                                dir().path(), 20000ms);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

TEST_F(JsonTranscodingConfigTest, BadReloadKeepsTheRunningRules) {
  Backend& b = StartBackend("backend-a");
  WriteFile(config_path(), Yaml("switchyard.test.Echo", b.address));
  proxy_ = std::make_unique<ProcessGuard>(
      std::vector<std::string>{ProxyBinary(), "--config", config_path().string()}, dir() / "switchyard.out",
      dir() / "switchyard.err");
  proxy_address_ = WaitListening(*proxy_, "public", "127.0.0.1:0");
  admin_address_ = WaitListening(*proxy_, "admin", "127.0.0.1:0");
  ASSERT_FALSE(proxy_address_.empty()) << proxy_->err();
  ASSERT_FALSE(admin_address_.empty()) << proxy_->err();

  auto get = [&] {
    CurlRequest c;
    c.url = "http://" + proxy_address() + "/v1/echo/0/x";
    c.method = "GET";
    c.send_body = false;
    return RunCurl(c, dir()).http_status;
  };
  ASSERT_EQ(get(), 200);
  const double failed_before = ReloadCount("failure");
  ReloadText(Yaml("shop.Catalog", b.address));
  ASSERT_TRUE(WaitUntil([&] { return ReloadCount("failure") >= failed_before + 1; }, 10000ms, 50ms))
      << ProxyErr();
  EXPECT_NE(ProxyErr().find("shop.Catalog"), std::string::npos) << ProxyErr();
  EXPECT_EQ(get(), 200) << "the old rules still serve";
}

}  // namespace
}  // namespace sytest::ops
