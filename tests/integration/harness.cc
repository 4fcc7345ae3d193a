#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sytest {

namespace fs = std::filesystem;

std::string ProxyBinary() { return SY_BINARY; }
std::string BackendBinary() { return SY_TEST_BACKEND; }
std::string DemoClientBinary() { return SY_DEMO_CLIENT; }

// ---------------------------------------------------------------- processes

ProcessGuard::ProcessGuard(std::vector<std::string> argv, fs::path stdout_path, fs::path stderr_path)
    : argv_(std::move(argv)), stdout_path_(std::move(stdout_path)), stderr_path_(std::move(stderr_path)) {
  if (argv_.empty()) throw std::invalid_argument("ProcessGuard: empty argv");
  // Everything the child needs is prepared before fork: after fork only
  // async-signal-safe calls are allowed (the test process has threads).
  int out = ::open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || err < 0 || in < 0) {
    if (out >= 0) ::close(out);
    if (err >= 0) ::close(err);
    if (in >= 0) ::close(in);
    throw std::runtime_error("ProcessGuard: cannot open output files for " + argv_[0]);
  }
  std::vector<char*> cargv;
  for (auto& a : argv_) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid == 0) {
    // Child: die with the test process so nothing outlives a crashed test.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execvp(cargv[0], cargv.data());
    _exit(127);
  }
  ::close(out);
  ::close(err);
  ::close(in);
  if (pid < 0) throw std::runtime_error("ProcessGuard: fork failed: " + std::string(std::strerror(errno)));
  pid_ = pid;
}

ProcessGuard::~ProcessGuard() { stop(); }

// The child's stderr from the first ThreadSanitizer line on (a data race,
// a lock-order inversion, a crash under TSan), "" if there is none. The
// daemon and the test backends keep running after a report, so a race is
// caught here, when the child is reaped, rather than by its exit status.
namespace {
std::string SanitizerReport(const std::string& err) {
  auto pos = err.find("ThreadSanitizer");
  if (pos == std::string::npos) return "";
  auto line = err.rfind('\n', pos);
  return err.substr(line == std::string::npos ? 0 : line + 1, 12000);
}
}  // namespace

void ProcessGuard::reap(int status) {
  exited_ = true;
  status_ = status;
  std::string report = SanitizerReport(err());
  if (!report.empty()) ADD_FAILURE() << describe() << "\nwrote a sanitizer report:\n" << report;
}

bool ProcessGuard::running() {
  if (pid_ < 0 || exited_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reap(status);
    return false;
  }
  return true;
}

void ProcessGuard::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::optional<int> ProcessGuard::waitExit(std::chrono::milliseconds timeout) {
  auto until = Clock::now() + timeout;
  for (int i = 0; i < 1000000; ++i) {
    if (!running()) break;
    if (Clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  if (!exited_) return std::nullopt;
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

int ProcessGuard::stop(std::chrono::milliseconds grace) {
  if (pid_ < 0) return -1;
  if (!running()) return status_;
  ::kill(pid_, SIGCONT);  // in case a test stopped it
  ::kill(pid_, SIGTERM);
  if (waitExit(grace)) return status_;
  ::kill(pid_, SIGKILL);
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_) reap(status);
  return status_;
}

std::string ProcessGuard::out() const { return ReadFile(stdout_path_); }
std::string ProcessGuard::err() const { return ReadFile(stderr_path_); }

std::string ProcessGuard::describe() const {
  std::string s;
  for (const auto& a : argv_) s += (s.empty() ? "" : " ") + a;
  return s;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const fs::path& dir, std::chrono::milliseconds timeout) {
  static std::atomic<int> counter{0};
  int n = counter++;
  fs::path out = dir / ("cmd-" + std::to_string(n) + ".out");
  fs::path err = dir / ("cmd-" + std::to_string(n) + ".err");
  CommandResult result;
  {
    ProcessGuard p(argv, out, err);
    auto code = p.waitExit(timeout);
    if (!code) p.stop(1000ms);
    result.exit_code = code ? *code : -1;
  }
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  return result;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/sy-it-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  if (keep_) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// -------------------------------------------------------------------- network

ClosedPort::ClosedPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd_);
    throw std::runtime_error("cannot bind 127.0.0.1:0");
  }
  address_ = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

ClosedPort::~ClosedPort() { ::close(fd_); }

namespace {

// The first address the log reports for `name` (see BoundAddress), or "".
std::string FindBoundAddress(const std::string& log, const std::string& name) {
  std::istringstream in(log);
  std::string line;
  const std::string listener = "listener " + name + " on ";
  const std::string admin = "admin listening on ";
  while (std::getline(in, line)) {
    if (name == "admin") {
      size_t at = line.find(admin);
      size_t port_at = line.find(" (port ", at == std::string::npos ? 0 : at);
      if (at == std::string::npos || port_at == std::string::npos) continue;
      std::string configured = line.substr(at + admin.size(), port_at - at - admin.size());
      std::string host;
      int port = 0;
      if (!SplitHostPort(configured, &host, &port)) continue;
      std::string bound_port = line.substr(port_at + 7, line.find(')', port_at) - port_at - 7);
      return configured.substr(0, configured.rfind(':') + 1) + bound_port;
    }
    size_t at = line.find(listener);
    if (at == std::string::npos) continue;
    size_t begin = at + listener.size();
    return line.substr(begin, line.find(' ', begin) - begin);
  }
  return "";
}

}  // namespace

std::string BoundAddress(ProcessGuard& proxy, const std::string& name, std::chrono::milliseconds timeout) {
  std::string found;
  WaitUntil([&] {
    found = FindBoundAddress(proxy.err(), name);
    return !found.empty() || !proxy.running();
  }, timeout, 10ms);
  return found;
}

std::string WaitListening(ProcessGuard& proxy, const std::string& name, const std::string& configured,
                          std::chrono::milliseconds timeout) {
  std::string host;
  int port = -1;
  if (SplitHostPort(configured, &host, &port) && port == 0) return BoundAddress(proxy, name, timeout);
  bool up = WaitUntil([&] { return !proxy.running() || WaitForPort(configured, 100ms); }, timeout, 10ms);
  return up && proxy.running() ? configured : "";
}

bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string h = address.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  try {
    *port = std::stoi(address.substr(colon + 1));
  } catch (...) {
    return false;
  }
  *host = h;
  return true;
}

int ConnectTcp(const std::string& address, std::chrono::milliseconds timeout) {
  std::string host;
  int port = 0;
  if (!SplitHostPort(address, &host, &port)) return -1;
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) return -1;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    return -1;
  }
  int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      ::close(fd);
      return -1;
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (soerr != 0) {
      ::close(fd);
      return -1;
    }
  }
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

bool WaitForPort(const std::string& address, std::chrono::milliseconds timeout) {
  auto until = Clock::now() + timeout;
  for (int i = 0; i < 100000 && Clock::now() < until; ++i) {
    int fd = ConnectTcp(address, 200ms);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

long ReadRssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout, std::chrono::milliseconds step) {
  auto until = Clock::now() + timeout;
  for (int i = 0; i < 1000000; ++i) {
    if (pred()) return true;
    if (Clock::now() >= until) break;
    std::this_thread::sleep_for(step);
  }
  return pred();
}

bool Ipv6LoopbackAvailable() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// --------------------------------------------------------------------- config

namespace {
std::string Quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}
}  // namespace

std::string ProxyConfig::ToYaml() const {
  std::ostringstream y;
  y << "workers: " << workers << "\n";
  if (!admin_address.empty()) y << "admin: { address: " << Quote(admin_address) << " }\n";
  y << "listeners:\n";
  for (const auto& l : listeners) {
    y << "  - name: " << Quote(l.name) << "\n";
    y << "    address: " << Quote(l.address) << "\n";
    if (!l.tls_cert.empty()) y << "    tls: { cert: " << Quote(l.tls_cert) << ", key: " << Quote(l.tls_key) << " }\n";
    if (auto it = listener_extra.find(l.name); it != listener_extra.end()) {
      for (const auto& line : it->second) y << "    " << line << "\n";
    }
  }
  y << "routes:\n" << routes_yaml;
  for (const auto& r : routes_yaml.empty() ? routes : std::vector<RouteConfig>{}) {
    y << "  - match: { ";
    if (!r.prefix.empty()) {
      y << "prefix: " << Quote(r.prefix);
    } else {
      y << "service: " << Quote(r.service);
      if (!r.method.empty()) y << ", method: " << Quote(r.method);
    }
    y << " }\n";
    y << "    cluster: " << Quote(r.cluster) << "\n";
    if (!r.timeout_default.empty() || !r.timeout_max.empty()) {
      y << "    timeout: { ";
      if (!r.timeout_default.empty()) y << "default: " << r.timeout_default;
      if (!r.timeout_default.empty() && !r.timeout_max.empty()) y << ", ";
      if (!r.timeout_max.empty()) y << "max: " << r.timeout_max;
      y << " }\n";
    }
  }
  y << "clusters:\n";
  for (const auto& c : clusters) {
    y << "  - name: " << Quote(c.name) << "\n";
    y << "    endpoints: [";
    auto weights = endpoint_weights.find(c.name);
    for (size_t i = 0; i < c.endpoints.size(); ++i) {
      y << (i ? ", " : "");
      if (weights != endpoint_weights.end() && i < weights->second.size()) {
        y << "{ address: " << Quote(c.endpoints[i]) << ", weight: " << weights->second[i] << " }";
      } else {
        y << Quote(c.endpoints[i]);
      }
    }
    y << "]\n";
    for (const auto& line : c.extra) y << "    " << line << "\n";
  }
  return y.str();
}

// ------------------------------------------------------------------------ PKI

bool MakeTestPki(const fs::path& dir, TestPki* pki, std::string* error) {
  WriteFile(dir / "ca.cnf",
            "[req]\n"
            "distinguished_name = dn\n"
            "prompt = no\n"
            "x509_extensions = v3_ca\n"
            "[dn]\n"
            "CN = Switchyard Test CA\n"
            "[v3_ca]\n"
            "basicConstraints = critical, CA:TRUE\n"
            "keyUsage = critical, keyCertSign, cRLSign\n"
            "subjectKeyIdentifier = hash\n");
  WriteFile(dir / "server.cnf",
            "[req]\n"
            "distinguished_name = dn\n"
            "prompt = no\n"
            "[dn]\n"
            "CN = localhost\n"
            "[v3_server]\n"
            "basicConstraints = CA:FALSE\n"
            "keyUsage = critical, digitalSignature, keyEncipherment\n"
            "extendedKeyUsage = serverAuth\n"
            "subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1\n"
            "subjectKeyIdentifier = hash\n"
            "authorityKeyIdentifier = keyid\n");
  const std::string d = dir.string();
  const std::vector<std::vector<std::string>> steps = {
      {"openssl", "req", "-x509", "-config", d + "/ca.cnf", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d + "/ca.key", "-out", d + "/ca.crt", "-days", "2"},
      {"openssl", "req", "-new", "-config", d + "/server.cnf", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d + "/server.key", "-out", d + "/server.csr"},
      {"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key",
       "-CAcreateserial", "-out", d + "/server.crt", "-days", "2", "-extfile", d + "/server.cnf", "-extensions",
       "v3_server"},
  };
  for (const auto& step : steps) {
    CommandResult r = RunCommand(step, dir, 30000ms);
    if (r.exit_code != 0) {
      *error = "openssl failed (" + std::to_string(r.exit_code) + "): " + r.err;
      return false;
    }
  }
  pki->ca_cert = dir / "ca.crt";
  pki->server_cert = dir / "server.crt";
  pki->server_key = dir / "server.key";
  return true;
}

// ------------------------------------------------------------------- backends

switchyard::test::StatsResponse Backend::Stats() {
  grpc::ClientContext ctx;
  ctx.set_deadline(In(5000ms));
  switchyard::test::StatsResponse resp;
  grpc::Status s = control->Stats(&ctx, switchyard::test::StatsRequest(), &resp);
  if (!s.ok()) ADD_FAILURE() << "Control.Stats on " << name << " failed: " << s.error_message();
  return resp;
}

void Backend::Reset() {
  grpc::ClientContext ctx;
  ctx.set_deadline(In(5000ms));
  switchyard::test::Empty resp;
  grpc::Status s = control->Reset(&ctx, switchyard::test::Empty(), &resp);
  if (!s.ok()) ADD_FAILURE() << "Control.Reset on " << name << " failed: " << s.error_message();
}

int64_t Backend::Calls(const std::string& method) {
  auto stats = Stats();
  auto it = stats.calls().find(method);
  return it == stats.calls().end() ? 0 : it->second;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, const ChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  // Each channel gets its own connection, and no client-side retries hide
  // what the proxy answered.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  if (options.gzip) args.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!options.ca_pem.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.ca_pem;
    creds = grpc::SslCredentials(ssl);
    args.SetSslTargetNameOverride("localhost");
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  return grpc::CreateCustomChannel(address, creds, args);
}

std::string MetadataValue(const std::multimap<grpc::string_ref, grpc::string_ref>& md, const std::string& key) {
  auto it = md.find(key);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

uint64_t Fnv1a(uint64_t h, const std::string& data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string Pattern(size_t size, int64_t seq) {
  std::string s(size, '\0');
  for (size_t j = 0; j < size; ++j) s[j] = static_cast<char>('a' + (static_cast<uint64_t>(seq) + j) % 26);
  return s;
}

void ExpectBidiEchoesIntact(switchyard::test::Echo::Stub& stub, int messages, int size) {
  grpc::ClientContext ctx;
  ctx.set_deadline(In(std::chrono::seconds(60)));
  auto stream = stub.Bidi(&ctx);
  std::thread writer([&] {
    for (int i = 0; i < messages; ++i) {
      switchyard::test::EchoRequest req;
      req.set_payload(Pattern(static_cast<size_t>(size), 1000 + i));
      if (!stream->Write(req)) return;
    }
    stream->WritesDone();
  });
  int n = 0, bad = 0;
  switchyard::test::EchoResponse resp;
  while (n < messages + 1 && stream->Read(&resp)) {
    if (resp.payload() != Pattern(static_cast<size_t>(size), 1000 + n)) bad++;
    n++;
  }
  writer.join();
  grpc::Status s = stream->Finish();
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message() << " after " << n << " messages";
  EXPECT_EQ(n, messages);
  EXPECT_EQ(bad, 0);
}

void ExpectClientStreamIntact(switchyard::test::Echo::Stub& stub, int messages, int size) {
  grpc::ClientContext ctx;
  ctx.set_deadline(In(std::chrono::seconds(60)));
  switchyard::test::EchoResponse summary;
  auto up = stub.ClientStream(&ctx, &summary);
  uint64_t checksum = kFnvOffset;
  for (int i = 0; i < messages; ++i) {
    switchyard::test::EchoRequest req;
    req.set_payload(Pattern(static_cast<size_t>(size), i));
    checksum = Fnv1a(checksum, req.payload());
    ASSERT_TRUE(up->Write(req));
  }
  ASSERT_TRUE(up->WritesDone());
  grpc::Status s = up->Finish();
  ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  EXPECT_EQ(summary.received_messages(), messages);
  EXPECT_EQ(summary.received_bytes(), static_cast<int64_t>(messages) * size);
  EXPECT_EQ(summary.checksum(), checksum);
}

// -------------------------------------------------------------------- fixture

namespace {
std::string Tail(const std::string& s, size_t n = 6000) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }
}  // namespace

Backend& ProxyTest::StartBackend(const std::string& name, const std::string& address) {
  auto b = std::make_unique<Backend>();
  b->name = name;
  int n = started_processes_++;
  std::string stem = "backend-" + std::to_string(n) + "-" + name;
  std::vector<std::string> argv{BackendBinary(), "--address", address, "--name", name};
  argv.insert(argv.end(), backend_args_.begin(), backend_args_.end());
  b->process = std::make_unique<ProcessGuard>(argv, dir_ / (stem + ".out"), dir_ / (stem + ".err"));
  std::string ready;
  bool up = WaitUntil(
      [&] {
        std::string out = b->process->out();
        auto pos = out.find("ready ");
        auto nl = out.find('\n', pos == std::string::npos ? 0 : pos);
        if (pos == std::string::npos || nl == std::string::npos) return !b->process->running();
        ready = out.substr(pos + 6, nl - pos - 6);
        return true;
      },
      15000ms, 10ms);
  if (!up || ready.empty()) {
    throw std::runtime_error("backend " + name + " did not become ready on " + address +
                             "; stderr: " + Tail(b->process->err()));
  }
  b->address = ready.substr(0, ready.find(' '));
  b->control = switchyard::test::Control::NewStub(MakeChannel(b->address));
  backends_.push_back(std::move(b));
  return *backends_.back();
}

void ProxyTest::StartProxy(ProxyConfig config) {
  if (config.listeners.empty()) throw std::runtime_error("StartProxy: no listeners");
  WriteFile(config_path(), config.ToYaml());
  proxy_address_.clear();
  proxy_ = std::make_unique<ProcessGuard>(
      std::vector<std::string>{ProxyBinary(), "--config", config_path().string(), "--log-level", "info"},
      dir_ / "switchyard.out", dir_ / "switchyard.err");
  for (const auto& l : config.listeners) {
    std::string bound = WaitListening(*proxy_, l.name, l.address);
    if (proxy_address_.empty()) proxy_address_ = bound;
    if (bound.empty() || !proxy_->running()) {
      throw std::runtime_error("switchyard did not start listening on " + l.address + "\nconfig:\n" +
                               config.ToYaml() + "\nstderr:\n" + Tail(proxy_->err()) + "\nstdout:\n" +
                               Tail(proxy_->out()));
    }
  }
}

ProxyConfig ProxyTest::DefaultConfig(const std::vector<const Backend*>& backends) {
  ProxyConfig c;
  c.admin_address = "127.0.0.1:0";
  c.listeners.push_back({"public", "127.0.0.1:0", "", ""});
  c.routes.push_back({"switchyard.test.Echo", "", "", "echo", "", ""});
  c.routes.push_back({"helloworld.Greeter", "", "", "echo", "", ""});
  ClusterConfig cluster{"echo", {}, {}};
  for (const auto* b : backends) cluster.endpoints.push_back(b->address);
  c.clusters.push_back(cluster);
  return c;
}

std::unique_ptr<switchyard::test::Echo::Stub> ProxyTest::EchoStub(const ChannelOptions& options) {
  return switchyard::test::Echo::NewStub(MakeChannel(proxy_address_, options));
}

void ProxyTest::TearDown() {
  if (proxy_ && !proxy_->running()) {
    int code = proxy_->waitExit(0ms).value_or(-1);
    ADD_FAILURE() << "switchyard exited during the test (exit " << code << "); stderr:\n" << Tail(proxy_->err());
  }
  if (proxy_) {
    int status = proxy_->stop(5000ms);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !HasFailure()) {
      std::cerr << "note: switchyard did not exit 0 on SIGTERM within 5 s (wait status " << status << ")\n";
    }
  }
  for (auto& b : backends_) {
    b->control.reset();  // close the control connection so shutdown need not wait for it
    b->process->stop(3000ms);
  }
  if (HasFailure()) {
    dir_.keep();
    std::cerr << "---- test files kept in " << dir_.path() << "\n";
    if (proxy_) {
      std::cerr << "---- switchyard stderr (tail)\n" << Tail(proxy_->err(), 4000) << "\n";
      std::cerr << "---- switchyard stdout (tail)\n" << Tail(proxy_->out(), 2000) << "\n";
    }
  }
}

}  // namespace sytest
