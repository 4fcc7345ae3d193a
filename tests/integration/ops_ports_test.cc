// Startup rules an operator relies on: a listener port another process holds
// (another switchyard, or any socket, even with SO_REUSEPORT) makes startup
// fail with a clear error instead of silently sharing the port; overlapping
// wildcard/specific addresses in one file are rejected by --check-config; and
// `workers: auto` follows the CPU affinity mask (taskset).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <regex>

#include "harness.h"

namespace sytest {
namespace {

// A listening TCP socket owned by the test, optionally with SO_REUSEPORT.
class HeldPort {
 public:
  HeldPort(const std::string& ip, bool reuseport) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport) ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = 0;
    inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 16) == 0;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~HeldPort() { ::close(fd_); }
  bool ok() const { return ok_; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
  int port_ = 0;
};

class StartupRulesTest : public ::testing::Test {
 protected:
  std::string Yaml(const std::string& listeners, const std::string& workers = "1") {
    return "workers: " + workers +
           "\n"
           "admin: { address: \"\" }\n"
           "listeners:\n" +
           listeners +
           "routes:\n"
           "  - match: { prefix: / }\n"
           "    cluster: echo\n"
           "clusters:\n"
           "  - name: echo\n"
           "    endpoints: [127.0.0.1:1]\n";
  }
  static std::string Listener(const std::string& name, const std::string& address) {
    return "  - name: " + name + "\n    address: \"" + address + "\"\n";
  }
  // Starts the daemon on yaml (argv prefix e.g. taskset) and waits for its
  // ready line; returns nullptr (test failed) if it does not come up.
  std::unique_ptr<ProcessGuard> Start(const std::string& name, const std::string& yaml,
                                      std::vector<std::string> prefix = {}) {
    WriteFile(dir_ / (name + ".yaml"), yaml);
    prefix.insert(prefix.end(), {ProxyBinary(), "--config", (dir_ / (name + ".yaml")).string()});
    auto p = std::make_unique<ProcessGuard>(prefix, dir_ / (name + ".out"), dir_ / (name + ".err"));
    bool up = WaitUntil([&] { return p->err().find(" ready: ") != std::string::npos || !p->running(); },
                        30000ms);
    if (!up || !p->running()) {
      ADD_FAILURE() << name << " did not start: " << p->err();
      return nullptr;
    }
    return p;
  }
  // Runs the daemon on yaml, expecting it to exit during startup.
  CommandResult StartExpectingExit(const std::string& name, const std::string& yaml) {
    WriteFile(dir_ / (name + ".yaml"), yaml);
    ProcessGuard p({ProxyBinary(), "--config", (dir_ / (name + ".yaml")).string()}, dir_ / (name + ".out"),
                   dir_ / (name + ".err"));
    CommandResult r;
    r.exit_code = p.waitExit(20000ms).value_or(-1);
    r.out = p.out();
    r.err = p.err();
    return r;
  }
  static int BoundPort(const std::string& log) {
    std::smatch m;
    if (!std::regex_search(log, m, std::regex(R"(listener public on 127\.0\.0\.1:(\d+))"))) return -1;
    return std::stoi(m[1]);
  }
  TempDir dir_;
};

// A second switchyard on the first one's address exits non-zero and says why;
// the first keeps running.
TEST_F(StartupRulesTest, SecondInstanceOnTheSamePortFails) {
  auto first = Start("first", Yaml(Listener("public", "127.0.0.1:0")));
  ASSERT_TRUE(first);
  int port = BoundPort(first->err());
  ASSERT_GT(port, 0) << first->err();
  std::string address = "127.0.0.1:" + std::to_string(port);
  CommandResult second = StartExpectingExit("second", Yaml(Listener("public", address)));
  EXPECT_EQ(second.exit_code, 1) << "the second instance kept running (-1) or crashed: " << second.err;
  EXPECT_NE(second.err.find("cannot listen on " + address), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("Address already in use"), std::string::npos) << second.err;
  EXPECT_TRUE(first->running());
}

// Any other socket on the port counts, even one that set SO_REUSEPORT itself,
// and a wildcard socket takes the port on every address.
TEST_F(StartupRulesTest, PortHeldByAnotherSocketFails) {
  HeldPort specific("127.0.0.1", /*reuseport=*/true);
  ASSERT_TRUE(specific.ok());
  CommandResult r = StartExpectingExit(
      "specific", Yaml(Listener("public", "127.0.0.1:" + std::to_string(specific.port()))));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Address already in use"), std::string::npos) << r.err;

  HeldPort wildcard("0.0.0.0", /*reuseport=*/true);
  ASSERT_TRUE(wildcard.ok());
  r = StartExpectingExit("wildcard", Yaml(Listener("public", "127.0.0.1:" + std::to_string(wildcard.port()))));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Address already in use"), std::string::npos) << r.err;
}

// A reload that renames a listener keeps its port: this daemon already
// holds it, so the new listener shares it instead of failing as taken.
TEST_F(StartupRulesTest, ReloadRenamingAListenerKeepsItsPort) {
  auto p = Start("rename", Yaml(Listener("public", "127.0.0.1:0")));
  ASSERT_TRUE(p);
  int port = BoundPort(p->err());
  ASSERT_GT(port, 0) << p->err();
  std::string address = "127.0.0.1:" + std::to_string(port);
  WriteFile(dir_ / "rename.yaml", Yaml(Listener("renamed", address)));
  p->signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] {
    return p->err().find("reload complete") != std::string::npos ||
           p->err().find("reload rejected") != std::string::npos;
  }, 20000ms)) << p->err();
  EXPECT_EQ(p->err().find("reload rejected"), std::string::npos) << p->err();
  EXPECT_NE(p->err().find("listener public removed"), std::string::npos) << p->err();
  int fd = ConnectTcp(address);
  EXPECT_GE(fd, 0) << "nothing listens on " << address << " after the reload";
  if (fd >= 0) ::close(fd);
}

// 127.0.0.1:P and 0.0.0.0:P in one file: rejected with file:line:col.
TEST_F(StartupRulesTest, OverlappingListenerAddressesAreRejected) {
  const int port = 18443;  // only --check-config reads it, which binds nothing
  std::string yaml = Yaml(Listener("public", "127.0.0.1:" + std::to_string(port)) +
                          Listener("everywhere", "0.0.0.0:" + std::to_string(port)));
  WriteFile(dir_ / "overlap.yaml", yaml);
  CommandResult r =
      RunCommand({ProxyBinary(), "--check-config", "--config", (dir_ / "overlap.yaml").string()}, dir_.path(),
                 20000ms);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  std::string where = (dir_ / "overlap.yaml").string() + ":7:";  // the second listener's address
  EXPECT_NE(r.err.find(where), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("overlaps"), std::string::npos) << r.err;
}

// The same for a listener on the admin endpoint's port.
TEST_F(StartupRulesTest, ListenerOverlappingAdminIsRejected) {
  const int port = 18443;  // only --check-config reads it, which binds nothing
  std::string yaml = Yaml(Listener("public", "0.0.0.0:" + std::to_string(port)));
  const std::string no_admin = "admin: { address: \"\" }";
  yaml.replace(yaml.find(no_admin), no_admin.size(),
               "admin: { address: \"127.0.0.1:" + std::to_string(port) + "\" }");
  WriteFile(dir_ / "admin.yaml", yaml);
  CommandResult r = RunCommand({ProxyBinary(), "--check-config", "--config", (dir_ / "admin.yaml").string()},
                               dir_.path(), 20000ms);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("overlaps admin.address"), std::string::npos) << r.err;
}

// workers: auto counts the CPUs the process may run on: under taskset -c 0
// it starts one worker, and says so at startup.
TEST_F(StartupRulesTest, AutoWorkersFollowTheAffinityMask) {
  if (RunCommand({"taskset", "--version"}, dir_.path(), 10000ms).exit_code != 0) {
    GTEST_SKIP() << "taskset is not installed";
  }
  auto p = Start("pinned", Yaml(Listener("public", "127.0.0.1:0"), "auto"), {"taskset", "-c", "0"});
  ASSERT_TRUE(p);
  EXPECT_NE(p->err().find("ready: 1 workers"), std::string::npos) << p->err();
  EXPECT_NE(p->err().find("workers: auto = 1 (1 CPU in the affinity mask"), std::string::npos) << p->err();
}

}  // namespace
}  // namespace sytest
