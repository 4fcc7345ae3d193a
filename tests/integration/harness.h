// Integration-test harness: child processes (the daemon, test backends,
// openssl), loopback ports, config files, a throw-away PKI, and a fixture that
// wires them together. Every wait is bounded in both time and iterations, only
// loopback addresses are used, and only processes started here are signalled.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "echo.grpc.pb.h"
#include "helloworld.grpc.pb.h"

namespace sytest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Paths of the binaries under test, injected by CMake.
std::string ProxyBinary();
std::string BackendBinary();
std::string DemoClientBinary();

// A child process started with fork/exec. Its stdout and stderr go to files.
// The destructor stops it: SIGTERM, a bounded wait, then SIGKILL and reap.
// Only ever signals the PID it started, and never after reaping it.
class ProcessGuard {
 public:
  ProcessGuard(std::vector<std::string> argv, std::filesystem::path stdout_path, std::filesystem::path stderr_path);
  ~ProcessGuard();
  ProcessGuard(const ProcessGuard&) = delete;
  ProcessGuard& operator=(const ProcessGuard&) = delete;

  pid_t pid() const { return pid_; }
  // True while the child has not exited (reaps it if it has).
  bool running();
  // Sends SIGTERM, waits up to grace, then SIGKILL. Returns the wait status
  // (or the one collected earlier), -1 if the child was never started.
  int stop(std::chrono::milliseconds grace = 5000ms);
  // Waits up to timeout for the child to exit on its own; returns its exit
  // code (128+signal if killed by a signal) or nullopt on timeout.
  std::optional<int> waitExit(std::chrono::milliseconds timeout);
  // Sends SIGSTOP/SIGCONT etc. to the child only.
  void signal(int sig);

  std::string out() const;  // everything written to stdout so far
  std::string err() const;  // everything written to stderr so far
  const std::filesystem::path& stdoutPath() const { return stdout_path_; }
  const std::filesystem::path& stderrPath() const { return stderr_path_; }
  std::string describe() const;  // command line, for messages
  // Reaping a child whose stderr holds a ThreadSanitizer report fails the
  // running test with that report (see SanitizerReport in harness.cc).

 private:
  void reap(int status);
  std::vector<std::string> argv_;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = -1;
};

struct CommandResult {
  int exit_code = -1;  // -1: did not finish in time (it was killed)
  std::string out;
  std::string err;
};
// Runs a command to completion (bounded by timeout) in dir.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                         std::chrono::milliseconds timeout = 30000ms);

std::string ReadFile(const std::filesystem::path& path);
void WriteFile(const std::filesystem::path& path, const std::string& text);

// A fresh directory under $TMPDIR (or /tmp), removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  void keep() { keep_ = true; }

 private:
  std::filesystem::path path_;
  bool keep_ = false;
};

// A loopback address where connections are refused for as long as this object
// lives: a socket bound to 127.0.0.1:0 that never listens, so no other process
// can take the port meanwhile.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

// The address the daemon bound for a listener (`name`) or for the admin
// endpoint (name "admin"), as its log reports it: "listener NAME on ADDR" or
// "admin listening on HOST:PORT (port N)". With a configured port of 0 this is
// how a test learns the real port. Waits up to `timeout` for the line (and
// for no longer than the daemon runs); "" if it never came.
std::string BoundAddress(ProcessGuard& proxy, const std::string& name,
                         std::chrono::milliseconds timeout = 15000ms);
// For a configured address: the bound one read from the log if its port is 0,
// else the configured one once it accepts connections; "" on timeout.
std::string WaitListening(ProcessGuard& proxy, const std::string& name, const std::string& configured,
                          std::chrono::milliseconds timeout = 15000ms);
// Splits "host:port" or "[v6]:port".
bool SplitHostPort(const std::string& address, std::string* host, int* port);
// Connects a TCP socket to address ("127.0.0.1:1234", "[::1]:1234"); -1 on
// failure. The caller owns the fd.
int ConnectTcp(const std::string& address, std::chrono::milliseconds timeout = 2000ms);
// Polls until a TCP connect to address succeeds or timeout passes.
bool WaitForPort(const std::string& address, std::chrono::milliseconds timeout);
// VmRSS of a process in KiB, -1 if unknown.
long ReadRssKb(pid_t pid);

// The ASan/UBSan pass of scripts/test.sh runs the daemon several times slower
// and keeps freed memory in quarantine, and ThreadSanitizer (scripts/tsan.sh)
// runs it 5-15 times slower with shadow memory: memory, CPU and latency bounds
// are checked as written in the normal build and with this much slack there.
#if defined(__SANITIZE_ADDRESS__) || defined(SY_TSAN)  // SY_TSAN: see SY_PROTOBUF_MAP_OPTIONS
inline constexpr double kSanitizerSlack = 8;
#else
inline constexpr double kSanitizerSlack = 1;
#endif
// Polls pred every step until true or timeout; returns its last value.
bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds step = 10ms);
// True if this host can bind [::1].
bool Ipv6LoopbackAvailable();

// The daemon's YAML configuration (the public contract shape).
struct ListenerConfig {
  std::string name = "public";
  std::string address;
  std::string tls_cert;  // empty: cleartext h2c
  std::string tls_key;
};
struct RouteConfig {
  std::string service;
  std::string method;
  std::string prefix;
  std::string cluster;
  std::string timeout_default;  // e.g. "300ms"; empty: not set
  std::string timeout_max;
};
struct ClusterConfig {
  std::string name;
  std::vector<std::string> endpoints;
  std::vector<std::string> extra;  // further "key: value" lines of the cluster
};
struct ProxyConfig {
  int workers = 2;
  std::string admin_address;  // empty: no admin section
  std::vector<ListenerConfig> listeners;
  std::vector<RouteConfig> routes;
  std::vector<ClusterConfig> clusters;
  std::string routes_yaml;  // non-empty: the routes list as written, instead of `routes`
  // Further "key: value" lines of the listener with that name.
  std::map<std::string, std::vector<std::string>> listener_extra;
  // Endpoint weights of the cluster with that name: endpoint i is written
  // { address, weight: weights[i] } (the plain string form without one).
  std::map<std::string, std::vector<uint32_t>> endpoint_weights;
  std::string ToYaml() const;
};

// A CA and a server certificate for localhost / 127.0.0.1, made with the
// openssl CLI.
struct TestPki {
  std::filesystem::path ca_cert;
  std::filesystem::path server_cert;
  std::filesystem::path server_key;
};
// Returns false (with the openssl output in *error) if generation failed.
bool MakeTestPki(const std::filesystem::path& dir, TestPki* pki, std::string* error);

// A running sy_test_backend.
struct Backend {
  std::string name;
  std::string address;  // actual listening address
  std::unique_ptr<ProcessGuard> process;
  std::unique_ptr<switchyard::test::Control::Stub> control;

  switchyard::test::StatsResponse Stats();
  void Reset();
  int64_t Calls(const std::string& method);
};

// Channel options for clients.
struct ChannelOptions {
  int max_message_bytes = 64 * 1024 * 1024;
  bool gzip = false;
  std::string ca_pem;  // non-empty: TLS with this root, target name "localhost"
};
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, const ChannelOptions& options = {});

std::string MetadataValue(const std::multimap<grpc::string_ref, grpc::string_ref>& md, const std::string& key);

// Base fixture: starts backends and the daemon in a per-test temp dir and
// stops them on teardown (dumping their logs if the test failed).
class ProxyTest : public ::testing::Test {
 protected:
  void TearDown() override;

  // Starts a backend listening on address (port 0 = pick one) and waits
  // until it is ready. Fails the test (fatally) if it does not come up.
  Backend& StartBackend(const std::string& name, const std::string& address = "127.0.0.1:0");

  // Writes config and starts the daemon; waits for every listener to accept.
  void StartProxy(ProxyConfig config);
  // A config with one cleartext listener on a free port, routing
  // switchyard.test.Echo and helloworld.Greeter to cluster "echo" = backends.
  ProxyConfig DefaultConfig(const std::vector<const Backend*>& backends);

  // Address of the first listener.
  const std::string& proxy_address() const { return proxy_address_; }
  pid_t proxy_pid() const { return proxy_ ? proxy_->pid() : -1; }
  ProcessGuard* proxy() { return proxy_.get(); }
  std::unique_ptr<switchyard::test::Echo::Stub> EchoStub(const ChannelOptions& options = {});
  const TempDir& dir() const { return dir_; }
  std::filesystem::path config_path() const { return dir_ / "switchyard.yaml"; }

  TempDir dir_;
  std::vector<std::unique_ptr<Backend>> backends_;
  std::unique_ptr<ProcessGuard> proxy_;
  std::string proxy_address_;
  std::vector<std::string> backend_args_;  // further flags for backends started next
  int started_processes_ = 0;
};

// Deadline helper for client contexts.
inline std::chrono::system_clock::time_point In(std::chrono::milliseconds d) {
  return std::chrono::system_clock::now() + d;
}

// The backend's bidi step (see test_backend.cc).
inline uint64_t NextValue(uint64_t v) { return v * 6364136223846793005ULL + 1442695040888963407ULL; }
uint64_t Fnv1a(uint64_t h, const std::string& data);
constexpr uint64_t kFnvOffset = 14695981039346656037ULL;
// The backend's response payload for a given response_size and seq.
std::string Pattern(size_t size, int64_t seq);

// Large bodies through the proxy, checked byte for byte (one call each, 60 s
// deadline): `messages` messages of `size` bytes each way on one Bidi call,
// written and read at the same time, every echo carrying what was sent, in
// order; and the same on one ClientStream call, checked by the backend's
// checksum.
void ExpectBidiEchoesIntact(switchyard::test::Echo::Stub& stub, int messages, int size);
void ExpectClientStreamIntact(switchyard::test::Echo::Stub& stub, int messages, int size);

}  // namespace sytest
