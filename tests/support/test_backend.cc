// sy_test_backend: a scriptable gRPC server for the integration tests and the
// demo. Serves switchyard.test.Echo (all four RPC kinds, behaviour chosen per
// request), switchyard.test.Control (what the backend observed), the
// helloworld.Greeter demo service and grpc.health.v1.
//
//   sy_test_backend --address HOST:PORT --name NAME
//   sy_test_backend --port PORT --name NAME        (listens on 127.0.0.1)
//
// PORT 0 picks a free port. Prints "ready HOST:PORT" on stdout once listening;
// SIGTERM or SIGINT shuts down gracefully (GOAWAY, bounded wait).
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "echo.grpc.pb.h"
#include "helloworld.grpc.pb.h"

namespace {

using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;
using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;

// Bidi ping-pong step: the reply to value v is Next(v), so every reply depends
// on the request that caused it.
uint64_t Next(uint64_t v) { return v * 6364136223846793005ULL + 1442695040888963407ULL; }

uint64_t Fnv1a(uint64_t h, const std::string& data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}
constexpr uint64_t kFnvOffset = 14695981039346656037ULL;

// Deterministic payload for response seq: byte j is ('a' + (seq + j) % 26).
std::string Pattern(size_t size, int64_t seq) {
  std::string s(size, '\0');
  for (size_t j = 0; j < size; ++j) s[j] = static_cast<char>('a' + (static_cast<uint64_t>(seq) + j) % 26);
  return s;
}

struct Observed {
  std::mutex mu;
  std::map<std::string, int64_t> calls;
  int64_t cancellations = 0;
  int64_t last_deadline_remaining_ms = -1;
  std::string last_grpc_timeout;
  std::string last_x_forwarded_for;
  std::string last_authority;
  std::string last_user_agent;
  std::atomic<int64_t> active{0};
};

std::string Metadata(const ServerContext* ctx, const std::string& key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

// Records a call on entry and, on exit, whether it ended cancelled.
class CallScope {
 public:
  CallScope(Observed& obs, ServerContext* ctx, const char* method) : obs_(obs), ctx_(ctx) {
    obs_.active++;
    std::lock_guard<std::mutex> lock(obs_.mu);
    obs_.calls[method]++;
    auto deadline = ctx->deadline();
    if (deadline == std::chrono::system_clock::time_point::max()) {
      obs_.last_deadline_remaining_ms = -1;
    } else {
      obs_.last_deadline_remaining_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::system_clock::now()).count();
    }
    obs_.last_grpc_timeout = Metadata(ctx, "grpc-timeout");
    obs_.last_x_forwarded_for = Metadata(ctx, "x-forwarded-for");
    auto authority = ctx->ExperimentalGetAuthority();
    obs_.last_authority.assign(authority.data(), authority.size());
    obs_.last_user_agent = Metadata(ctx, "user-agent");
  }
  ~CallScope() {
    if (ctx_->IsCancelled()) {
      std::lock_guard<std::mutex> lock(obs_.mu);
      obs_.cancellations++;
    }
    obs_.active--;
  }
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

 private:
  Observed& obs_;
  ServerContext* ctx_;
};

// Sleeps up to ms, waking early when the call is cancelled. Returns false if
// the call was cancelled.
bool SleepUnlessCancelled(ServerContext* ctx, int ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (ctx->IsCancelled()) return false;
    auto left = until - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(2)));
  }
  return !ctx->IsCancelled();
}

// --unary-delay-ms: every Unary call waits this long first (a slow backend).
int g_unary_delay_ms = 0;

class EchoService final : public switchyard::test::Echo::Service {
 public:
  EchoService(std::string name, Observed& obs) : name_(std::move(name)), obs_(obs) {}

  Status Unary(ServerContext* ctx, const EchoRequest* req, EchoResponse* resp) override {
    CallScope scope(obs_, ctx, "Unary");
    Prepare(ctx, *req);
    if (g_unary_delay_ms > 0 && !SleepUnlessCancelled(ctx, g_unary_delay_ms)) return Cancelled();
    if (req->sleep_ms() > 0 && !SleepUnlessCancelled(ctx, req->sleep_ms())) return Cancelled();
    if (req->fail_code() != 0) return Fail(*req);
    Fill(*req, 0, resp);
    return Status::OK;
  }

  Status ServerStream(ServerContext* ctx, const EchoRequest* req,
                      grpc::ServerWriter<EchoResponse>* writer) override {
    CallScope scope(obs_, ctx, "ServerStream");
    Prepare(ctx, *req);
    if (req->sleep_ms() > 0 && !SleepUnlessCancelled(ctx, req->sleep_ms())) return Cancelled();
    int count = req->count();
    if (count <= 0 && req->fail_code() == 0) count = 1;
    for (int i = 0; i < count; ++i) {
      if (i > 0 && req->interval_ms() > 0 && !SleepUnlessCancelled(ctx, req->interval_ms())) return Cancelled();
      EchoResponse resp;
      Fill(*req, i, &resp);
      if (!writer->Write(resp)) return Cancelled();
    }
    if (req->fail_code() != 0) return Fail(*req);
    return Status::OK;
  }

  Status ClientStream(ServerContext* ctx, grpc::ServerReader<EchoRequest>* reader, EchoResponse* resp) override {
    CallScope scope(obs_, ctx, "ClientStream");
    EchoRequest first;
    EchoRequest req;
    int64_t messages = 0;
    int64_t bytes = 0;
    uint64_t checksum = kFnvOffset;
    while (reader->Read(&req)) {
      if (messages == 0) first = req;
      messages++;
      bytes += static_cast<int64_t>(req.payload().size());
      checksum = Fnv1a(checksum, req.payload());
    }
    if (ctx->IsCancelled()) return Cancelled();
    Prepare(ctx, first);
    if (first.sleep_ms() > 0 && !SleepUnlessCancelled(ctx, first.sleep_ms())) return Cancelled();
    if (first.fail_code() != 0) return Fail(first);
    EchoRequest shape = first;
    shape.clear_payload();
    Fill(shape, 0, resp);
    resp->set_received_messages(messages);
    resp->set_received_bytes(bytes);
    resp->set_checksum(checksum);
    return Status::OK;
  }

  Status Bidi(ServerContext* ctx, grpc::ServerReaderWriter<EchoResponse, EchoRequest>* stream) override {
    CallScope scope(obs_, ctx, "Bidi");
    EchoRequest req;
    int64_t seq = 0;
    bool first = true;
    while (stream->Read(&req)) {
      if (first) {
        Prepare(ctx, req);
        first = false;
      }
      if (req.sleep_ms() > 0 && !SleepUnlessCancelled(ctx, req.sleep_ms())) return Cancelled();
      if (req.fail_code() != 0) return Fail(req);
      int count = req.count() > 0 ? req.count() : 1;
      for (int i = 0; i < count; ++i) {
        if (i > 0 && req.interval_ms() > 0 && !SleepUnlessCancelled(ctx, req.interval_ms())) return Cancelled();
        EchoResponse resp;
        Fill(req, seq++, &resp);
        resp.set_value(Next(req.value()));
        if (!stream->Write(resp)) return Cancelled();
      }
    }
    if (ctx->IsCancelled()) return Cancelled();
    return Status::OK;
  }

 private:
  void Prepare(ServerContext* ctx, const EchoRequest& req) {
    ctx->AddTrailingMetadata("x-backend", name_);
    if (req.compress_response()) ctx->set_compression_algorithm(GRPC_COMPRESS_GZIP);
    if (!req.echo_metadata()) return;
    for (const auto& [key, value] : ctx->client_metadata()) {
      std::string k(key.data(), key.size());
      // Credentials too, so tests can see whether the proxy forwarded them.
      if (k.rfind("x-echo-", 0) != 0 && k != "x-forwarded-client-cert" && k != "authorization" &&
          k != "x-api-key") {
        continue;
      }
      std::string v(value.data(), value.size());
      ctx->AddInitialMetadata(k, v);
      ctx->AddTrailingMetadata(k, v);
    }
  }

  void Fill(const EchoRequest& req, int64_t seq, EchoResponse* resp) const {
    if (req.response_size() > 0) {
      resp->set_payload(Pattern(static_cast<size_t>(req.response_size()), seq));
    } else {
      resp->set_payload(req.payload());
    }
    resp->set_backend(name_);
    resp->set_seq(seq);
  }

  static Status Fail(const EchoRequest& req) {
    return Status(static_cast<StatusCode>(req.fail_code()), req.fail_message(), req.fail_details());
  }
  static Status Cancelled() { return Status(StatusCode::CANCELLED, "cancelled"); }

  std::string name_;
  Observed& obs_;
};

class GreeterService final : public helloworld::Greeter::Service {
 public:
  GreeterService(std::string name, Observed& obs) : name_(std::move(name)), obs_(obs) {}

  Status SayHello(ServerContext* ctx, const helloworld::HelloRequest* req, helloworld::HelloReply* reply) override {
    CallScope scope(obs_, ctx, "SayHello");
    ctx->AddTrailingMetadata("x-backend", name_);
    reply->set_message("Hello " + req->name() + " from " + name_);
    return Status::OK;
  }

 private:
  std::string name_;
  Observed& obs_;
};

class ControlService final : public switchyard::test::Control::Service {
 public:
  ControlService(std::string name, Observed& obs) : name_(std::move(name)), obs_(obs) {}
  void set_server(grpc::Server* server) { server_ = server; }

  Status Stats(ServerContext*, const switchyard::test::StatsRequest*,
               switchyard::test::StatsResponse* resp) override {
    std::lock_guard<std::mutex> lock(obs_.mu);
    resp->set_backend(name_);
    for (const auto& [method, n] : obs_.calls) (*resp->mutable_calls())[method] = n;
    resp->set_cancellations(obs_.cancellations);
    resp->set_last_deadline_remaining_ms(obs_.last_deadline_remaining_ms);
    resp->set_last_grpc_timeout(obs_.last_grpc_timeout);
    resp->set_last_x_forwarded_for(obs_.last_x_forwarded_for);
    resp->set_last_authority(obs_.last_authority);
    resp->set_last_user_agent(obs_.last_user_agent);
    resp->set_active(obs_.active.load());
    return Status::OK;
  }

  Status SetServing(ServerContext*, const switchyard::test::SetServingRequest* req,
                    switchyard::test::Empty*) override {
    if (server_ == nullptr || server_->GetHealthCheckService() == nullptr) {
      return Status(StatusCode::FAILED_PRECONDITION, "health service not available");
    }
    server_->GetHealthCheckService()->SetServingStatus(req->serving());
    return Status::OK;
  }

  Status Reset(ServerContext*, const switchyard::test::Empty*, switchyard::test::Empty*) override {
    std::lock_guard<std::mutex> lock(obs_.mu);
    obs_.calls.clear();
    obs_.cancellations = 0;
    obs_.last_deadline_remaining_ms = -1;
    obs_.last_grpc_timeout.clear();
    obs_.last_x_forwarded_for.clear();
    obs_.last_authority.clear();
    obs_.last_user_agent.clear();
    return Status::OK;
  }

 private:
  std::string name_;
  Observed& obs_;
  grpc::Server* server_ = nullptr;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Insecure, TLS, or TLS that requires a client certificate from client_ca.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const std::string& cert, const std::string& key,
                                                           const std::string& client_ca) {
  if (cert.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions opts(client_ca.empty()
                                             ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                             : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_key_cert_pairs.push_back({ReadAll(key), ReadAll(cert)});
  if (!client_ca.empty()) opts.pem_root_certs = ReadAll(client_ca);
  return grpc::SslServerCredentials(opts);
}

int Usage() {
  std::cerr << "usage: sy_test_backend (--address HOST:PORT | --port PORT) [--name NAME]\n"
               "         [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] [--unary-delay-ms N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string address;
  std::string name = "backend";
  std::string tls_cert, tls_key, tls_client_ca;  // TLS (and client certificates) when set
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return Usage();
    if (arg == "--address") {
      address = argv[++i];
    } else if (arg == "--port") {
      address = std::string("127.0.0.1:") + argv[++i];
    } else if (arg == "--name") {
      name = argv[++i];
    } else if (arg == "--tls-cert") {
      tls_cert = argv[++i];
    } else if (arg == "--tls-key") {
      tls_key = argv[++i];
    } else if (arg == "--tls-client-ca") {
      tls_client_ca = argv[++i];
    } else if (arg == "--unary-delay-ms") {
      g_unary_delay_ms = std::atoi(argv[++i]);
    } else {
      return Usage();
    }
  }
  if (address.empty()) return Usage();

  // Handle termination signals synchronously on the main thread; every thread
  // gRPC starts inherits this mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  Observed obs;
  EchoService echo(name, obs);
  GreeterService greeter(name, obs);
  ControlService control(name, obs);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  // A second server on the same port must fail, not silently share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(address, ServerCredentials(tls_cert, tls_key, tls_client_ca), &port);
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  builder.SetMaxSendMessageSize(64 * 1024 * 1024);
  builder.RegisterService(&echo);
  builder.RegisterService(&greeter);
  builder.RegisterService(&control);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::cerr << "sy_test_backend: cannot listen on " << address << "\n";
    return 1;
  }
  control.set_server(server.get());
  server->GetHealthCheckService()->SetServingStatus(true);

  std::string host = address.substr(0, address.rfind(':'));
  std::cout << "ready " << host << ":" << port << " " << name << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "sy_test_backend " << name << ": signal " << sig << ", shutting down\n";
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  return 0;
}
