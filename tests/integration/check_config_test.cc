// The daemon's command line: --check-config validates a file and reports
// errors as file:line:col, --version works.
#include <regex>

#include "harness.h"

namespace sytest {
namespace {

class CheckConfigTest : public ::testing::Test {
 protected:
  CommandResult Check(const std::string& name, const std::string& yaml) {
    WriteFile(dir_ / name, yaml);
    return RunCommand({ProxyBinary(), "--check-config", "--config", (dir_ / name).string()}, dir_.path(), 20000ms);
  }
  // Line numbers of "FILE:LINE:COL: message" diagnostics for path in text.
  static std::vector<int> DiagnosticLines(const std::string& text, const std::string& path) {
    std::vector<int> lines;
    std::regex re(std::regex_replace(path, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                  R"(:(\d+):(\d+): \S.*)");
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) {
      lines.push_back(std::stoi((*it)[1]));
    }
    return lines;
  }
  std::string Good() {
    return "workers: 2\n"
           "admin: { address: 127.0.0.1:0 }\n"
           "listeners:\n"
           "  - name: public\n"
           "    address: 127.0.0.1:0\n"
           "routes:\n"
           "  - match: { service: switchyard.test.Echo, method: Unary }\n"
           "    cluster: echo\n"
           "    timeout: { default: 5s, max: 30s }\n"
           "  - match: { service: switchyard.test.Echo }\n"
           "    cluster: echo\n"
           "  - match: { prefix: /helloworld. }\n"
           "    cluster: echo\n"
           "clusters:\n"
           "  - name: echo\n"
           "    endpoints: [127.0.0.1:50051, \"[::1]:50052\"]\n";
  }
  TempDir dir_;
};

// A valid file (the documented shape) passes: exit 0.
TEST_F(CheckConfigTest, ValidFileExitsZero) {
  CommandResult r = Check("good.yaml", Good());
  EXPECT_EQ(r.exit_code, 0) << "stderr: " << r.err << "\nstdout: " << r.out;
}

// A route naming an unknown cluster fails with exit 1 and a file:line:col
// diagnostic pointing at that route (line 7) or its cluster key (line 8).
TEST_F(CheckConfigTest, UnknownClusterExitsOneWithPosition) {
  std::string yaml = Good();
  // Line 8 is "    cluster: echo" of the first route.
  auto pos = yaml.find("    cluster: echo\n");
  yaml.replace(pos, 18, "    cluster: nowhere\n");
  CommandResult r = Check("bad-cluster.yaml", yaml);
  EXPECT_EQ(r.exit_code, 1) << "stderr: " << r.err;
  auto lines = DiagnosticLines(r.err, (dir_ / "bad-cluster.yaml").string());
  ASSERT_FALSE(lines.empty()) << "no file:line:col diagnostic in stderr: " << r.err;
  EXPECT_TRUE(lines.front() == 7 || lines.front() == 8) << "diagnostic at line " << lines.front() << ": " << r.err;
}

// A value of the wrong type is reported at its own line.
TEST_F(CheckConfigTest, WrongTypeExitsOneWithLine) {
  std::string yaml = Good();
  yaml.replace(0, yaml.find('\n'), "workers: lots");
  CommandResult r = Check("bad-type.yaml", yaml);
  EXPECT_EQ(r.exit_code, 1) << "stderr: " << r.err;
  auto lines = DiagnosticLines(r.err, (dir_ / "bad-type.yaml").string());
  ASSERT_FALSE(lines.empty()) << "no file:line:col diagnostic in stderr: " << r.err;
  EXPECT_EQ(lines.front(), 1) << r.err;
}

// Broken YAML syntax is reported as file:line:col too.
TEST_F(CheckConfigTest, SyntaxErrorExitsOneWithPosition) {
  CommandResult r = Check("bad-syntax.yaml",
                          "workers: 2\n"
                          "listeners:\n"
                          "  - name: public\n"
                          "    address: [127.0.0.1:8080\n"
                          "routes: {\n");
  EXPECT_EQ(r.exit_code, 1) << "stderr: " << r.err;
  EXPECT_FALSE(DiagnosticLines(r.err, (dir_ / "bad-syntax.yaml").string()).empty())
      << "no file:line:col diagnostic in stderr: " << r.err;
}

// A listener address that is not host:port is rejected.
TEST_F(CheckConfigTest, BadListenerAddressExitsOne) {
  std::string yaml = Good();
  auto pos = yaml.find("    address: 127.0.0.1:");
  yaml.replace(pos, yaml.find('\n', pos) - pos, "    address: not-an-address");
  CommandResult r = Check("bad-address.yaml", yaml);
  EXPECT_EQ(r.exit_code, 1) << "stderr: " << r.err;
  auto lines = DiagnosticLines(r.err, (dir_ / "bad-address.yaml").string());
  ASSERT_FALSE(lines.empty()) << "no file:line:col diagnostic in stderr: " << r.err;
  EXPECT_EQ(lines.front(), 5) << r.err;
}

// A missing file is an error (exit 1), not a crash.
TEST_F(CheckConfigTest, MissingFileExitsOne) {
  CommandResult r = RunCommand({ProxyBinary(), "--check-config", "--config", (dir_ / "nope.yaml").string()},
                               dir_.path(), 20000ms);
  EXPECT_EQ(r.exit_code, 1) << "stderr: " << r.err;
  EXPECT_NE(r.err.find("nope.yaml"), std::string::npos) << r.err;
}

// --version prints the version and exits 0.
TEST_F(CheckConfigTest, VersionExitsZero) {
  CommandResult r = RunCommand({ProxyBinary(), "--version"}, dir_.path(), 20000ms);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out + r.err, std::regex(R"(\d+\.\d+\.\d+)")))
      << "no version number in: " << r.out << r.err;
}

}  // namespace
}  // namespace sytest
