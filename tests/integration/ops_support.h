// Helpers for the operations tests (metrics, reload, drain, admin): a small
// HTTP/1.0 client for the admin endpoint, a Prometheus text parser, JSON
// parsing through protobuf's Struct, a unary load generator, and a fixture
// that starts the daemon from YAML text so top-level keys such as
// drain_timeout can be set.
#pragma once

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace sytest::ops {

// ------------------------------------------------------------------ HTTP

struct HttpResponse {
  int status = -1;   // -1: no parsable answer (see error)
  std::string head;  // status line and headers
  std::string body;
  std::string error;

  // Value of the first header named name (case-insensitive), "" if absent.
  std::string Header(const std::string& name) const {
    std::istringstream in(head);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto colon = line.find(':');
      if (colon == std::string::npos || colon != name.size()) continue;
      bool same = true;
      for (size_t i = 0; i < colon; ++i) {
        if (std::tolower(static_cast<unsigned char>(line[i])) != std::tolower(static_cast<unsigned char>(name[i]))) {
          same = false;
          break;
        }
      }
      if (!same) continue;
      std::string v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      return v;
    }
    return "";
  }
};

// One HTTP/1.0 request (the server closes after answering); bounded by timeout.
inline HttpResponse HttpCall(const std::string& address, const std::string& method, const std::string& path,
                             std::chrono::milliseconds timeout = 5000ms) {
  HttpResponse r;
  auto until = Clock::now() + timeout;
  int fd = ConnectTcp(address, timeout);
  if (fd < 0) {
    r.error = "cannot connect to " + address;
    return r;
  }
  std::string req = method + " " + path + " HTTP/1.0\r\nHost: " + address + "\r\n";
  if (method == "POST" || method == "PUT") req += "Content-Length: 0\r\n";
  req += "\r\n";
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      r.error = "send failed";
      return r;
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[16384];
  for (int i = 0; i < 100000; ++i) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) {
      r.error = "timed out reading the answer";
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) != 1) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (r.error.empty()) r.error = "no complete header in answer: " + raw.substr(0, 200);
    return r;
  }
  r.head = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  auto sp = r.head.find(' ');
  if (r.head.rfind("HTTP/1.", 0) == 0 && sp != std::string::npos) r.status = std::atoi(r.head.c_str() + sp + 1);
  return r;
}

// ---------------------------------------------------------- Prometheus text

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the sample lines of the Prometheus text format (comments skipped).
inline std::vector<Sample> ParseMetrics(const std::string& text) {
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') break;
        std::string key = line.substr(i, eq - i);
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    while (i < line.size() && line[i] == ' ') ++i;
    s.value = std::strtod(line.c_str() + i, nullptr);
    out.push_back(std::move(s));
  }
  return out;
}

// Samples named name whose labels include every pair in want.
inline std::vector<Sample> Select(const std::vector<Sample>& all, const std::string& name,
                                  const std::map<std::string, std::string>& want = {}) {
  std::vector<Sample> out;
  for (const auto& s : all) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : want) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) {
        match = false;
        break;
      }
    }
    if (match) out.push_back(s);
  }
  return out;
}

inline double Sum(const std::vector<Sample>& all, const std::string& name,
                  const std::map<std::string, std::string>& want = {}) {
  double total = 0;
  for (const auto& s : Select(all, name, want)) total += s.value;
  return total;
}

// ------------------------------------------------------------------ JSON

// Parses a JSON object; false (with the reason in *error) if it is not one.
inline bool ParseJsonObject(const std::string& text, google::protobuf::Struct* out, std::string* error) {
  auto st = google::protobuf::util::JsonStringToMessage(text, out);
  if (!st.ok()) {
    *error = st.ToString();
    return false;
  }
  return true;
}

inline const google::protobuf::Value* Field(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? nullptr : &it->second;
}

// -------------------------------------------------------------- gRPC calls

// A unary Echo call; *backend gets the x-backend trailer (falls back to the
// response field).
inline grpc::Status EchoUnary(switchyard::test::Echo::Stub* stub, std::string* backend = nullptr,
                              std::chrono::milliseconds deadline = 5000ms) {
  grpc::ClientContext ctx;
  ctx.set_deadline(In(deadline));
  switchyard::test::EchoRequest req;
  req.set_payload("ping");
  switchyard::test::EchoResponse resp;
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  if (backend != nullptr) {
    *backend = MetadataValue(ctx.GetServerTrailingMetadata(), "x-backend");
    if (backend->empty()) *backend = resp.backend();
  }
  return s;
}

// A unary call with an empty body to an arbitrary path.
inline grpc::Status GenericUnary(const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
                                 std::chrono::milliseconds deadline = 5000ms) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(In(deadline));
  grpc::Slice empty("");
  grpc::ByteBuffer req(&empty, 1);
  grpc::ByteBuffer resp;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status result;
  stub.UnaryCall(&ctx, path, grpc::StubOptions(), &req, &resp, [&](grpc::Status s) {
    std::lock_guard<std::mutex> g(mu);
    result = std::move(s);
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> g(mu);
  // The client deadline bounds the call; the extra margin only guards the wait.
  if (!cv.wait_for(g, deadline + 5000ms, [&] { return done; })) {
    ctx.TryCancel();
    cv.wait(g, [&] { return done; });
  }
  return result;
}

// Sends unary Echo calls back to back on one channel from a thread until
// stopped or max_duration passes, recording every outcome in order.
class UnaryLoad {
 public:
  struct Outcome {
    grpc::StatusCode code;
    std::string message;
    std::string backend;
    Clock::time_point started;
  };

  UnaryLoad(std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds max_duration = 20000ms)
      : stub_(switchyard::test::Echo::NewStub(std::move(channel))), max_duration_(max_duration) {
    thread_ = std::thread([this] { Run(); });
  }
  ~UnaryLoad() { Stop(); }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::vector<Outcome> Outcomes() const {
    std::lock_guard<std::mutex> g(mu_);
    return outcomes_;
  }
  size_t Count() const {
    std::lock_guard<std::mutex> g(mu_);
    return outcomes_.size();
  }
  // Waits until at least n calls have completed; false on timeout or when the
  // generator already finished.
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout) const {
    return WaitUntil([&] { return Count() >= n || finished_; }, timeout) && Count() >= n;
  }
  // Calls that did not end OK, described for messages.
  std::vector<std::string> Failures() const {
    std::vector<std::string> out;
    std::lock_guard<std::mutex> g(mu_);
    for (size_t i = 0; i < outcomes_.size(); ++i) {
      const auto& o = outcomes_[i];
      if (o.code != grpc::StatusCode::OK) {
        out.push_back("call #" + std::to_string(i) + ": code " + std::to_string(o.code) + " " + o.message);
      }
    }
    return out;
  }

 private:
  void Run() {
    auto until = Clock::now() + max_duration_;
    for (int i = 0; i < 1000000 && !stop_ && Clock::now() < until; ++i) {
      Outcome o;
      o.started = Clock::now();
      grpc::Status s = EchoUnary(stub_.get(), &o.backend);
      o.code = s.error_code();
      o.message = s.error_message();
      std::lock_guard<std::mutex> g(mu_);
      outcomes_.push_back(std::move(o));
    }
    finished_ = true;
  }

  std::unique_ptr<switchyard::test::Echo::Stub> stub_;
  std::chrono::milliseconds max_duration_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  mutable std::mutex mu_;
  std::vector<Outcome> outcomes_;
  std::thread thread_;
};

// -------------------------------------------------------------- fixture

class OpsTest : public ProxyTest {
 protected:
  // Flips the backend's grpc.health.v1 status through its control service.
  static void SetServing(Backend& b, bool serving) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(5000ms));
    switchyard::test::SetServingRequest req;
    req.set_serving(serving);
    switchyard::test::Empty resp;
    grpc::Status s = b.control->SetServing(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << "SetServing(" << serving << ") on " << b.name << ": " << s.error_message();
  }

  void TearDown() override {
    if (exited_proxy_ && HasFailure()) {
      std::cerr << "---- switchyard stderr (process that exited during the test)\n" << exited_proxy_->err() << "\n";
    }
    ProxyTest::TearDown();
  }

  // Writes top + config.ToYaml() as the configuration file.
  void WriteConfig(const ProxyConfig& config, const std::string& top = "") {
    WriteFile(config_path(), top + config.ToYaml());
  }

  // Like StartProxy, with extra top-level YAML (e.g. "drain_timeout: 10s\n"),
  // and also waits for the admin endpoint.
  void StartProxyWith(const ProxyConfig& config, const std::string& top = "") {
    if (config.listeners.empty()) throw std::runtime_error("StartProxyWith: no listeners");
    ASSERT_FALSE(config.admin_address.empty()) << "the ops tests always give the proxy its own admin port";
    WriteConfig(config, top);
    proxy_ = std::make_unique<ProcessGuard>(
        std::vector<std::string>{ProxyBinary(), "--config", config_path().string(), "--log-level", "info"},
        dir_ / "switchyard.out", dir_ / "switchyard.err");
    std::vector<std::pair<std::string, std::string>> ports;  // name, configured address
    for (const auto& l : config.listeners) ports.emplace_back(l.name, l.address);
    ports.emplace_back("admin", config.admin_address);
    proxy_address_.clear();
    for (const auto& [name, address] : ports) {
      std::string bound = WaitListening(*proxy_, name, address);
      ASSERT_TRUE(!bound.empty() && proxy_->running())
          << "switchyard did not start listening on " << address << "\nconfig:\n"
          << ReadFile(config_path()) << "\nstderr:\n" << proxy_->err();
      if (proxy_address_.empty()) proxy_address_ = bound;
      if (name == "admin") admin_address_ = bound;
    }
  }

  // Rewrites the configuration file and sends SIGHUP.
  void Reload(const ProxyConfig& config, const std::string& top = "") {
    WriteConfig(config, top);
    proxy_->signal(SIGHUP);
  }
  void ReloadText(const std::string& yaml) {
    WriteFile(config_path(), yaml);
    proxy_->signal(SIGHUP);
  }

  HttpResponse Admin(const std::string& path, const std::string& method = "GET") {
    return HttpCall(admin_address_, method, path);
  }

  // Scrapes /metrics; fails the test (non-fatally) and returns {} on error.
  std::vector<Sample> Scrape(std::string* raw = nullptr) {
    HttpResponse r = Admin("/metrics");
    EXPECT_EQ(r.status, 200) << r.error << r.head;
    if (raw != nullptr) *raw = r.body;
    return ParseMetrics(r.body);
  }

  double ReloadCount(const std::string& result) {
    return Sum(Scrape(), "switchyard_config_reloads_total", {{"result", result}});
  }

  // Waits for the daemon to exit on its own; on exit it is moved out of
  // proxy_ so the base fixture does not report it as a crash.
  std::optional<int> WaitProxyExit(std::chrono::milliseconds timeout) {
    auto code = proxy_->waitExit(timeout);
    if (code) exited_proxy_ = std::move(proxy_);
    return code;
  }
  std::string ProxyErr() const {
    if (proxy_) return proxy_->err();
    if (exited_proxy_) return exited_proxy_->err();
    return "";
  }

  // A listener or admin address for the config: port 0, the real one is read back.
  static std::string Loopback() { return "127.0.0.1:0"; }

  std::string admin_address_;
  std::unique_ptr<ProcessGuard> exited_proxy_;
};

inline int64_t Ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace sytest::ops
