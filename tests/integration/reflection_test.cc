// Merged reflection: a listener with `reflection: merged` answers
// grpc.reflection.v1 and v1alpha itself from the configured descriptor sets,
// for every service routed on it, across clusters. Driven through the real
// daemon by a maintained reflection client (npm grpc-js-reflection-client on
// @grpc/grpc-js, installed by `npm ci` into the build tree), grpcurl-style:
// list, describe, and invoke a method with JSON through the proxy. Also:
// passthrough stays routed to backends, descriptor sets are checked by
// --check-config and on SIGHUP.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <algorithm>
#include <mutex>

#include "harness.h"
#include "raw_h2.h"

namespace sytest {
namespace {

namespace fs = std::filesystem;

// Where the build put the test descriptor sets (protoc --include_imports).
fs::path Descriptors() { return SY_TEST_DESCRIPTORS; }

bool OnPath(const std::string& tool) {
  return RunCommand({"sh", "-c", "command -v " + tool}, fs::temp_directory_path(), 5000ms).exit_code == 0;
}

// Installs the node clients (package-lock.json, npm ci) into the build tree
// once; later runs reuse them while the lock file is unchanged. Serialized
// with flock: ctest may run several of these tests at once.
std::string InstallNodeClients(std::string* error) {
  fs::path src = SY_NODE_CLIENTS_SRC;
  fs::path dst = SY_NODE_CLIENTS_DIR;
  fs::create_directories(dst);
  // Files are replaced only when they changed, under the lock: another test
  // may be running the client from this folder meanwhile.
  std::string script = "cd '" + dst.string() + "' && ";
  for (const char* f : {"package.json", "package-lock.json", "reflection_client.js"}) {
    std::string from = (src / f).string();
    script += "{ cmp -s '" + from + "' " + f + " || cp '" + from + "' " + f + "; } && ";
  }
  script +=
      "{ cmp -s package-lock.json node_modules/.installed-lock 2>/dev/null || "
      "{ npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.installed-lock; }; }";
  CommandResult r = RunCommand({"flock", (dst / ".install-lock").string(), "sh", "-c", script}, dst, 300000ms);
  if (r.exit_code != 0) {
    *error = "npm ci in " + dst.string() + " failed (exit " + std::to_string(r.exit_code) + "): " + r.out + r.err;
    return "";
  }
  return (dst / "reflection_client.js").string();
}

class ReflectionTest : public ProxyTest {
 protected:
  void SetUp() override {
    if (!OnPath("node") || !OnPath("npm")) GTEST_SKIP() << "node and npm are needed for the reflection client";
    std::string error;
    client_ = InstallNodeClients(&error);
    ASSERT_FALSE(client_.empty()) << error;
  }

  // echo.pb (Echo, Control) and health.pb at the top, greeter.pb on the
  // greeter cluster. Routed: Echo -> echo, Greeter -> greeter; Control and
  // Health are in the sets but not routed.
  std::string Yaml(const std::string& echo, const std::string& greeter,
                   const std::string& top_sets = "") {
    std::string sets = top_sets.empty()
                           ? "[" + Quoted(Descriptors() / "echo.pb") + ", " + Quoted(Descriptors() / "health.pb") + "]"
                           : top_sets;
    return "workers: 2\n"
           "admin: { address: \"\" }\n"
           "descriptor_sets: " + sets + "\n"
           "listeners:\n"
           "  - name: public\n"
           "    address: 127.0.0.1:0\n"
           "    reflection: merged\n"
           "  - name: plain\n"
           "    address: 127.0.0.1:0\n"
           "routes:\n"
           "  - match: { service: switchyard.test.Echo }\n"
           "    cluster: echo\n"
           "  - match: { service: helloworld.Greeter }\n"
           "    cluster: greeter\n"
           "clusters:\n"
           "  - name: echo\n"
           "    endpoints: [" + echo + "]\n"
           "  - name: greeter\n"
           "    endpoints: [" + greeter + "]\n"
           "    descriptor_sets: [" + Quoted(Descriptors() / "greeter.pb") + "]\n";
  }
  static std::string Quoted(const fs::path& p) { return "\"" + p.string() + "\""; }

  void Start(const std::string& yaml) {
    WriteFile(config_path(), yaml);
    proxy_ = std::make_unique<ProcessGuard>(
        std::vector<std::string>{ProxyBinary(), "--config", config_path().string()}, dir_ / "switchyard.out",
        dir_ / "switchyard.err");
    public_ = BoundAddress(*proxy_, "public");
    plain_ = BoundAddress(*proxy_, "plain");
    ASSERT_FALSE(public_.empty() || plain_.empty()) << proxy_->out() << proxy_->err();
    proxy_address_ = public_;
  }

  // Runs the node client; returns its one line of JSON output.
  std::string Client(const std::string& address, const std::string& version,
                     std::vector<std::string> args) {
    std::vector<std::string> argv{"node", client_, address, version};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandResult r = RunCommand(argv, dir_.path(), 30000ms);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.out;
  }

  std::string client_;
  std::string public_;
  std::string plain_;
};

constexpr const char* kMergedList =
    R"({"ok":["grpc.reflection.v1.ServerReflection","grpc.reflection.v1alpha.ServerReflection",)"
    R"("helloworld.Greeter","switchyard.test.Echo"]})";

// The list is the union of the descriptor sets' services routed on the
// listener (top-level and per-cluster sets), plus reflection itself, in both
// protocol versions; Control and Health are in the sets but not routed.
TEST_F(ReflectionTest, MergedListIsEveryRoutedServiceOfEverySet) {
  Backend& a = StartBackend("a");
  Backend& b = StartBackend("b");
  ASSERT_NO_FATAL_FAILURE(Start(Yaml(a.address, b.address)));
  EXPECT_EQ(Client(public_, "v1", {"list"}), std::string(kMergedList) + "\n");
  EXPECT_EQ(Client(public_, "v1alpha", {"list"}), std::string(kMergedList) + "\n");
  // The proxy answered: no backend saw a reflection call.
  EXPECT_EQ(a.Calls("ServerReflectionInfo") + b.Calls("ServerReflectionInfo"), 0);
}

// describe, the methods of a service, and an unknown symbol (NOT_FOUND error_response).
TEST_F(ReflectionTest, DescribeMethodsAndUnknownSymbol) {
  Backend& a = StartBackend("a");
  ASSERT_NO_FATAL_FAILURE(Start(Yaml(a.address, a.address)));
  std::string described = Client(public_, "v1", {"describe", "switchyard.test.EchoRequest"});
  EXPECT_NE(described.find(R"("payload":{"type":"bytes","id":1})"), std::string::npos) << described;
  EXPECT_NE(described.find(R"("responseSize":{"type":"int32","id":2,"protoName":"response_size"})"),
            std::string::npos)
      << described;

  EXPECT_EQ(Client(public_, "v1", {"methods", "switchyard.test.Echo"}),
            R"({"ok":["Bidi","ClientStream","ServerStream","Unary"]})" "\n");
  // A service from the greeter cluster's own descriptor set.
  EXPECT_EQ(Client(public_, "v1alpha", {"methods", "helloworld.Greeter"}), R"({"ok":["SayHello"]})" "\n");

  std::string unknown = Client(public_, "v1", {"describe", "no.such.Service"});
  EXPECT_NE(unknown.find("symbol not found: no.such.Service"), std::string::npos) << unknown;
}

// grpcurl-style invoke: the schema comes from the proxy's reflection, the
// call (JSON in, JSON out) goes through the proxy to a backend.
TEST_F(ReflectionTest, InvokeWithJsonThroughTheProxy) {
  Backend& a = StartBackend("a");
  ASSERT_NO_FATAL_FAILURE(Start(Yaml(a.address, a.address)));
  std::string reply = Client(public_, "v1", {"invoke", "helloworld.Greeter", "SayHello", R"({"name":"json"})"});
  EXPECT_NE(reply.find(R"("message":"Hello json)"), std::string::npos) << reply;
  EXPECT_EQ(a.Calls("SayHello"), 1);
}

// A passthrough listener (the default) routes reflection like any RPC: no
// route matches it here, so the client gets UNIMPLEMENTED from the proxy.
TEST_F(ReflectionTest, PassthroughListenerRoutesReflection) {
  Backend& a = StartBackend("a");
  ASSERT_NO_FATAL_FAILURE(Start(Yaml(a.address, a.address)));
  std::string out = Client(plain_, "v1", {"list"});
  EXPECT_NE(out.find("12 UNIMPLEMENTED"), std::string::npos) << out;
  EXPECT_NE(out.find("no route for method /grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
            std::string::npos)
      << out;
}

// SIGHUP: a malformed descriptor set is rejected and the old schemas stay;
// a good new set list takes effect.
TEST_F(ReflectionTest, ReloadKeepsOldSetsOnErrorAndTakesNewOnes) {
  Backend& a = StartBackend("a");
  ASSERT_NO_FATAL_FAILURE(Start(Yaml(a.address, a.address)));
  WriteFile(dir_ / "broken.pb", "not a descriptor set\n");
  WriteFile(config_path(), Yaml(a.address, a.address, "[" + Quoted(dir_ / "broken.pb") + "]"));
  proxy_->signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] { return proxy_->err().find("reload failed") != std::string::npos ||
                                     proxy_->err().find("reload rejected") != std::string::npos; },
                        10000ms))
      << proxy_->err();
  EXPECT_NE(proxy_->err().find("descriptor set \"" + (dir_ / "broken.pb").string() + "\""), std::string::npos)
      << proxy_->err();
  EXPECT_EQ(Client(public_, "v1", {"list"}), std::string(kMergedList) + "\n");

  // Now only the greeter cluster's set: Echo drops out of the list.
  std::string yaml = Yaml(a.address, a.address, "[]");
  WriteFile(config_path(), yaml);
  proxy_->signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] { return proxy_->err().find("reload complete") != std::string::npos; }, 10000ms))
      << proxy_->err();
  EXPECT_EQ(Client(public_, "v1", {"list"}),
            R"({"ok":["grpc.reflection.v1.ServerReflection","grpc.reflection.v1alpha.ServerReflection",)"
            R"("helloworld.Greeter"]})" "\n");
}

// Hostile input on a merged reflection stream costs only that stream: a
// message that is not a ServerReflectionRequest ends it with INVALID_ARGUMENT
// after the answers before it, an oversized one with RESOURCE_EXHAUSTED, and
// the listener keeps serving.
TEST_F(ReflectionTest, MalformedAndOversizedRequestsEndOnlyTheirStream) {
  Backend& a = StartBackend("a");
  ASSERT_NO_FATAL_FAILURE(Start(Yaml(a.address, a.address)));
  // list_services = "" (field 7): 3a 00. Then bytes that are no protobuf message.
  std::string bad = Client(public_, "v1", {"raw", "3a00", "3a00", "ffffffff"});
  EXPECT_NE(bad.find(R"("code":3,"details":"malformed ServerReflectionRequest message")"), std::string::npos) << bad;
  // Each answer echoes its request (original_request = 12 02 3a 00).
  size_t answers = 0;
  for (size_t at = bad.find("12023a00"); at != std::string::npos; at = bad.find("12023a00", at + 1)) ++answers;
  EXPECT_EQ(answers, 2u) << "two answers before the error: " << bad;

  std::string oversized = Client(public_, "v1", {"raw", "pad:70000"});
  EXPECT_NE(oversized.find(R"("code":8,"details":"request message larger than 65536 bytes")"), std::string::npos)
      << oversized;

  EXPECT_EQ(Client(public_, "v1", {"list"}), std::string(kMergedList) + "\n");
}

// The answers a reflection call made before a bad request are delivered
// before its error status, even when the bad request arrives in the same read
// as the good ones, before any answer could be written: one request body
// with two list_services requests and then bytes that are no message.
TEST_F(ReflectionTest, AnswersBeforeAnErrorReachTheClientBeforeItsStatus) {
  Backend& a = StartBackend("a");
  ASSERT_NO_FATAL_FAILURE(Start(Yaml(a.address, a.address)));
  const std::string list("\x3a\x00", 2);
  H2Result r = H2Request(public_, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                         {{"content-type", "application/grpc"}, {"te", "trailers"}},
                         GrpcFrame(list) + GrpcFrame(list) + GrpcFrame("\xff\xff\xff\xff"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.blocks.size(), 2u) << "response headers, then trailers";
  EXPECT_EQ(r.Field(1, "grpc-status"), "3");
  EXPECT_EQ(r.Field(1, "grpc-message"), "malformed ServerReflectionRequest message");
  size_t answers = 0;
  for (size_t at = 0; at + 5 <= r.body.size(); ++answers) {
    at += 5 + (static_cast<size_t>(static_cast<uint8_t>(r.body[at + 1])) << 24 |
               static_cast<size_t>(static_cast<uint8_t>(r.body[at + 2])) << 16 |
               static_cast<size_t>(static_cast<uint8_t>(r.body[at + 3])) << 8 |
               static_cast<size_t>(static_cast<uint8_t>(r.body[at + 4])));
  }
  EXPECT_EQ(answers, 2u) << r.body.size() << " bytes of answers";
}

class DescriptorSetCheckTest : public ::testing::Test {
 protected:
  CommandResult Check(const std::string& yaml) {
    WriteFile(dir_ / "c.yaml", yaml);
    return RunCommand({ProxyBinary(), "--check-config", "--config", (dir_ / "c.yaml").string()}, dir_.path(),
                      20000ms);
  }
  std::string Yaml(const std::string& sets, const std::string& reflection = "merged") {
    return "descriptor_sets: " + sets + "\n"
           "listeners:\n"
           "  - name: public\n"
           "    address: 127.0.0.1:0\n"
           "    reflection: " + reflection + "\n"
           "routes:\n"
           "  - match: { service: switchyard.test.Echo }\n"
           "    cluster: echo\n"
           "clusters:\n"
           "  - name: echo\n"
           "    endpoints: [127.0.0.1:50051]\n";
  }
  TempDir dir_;
};

TEST_F(DescriptorSetCheckTest, GoodSetsPass) {
  CommandResult r = Check(Yaml("[\"" + (Descriptors() / "echo.pb").string() + "\"]"));
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
}

// A malformed set names its file and where the configuration names it.
TEST_F(DescriptorSetCheckTest, MalformedSetIsRejectedNamingTheFile) {
  WriteFile(dir_ / "api.pb", "{ \"this\": \"is json, not a FileDescriptorSet\" }\n");
  CommandResult r = Check(Yaml("[api.pb]"));
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  std::string want = (dir_ / "c.yaml").string() + ":1:19: descriptor set \"" + (dir_ / "api.pb").string() +
                     "\": not a serialized google.protobuf.FileDescriptorSet";
  EXPECT_NE(r.err.find(want), std::string::npos) << r.err;
}

// A set without its imports (protoc without --include_imports) is refused.
TEST_F(DescriptorSetCheckTest, SetWithoutImportsIsRejected) {
  CommandResult r = Check(Yaml("[\"" + (Descriptors() / "wrapped_no_imports.pb").string() + "\"]"));
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_NE(r.err.find("which no descriptor set holds (build the set with protoc --include_imports)"),
            std::string::npos)
      << r.err;
}

TEST_F(DescriptorSetCheckTest, MissingFileAndBadModeAndMergedWithoutSets) {
  CommandResult missing = Check(Yaml("[nowhere.pb]"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find(":1:19: cannot read descriptor set"), std::string::npos) << missing.err;

  CommandResult mode = Check(Yaml("[]", "mixed"));
  EXPECT_EQ(mode.exit_code, 1);
  EXPECT_NE(mode.err.find(":5:17: unknown reflection mode \"mixed\": expected merged or passthrough"),
            std::string::npos)
      << mode.err;

  CommandResult none = Check(Yaml("[]"));
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find(":5:17: listener \"public\" has reflection: merged"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace sytest
