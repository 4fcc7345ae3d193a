// Helpers for the resilience tests (health checks, outlier ejection, retries,
// DNS): a multi-threaded unary load generator that records every outcome with
// its timing, a view of /clusters, backends whose misbehaviour does not depend
// on the request (an in-process gRPC Echo server with a fixed failure mode, a
// raw HTTP/2 server that refuses every stream, a socket that never accepts),
// and a fixture that starts the daemon from generated YAML with per-route
// extras such as a retry policy.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ops_support.h"

namespace sytest::resilience {

using ops::Ms;
using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

// ------------------------------------------------------------ client calls

struct Call {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string message;
  std::string backend;  // x-backend trailer, else the response's backend field
  Clock::time_point start;
  Clock::time_point end;
  bool ok() const { return code == grpc::StatusCode::OK; }
  int64_t ms() const { return Ms(end - start); }
};

inline std::string Describe(const Call& c) {
  return "code " + std::to_string(c.code) + " after " + std::to_string(c.ms()) + " ms from '" + c.backend +
         "': " + c.message;
}

// One unary Echo call with a client deadline; the backend sleeps sleep_ms.
inline Call UnaryCall(switchyard::test::Echo::Stub* stub, std::chrono::milliseconds deadline, int sleep_ms = 0) {
  Call c;
  grpc::ClientContext ctx;
  ctx.set_deadline(In(deadline));
  EchoRequest req;
  req.set_payload("resilience");
  req.set_sleep_ms(sleep_ms);
  EchoResponse resp;
  c.start = Clock::now();
  grpc::Status s = stub->Unary(&ctx, req, &resp);
  c.end = Clock::now();
  c.code = s.error_code();
  c.message = s.error_message();
  c.backend = MetadataValue(ctx.GetServerTrailingMetadata(), "x-backend");
  if (c.backend.empty()) c.backend = resp.backend();
  return c;
}

// A channel that has finished connecting (so connection setup does not count
// against the timing of the first call); false if it did not within timeout.
inline bool Connect(const std::shared_ptr<grpc::Channel>& channel, std::chrono::milliseconds timeout = 5000ms) {
  return channel->WaitForConnected(In(timeout));
}

// `threads` client threads, each with its own channel (its own connection to
// the proxy), send unary Echo calls back to back until Stop() or max_duration.
class Load {
 public:
  Load(const std::string& proxy, int threads, int sleep_ms, std::chrono::milliseconds deadline = 3000ms,
       std::chrono::milliseconds max_duration = 30000ms)
      : sleep_ms_(sleep_ms), deadline_(deadline), until_(Clock::now() + max_duration) {
    for (int i = 0; i < threads; ++i) {
      auto channel = MakeChannel(proxy);
      Connect(channel);
      stubs_.push_back(switchyard::test::Echo::NewStub(channel));
    }
    per_thread_.assign(static_cast<size_t>(threads), 0);
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this, i] { Run(i); });
  }
  ~Load() { Stop(); }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  std::vector<Call> Calls() const {
    std::lock_guard<std::mutex> g(mu_);
    return calls_;
  }
  size_t Count() const {
    std::lock_guard<std::mutex> g(mu_);
    return calls_.size();
  }
  // Waits until n more calls than now have completed.
  bool WaitForMore(size_t n, std::chrono::milliseconds timeout) const {
    size_t target = Count() + n;
    return WaitUntil([&] { return Count() >= target; }, timeout, 5ms);
  }
  // Waits until every thread has finished the call it had in flight and one
  // more after it: from then on no thread has a call that started earlier.
  bool WaitForEachThread(std::chrono::milliseconds timeout) const {
    std::vector<size_t> target;
    {
      std::lock_guard<std::mutex> g(mu_);
      for (size_t n : per_thread_) target.push_back(n + 2);
    }
    return WaitUntil(
        [&] {
          std::lock_guard<std::mutex> g(mu_);
          for (size_t i = 0; i < target.size(); ++i) {
            if (per_thread_[i] < target[i]) return false;
          }
          return true;
        },
        timeout, 5ms);
  }

 private:
  void Run(int i) {
    for (int k = 0; k < 1000000 && !stop_ && Clock::now() < until_; ++k) {
      Call c = UnaryCall(stubs_[static_cast<size_t>(i)].get(), deadline_, sleep_ms_);
      std::lock_guard<std::mutex> g(mu_);
      calls_.push_back(std::move(c));
      ++per_thread_[static_cast<size_t>(i)];
    }
  }

  int sleep_ms_;
  std::chrono::milliseconds deadline_;
  Clock::time_point until_;
  std::vector<std::unique_ptr<switchyard::test::Echo::Stub>> stubs_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::vector<size_t> per_thread_;  // calls completed by each thread
};

inline std::vector<Call> Failed(const std::vector<Call>& calls) {
  std::vector<Call> out;
  for (const auto& c : calls) {
    if (!c.ok()) out.push_back(c);
  }
  return out;
}

inline std::string DescribeAll(const std::vector<Call>& calls, size_t max = 10) {
  std::string s;
  for (size_t i = 0; i < calls.size() && i < max; ++i) s += "\n  " + Describe(calls[i]);
  if (calls.size() > max) s += "\n  ... (" + std::to_string(calls.size() - max) + " more)";
  return s;
}

// Calls (by x-backend) answered by name.
inline size_t AnsweredBy(const std::vector<Call>& calls, const std::string& name) {
  return static_cast<size_t>(std::count_if(calls.begin(), calls.end(),
                                           [&](const Call& c) { return c.ok() && c.backend == name; }));
}

// ------------------------------------------------------- in-process backend

// A gRPC server in the test process serving switchyard.test.Echo with a fixed
// behaviour whatever the request says, and recording the
// grpc-previous-rpc-attempts header of every call.
class ScriptedEcho {
 public:
  enum class Mode {
    Ok,                       // Unary answers; ServerStream sends one message then OK
    UnavailableTrailersOnly,  // UNAVAILABLE with no response headers/messages first
    MessageThenUnavailable,   // ServerStream: one message, then UNAVAILABLE in trailers
  };

  ScriptedEcho(std::string name, Mode mode) : service_(std::move(name), mode) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    if (!server_ || port == 0) throw std::runtime_error("ScriptedEcho: cannot listen on 127.0.0.1:0");
    address_ = "127.0.0.1:" + std::to_string(port);
  }
  ~ScriptedEcho() {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_->Wait();
  }
  ScriptedEcho(const ScriptedEcho&) = delete;
  ScriptedEcho& operator=(const ScriptedEcho&) = delete;

  const std::string& address() const { return address_; }
  const std::string& name() const { return service_.name; }
  // Value of grpc-previous-rpc-attempts per call, in arrival order ("" = absent).
  std::vector<std::string> PreviousAttempts() const {
    std::lock_guard<std::mutex> g(service_.mu);
    return service_.previous_attempts;
  }
  size_t Calls() const { return PreviousAttempts().size(); }

 private:
  struct Service final : public switchyard::test::Echo::Service {
    Service(std::string n, Mode m) : name(std::move(n)), mode(m) {}

    void Record(grpc::ServerContext* ctx) {
      std::string v;
      const auto& md = ctx->client_metadata();
      auto it = md.find("grpc-previous-rpc-attempts");
      if (it != md.end()) v.assign(it->second.data(), it->second.size());
      ctx->AddTrailingMetadata("x-backend", name);
      std::lock_guard<std::mutex> g(mu);
      previous_attempts.push_back(v);
    }
    grpc::Status Unary(grpc::ServerContext* ctx, const EchoRequest* req, EchoResponse* resp) override {
      Record(ctx);
      if (mode != Mode::Ok) return grpc::Status(grpc::StatusCode::UNAVAILABLE, name + " is failing on purpose");
      resp->set_payload(req->payload());
      resp->set_backend(name);
      return grpc::Status::OK;
    }
    grpc::Status ServerStream(grpc::ServerContext* ctx, const EchoRequest* req,
                              grpc::ServerWriter<EchoResponse>* writer) override {
      Record(ctx);
      if (mode == Mode::UnavailableTrailersOnly) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, name + " is failing on purpose");
      }
      EchoResponse resp;
      resp.set_payload(req->payload());
      resp.set_backend(name);
      // Response headers and one message go out before the status, so a
      // failure then arrives in trailers, not Trailers-Only.
      writer->Write(resp);
      if (mode == Mode::MessageThenUnavailable) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, name + " failed after sending data");
      }
      return grpc::Status::OK;
    }

    std::string name;
    Mode mode;
    mutable std::mutex mu;
    std::vector<std::string> previous_attempts;
  };

  Service service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

// ------------------------------------------------ raw HTTP/2 refusing server

// A cleartext HTTP/2 server (libnghttp2, one thread) that answers every new
// stream with RST_STREAM(REFUSED_STREAM) and never processes a request.
class RefusingH2Server {
 public:
  RefusingH2Server() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listen_fd_ < 0) throw std::runtime_error("RefusingH2Server: socket failed");
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("RefusingH2Server: cannot listen on 127.0.0.1:0");
    }
    address_ = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    thread_ = std::thread([this] { Run(); });
  }
  ~RefusingH2Server() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto& c : conns_) Close(c);
    ::close(listen_fd_);
  }
  RefusingH2Server(const RefusingH2Server&) = delete;
  RefusingH2Server& operator=(const RefusingH2Server&) = delete;

  const std::string& address() const { return address_; }
  int Refused() const { return refused_.load(); }
  int Connections() const { return connections_.load(); }

 private:
  struct Conn {
    int fd = -1;
    nghttp2_session* session = nullptr;
    RefusingH2Server* owner = nullptr;
    bool dead = false;
  };

  static ssize_t OnSend(nghttp2_session*, const uint8_t* data, size_t length, int, void* user) {
    auto* c = static_cast<Conn*>(user);
    ssize_t n = ::send(c->fd, data, length, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return NGHTTP2_ERR_WOULDBLOCK;
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return n;
  }
  static int OnBeginHeaders(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto* c = static_cast<Conn*>(user);
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_REFUSED_STREAM);
      c->owner->refused_++;
    }
    return 0;
  }

  void Accept() {
    for (int i = 0; i < 64; ++i) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      conns_.emplace_back();
      Conn& c = conns_.back();
      c.fd = fd;
      c.owner = this;
      nghttp2_session_callbacks* cbs = nullptr;
      nghttp2_session_callbacks_new(&cbs);
      nghttp2_session_callbacks_set_send_callback(cbs, &OnSend);
      nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &OnBeginHeaders);
      nghttp2_session_server_new(&c.session, cbs, &c);
      nghttp2_session_callbacks_del(cbs);
      nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, nullptr, 0);
      connections_++;
    }
  }

  static void Close(Conn& c) {
    if (c.session != nullptr) nghttp2_session_del(c.session);
    if (c.fd >= 0) ::close(c.fd);
    c.session = nullptr;
    c.fd = -1;
  }

  void Run() {
    for (int iter = 0; iter < 10000000 && !stop_; ++iter) {
      std::vector<pollfd> fds;
      fds.push_back({listen_fd_, POLLIN, 0});
      std::vector<Conn*> order;
      for (auto& c : conns_) {
        short ev = POLLIN;
        if (nghttp2_session_want_write(c.session)) ev |= POLLOUT;
        fds.push_back({c.fd, ev, 0});
        order.push_back(&c);
      }
      ::poll(fds.data(), fds.size(), 20);
      if (fds[0].revents & POLLIN) Accept();
      for (size_t i = 0; i < order.size(); ++i) {
        Conn& c = *order[i];
        short re = fds[i + 1].revents;
        if (re & (POLLIN | POLLHUP | POLLERR)) {
          uint8_t buf[16384];
          for (int k = 0; k < 64; ++k) {
            ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
              c.dead = true;
              break;
            }
            if (n < 0) break;
            if (nghttp2_session_mem_recv(c.session, buf, static_cast<size_t>(n)) < 0) {
              c.dead = true;
              break;
            }
          }
        }
        if (!c.dead && nghttp2_session_send(c.session) != 0) c.dead = true;
        if (!c.dead && !nghttp2_session_want_read(c.session) && !nghttp2_session_want_write(c.session)) c.dead = true;
      }
      for (auto it = conns_.begin(); it != conns_.end();) {
        if (it->dead) {
          Close(*it);
          it = conns_.erase(it);
        } else {
          ++it;
        }
      }
    }
  }

  int listen_fd_ = -1;
  std::string address_;
  std::list<Conn> conns_;  // stable addresses: sessions point at their Conn
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> refused_{0};
  std::atomic<int> connections_{0};
};

// ----------------------------------------------------------------- black hole

// A listening TCP socket that never accepts: the kernel completes handshakes
// into the backlog, and nothing ever reads or answers.
class BlackHole {
 public:
  BlackHole() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("BlackHole: socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 128) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd_);
      throw std::runtime_error("BlackHole: cannot listen on 127.0.0.1:0");
    }
    address_ = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  ~BlackHole() { ::close(fd_); }
  BlackHole(const BlackHole&) = delete;
  BlackHole& operator=(const BlackHole&) = delete;
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

// ------------------------------------------------------------------ /clusters

struct EndpointView {
  std::string cluster;
  std::string address;
  std::string origin;
  std::string health;
};

// Parses the /clusters JSON; empty (with *error set) if it is not parsable.
inline std::vector<EndpointView> ParseClusters(const std::string& body, std::string* error) {
  std::vector<EndpointView> out;
  google::protobuf::Struct root;
  if (!ops::ParseJsonObject(body, &root, error)) return out;
  const auto* clusters = ops::Field(root, "clusters");
  if (clusters == nullptr) {
    *error = "no \"clusters\" key";
    return out;
  }
  for (const auto& cv : clusters->list_value().values()) {
    const auto& c = cv.struct_value();
    std::string name = ops::Field(c, "name") ? ops::Field(c, "name")->string_value() : "";
    const auto* eps = ops::Field(c, "endpoints");
    if (eps == nullptr) continue;
    for (const auto& ev : eps->list_value().values()) {
      const auto& e = ev.struct_value();
      EndpointView v;
      v.cluster = name;
      if (const auto* f = ops::Field(e, "address")) v.address = f->string_value();
      if (const auto* f = ops::Field(e, "origin")) v.origin = f->string_value();
      if (const auto* f = ops::Field(e, "health")) v.health = f->string_value();
      out.push_back(std::move(v));
    }
  }
  return out;
}

// ------------------------------------------------------------------- fixture

class ResilienceTest : public ops::OpsTest {
 protected:
  static constexpr const char* kCluster = "pool-resilience";

  // Active checks quick enough for tests: a dead endpoint is out after about
  // interval x unhealthy_threshold = 400 ms.
  static std::string HealthCheck(const std::string& mode = "check", const std::string& timeout = "200ms") {
    return "health_check: { mode: " + mode + ", interval: 200ms, timeout: " + timeout +
           ", unhealthy_threshold: 2, healthy_threshold: 2 }";
  }
  static constexpr std::chrono::milliseconds kUnhealthyWithin{400};

  // Put in front of the daemon's command line by Start() (e.g. to run it in
  // its own mount namespace).
  std::vector<std::string> proxy_wrapper_;

  // One cleartext listener and an admin port (both free), Echo routed to one
  // cluster kCluster of the given endpoints with the given extra cluster keys.
  static ProxyConfig Config(const std::vector<std::string>& endpoints, const std::vector<std::string>& extra = {},
                            int workers = 2) {
    ProxyConfig c;
    c.workers = workers;
    c.admin_address = ops::OpsTest::Loopback();
    c.listeners.push_back({"public", ops::OpsTest::Loopback(), "", ""});
    c.routes.push_back({"switchyard.test.Echo", "", "", kCluster, "", ""});
    c.clusters.push_back({kCluster, endpoints, extra});
    return c;
  }

  // Starts the daemon; route_extra lines (e.g. "retry: {...}") are added to
  // every route. Waits for the listener and the admin port.
  void Start(const ProxyConfig& config, const std::vector<std::string>& route_extra = {}) {
    std::string yaml = config.ToYaml();
    if (!route_extra.empty()) {
      std::string lines;
      for (const auto& l : route_extra) lines += "    " + l + "\n";
      const std::string key = "\n    cluster: ";
      for (size_t pos = yaml.find(key); pos != std::string::npos; pos = yaml.find(key, pos + 1)) {
        size_t eol = yaml.find('\n', pos + 1);
        yaml.insert(eol + 1, lines);
        pos = eol + lines.size();
      }
    }
    WriteFile(config_path(), yaml);
    std::vector<std::string> argv = proxy_wrapper_;
    argv.insert(argv.end(), {ProxyBinary(), "--config", config_path().string(), "--log-level", "debug"});
    proxy_ = std::make_unique<ProcessGuard>(argv, dir_ / "switchyard.out", dir_ / "switchyard.err");
    proxy_address_ = WaitListening(*proxy_, config.listeners.front().name, config.listeners.front().address);
    admin_address_ = WaitListening(*proxy_, "admin", config.admin_address);
    for (const auto& address : {proxy_address_, admin_address_}) {
      ASSERT_TRUE(!address.empty() && proxy_->running()) << "switchyard did not start listening\nconfig:\n"
                                                         << yaml << "\nstderr:\n" << proxy_->err();
    }
  }

  std::vector<EndpointView> Clusters() {
    ops::HttpResponse r = Admin("/clusters");
    std::string error;
    auto v = ParseClusters(r.body, &error);
    if (r.status != 200 || !error.empty()) {
      ADD_FAILURE() << "/clusters: status " << r.status << " " << r.error << " " << error << "\n" << r.body;
    }
    return v;
  }
  std::string ClustersText() { return Admin("/clusters").body; }

  // Health of the endpoint with this address in /clusters ("" if not listed).
  std::string HealthOf(const std::string& address) {
    for (const auto& e : Clusters()) {
      if (e.address == address) return e.health;
    }
    return "";
  }
  bool WaitForHealth(const std::string& address, const std::string& health, std::chrono::milliseconds timeout) {
    return WaitUntil([&] { return HealthOf(address) == health; }, timeout, 20ms);
  }


  // Sends n unary calls one after the other on a fresh channel.
  std::vector<Call> Sequential(int n, std::chrono::milliseconds deadline = 3000ms, int sleep_ms = 0) {
    auto channel = MakeChannel(proxy_address());
    Connect(channel);
    auto stub = switchyard::test::Echo::NewStub(channel);
    std::vector<Call> out;
    for (int i = 0; i < n; ++i) out.push_back(UnaryCall(stub.get(), deadline, sleep_ms));
    return out;
  }
};

}  // namespace sytest::resilience
