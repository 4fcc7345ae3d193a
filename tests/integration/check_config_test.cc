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

// ---- --check-config runs what startup runs; the default config path ---------

namespace sytest {
namespace {

class StartupCheckTest : public CheckConfigTest {
 protected:
  // A valid file whose listener uses TLS with the given files.
  std::string WithTls(const std::string& cert, const std::string& key) {
    std::string yaml = Good();
    auto pos = yaml.find("    address: 127.0.0.1:");
    pos = yaml.find('\n', pos) + 1;
    yaml.insert(pos, "    tls: { cert: " + cert + ", key: " + key + " }\n");
    return yaml;
  }
  void MakePki(const std::string& sub, TestPki* pki) {
    std::filesystem::create_directories(dir_ / sub);
    std::string error;
    ASSERT_TRUE(MakeTestPki(dir_ / sub, pki, &error)) << error;
  }
};

// A good certificate and key pass, so the failures below are about the files.
TEST_F(StartupCheckTest, MatchingCertificateAndKeyPass) {
  TestPki pki;
  ASSERT_NO_FATAL_FAILURE(MakePki("pki", &pki));
  CommandResult r = Check("tls-good.yaml", WithTls(pki.server_cert.string(), pki.server_key.string()));
  EXPECT_EQ(r.exit_code, 0) << "stderr: " << r.err;
}

// A certificate file that is not PEM fails the check as it fails startup,
// naming the file and OpenSSL's reason.
TEST_F(StartupCheckTest, NonPemCertificateFails) {
  TestPki pki;
  ASSERT_NO_FATAL_FAILURE(MakePki("pki", &pki));
  WriteFile(dir_ / "garbage.crt", "this is not a certificate\n");
  std::string cert = (dir_ / "garbage.crt").string();
  CommandResult r = Check("tls-garbage.yaml", WithTls(cert, pki.server_key.string()));
  EXPECT_EQ(r.exit_code, 1) << "stdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find(cert + ": cannot load certificate: "), std::string::npos) << r.err;
  EXPECT_FALSE(DiagnosticLines(r.err, (dir_ / "tls-garbage.yaml").string()).empty()) << r.err;
}

// A key that belongs to another certificate fails, naming the key file and
// the certificate it does not match.
TEST_F(StartupCheckTest, MismatchedKeyFails) {
  TestPki one;
  TestPki two;
  ASSERT_NO_FATAL_FAILURE(MakePki("one", &one));
  ASSERT_NO_FATAL_FAILURE(MakePki("two", &two));
  CommandResult r = Check("tls-mismatch.yaml", WithTls(one.server_cert.string(), two.server_key.string()));
  EXPECT_EQ(r.exit_code, 1) << "stdout: " << r.out << "\nstderr: " << r.err;
  EXPECT_NE(r.err.find(two.server_key.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("does not match certificate " + one.server_cert.string()), std::string::npos) << r.err;
}

// --log-level is checked as a real run checks it.
TEST_F(StartupCheckTest, UnknownLogLevelFails) {
  WriteFile(dir_ / "good.yaml", Good());
  CommandResult r = RunCommand({ProxyBinary(), "--check-config", "--config", (dir_ / "good.yaml").string(),
                                "--log-level", "verbose"},
                               dir_.path(), 20000ms);
  EXPECT_NE(r.exit_code, 0) << "stdout: " << r.out;
  EXPECT_NE(r.err.find("unknown log level 'verbose'"), std::string::npos) << r.err;
  CommandResult ok = RunCommand({ProxyBinary(), "--check-config", "--config", (dir_ / "good.yaml").string(),
                                 "--log-level", "debug"},
                                dir_.path(), 20000ms);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

// Without --config the daemon reads /etc/switchyard/switchyard.yaml; when that
// file is missing the message names it.
TEST_F(StartupCheckTest, DefaultConfigPathIsNamedWhenMissing) {
  const std::string def = "/etc/switchyard/switchyard.yaml";
  if (std::filesystem::exists(def)) GTEST_SKIP() << def << " exists on this machine";
  for (std::vector<std::string> argv : {std::vector<std::string>{ProxyBinary()},
                                        std::vector<std::string>{ProxyBinary(), "--check-config"}}) {
    CommandResult r = RunCommand(argv, dir_.path(), 20000ms);
    EXPECT_EQ(r.exit_code, 1) << argv.size() << " args; stderr: " << r.err;
    EXPECT_NE(r.err.find(def), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace sytest
