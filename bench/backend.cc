// sy_bench_backend: the gRPC backend the benchmark drives through each proxy.
//
//   sy_bench_backend --address 127.0.0.1:PORT [--threads N]
//                    [--tls-address 127.0.0.1:PORT --cert FILE --key FILE]
//
// Serves switchyard.bench.Bench with the gRPC C++ callback API (one reactor
// per RPC, no thread per call) and grpc.health.v1. --tls-address adds a TLS
// listener with the same services (the "direct" and L4 baselines of the TLS
// case). --threads N restricts the process to N CPUs (0, the default: all);
// gRPC sizes its own callback thread pool from the machine's core count.
//
// Prints "ready ADDRESS" once listening. Counts what it completed and prints
//   counts unary=U stream_rpcs=S stream_msgs=SM bidi_rpcs=B bidi_msgs=BM cancelled=C
// on stdout on every SIGUSR1 and once more on SIGTERM/SIGINT, then exits. The
// harness compares these counts with what the load client saw.
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include "bench.grpc.pb.h"

namespace {

using switchyard::bench::Bench;
using switchyard::bench::Payload;
using switchyard::bench::StreamRequest;

struct Counters {
  std::atomic<uint64_t> unary{0};
  std::atomic<uint64_t> stream_rpcs{0};
  std::atomic<uint64_t> stream_msgs{0};
  std::atomic<uint64_t> bidi_rpcs{0};
  std::atomic<uint64_t> bidi_msgs{0};
  std::atomic<uint64_t> cancelled{0};
};
Counters g_counts;

void PrintCounts() {
  std::printf("counts unary=%llu stream_rpcs=%llu stream_msgs=%llu bidi_rpcs=%llu bidi_msgs=%llu cancelled=%llu\n",
              static_cast<unsigned long long>(g_counts.unary.load()),
              static_cast<unsigned long long>(g_counts.stream_rpcs.load()),
              static_cast<unsigned long long>(g_counts.stream_msgs.load()),
              static_cast<unsigned long long>(g_counts.bidi_rpcs.load()),
              static_cast<unsigned long long>(g_counts.bidi_msgs.load()),
              static_cast<unsigned long long>(g_counts.cancelled.load()));
  std::fflush(stdout);
}

// Stream payloads are built once per size and shared by every reactor.
const std::string& PatternOfSize(uint32_t size) {
  static std::mutex mu;
  static std::map<uint32_t, std::unique_ptr<std::string>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[size];
  if (!slot) {
    slot = std::make_unique<std::string>(size, '\0');
    for (uint32_t i = 0; i < size; ++i) (*slot)[i] = static_cast<char>('a' + i % 26);
  }
  return *slot;
}

class UnaryReactor final : public grpc::ServerUnaryReactor {
 public:
  explicit UnaryReactor(bool ok) : ok_(ok) {}
  void OnDone() override {
    if (ok_) g_counts.unary.fetch_add(1, std::memory_order_relaxed);
    delete this;
  }
  void OnCancel() override {
    ok_ = false;
    g_counts.cancelled.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  bool ok_;
};

class StreamReactor final : public grpc::ServerWriteReactor<Payload> {
 public:
  explicit StreamReactor(const StreamRequest* req) : remaining_(req->count()) {
    if (remaining_ == 0) {
      Finish(grpc::Status::OK);
      return;
    }
    msg_.set_data(PatternOfSize(req->message_size()));
    StartWrite(&msg_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      failed_ = true;
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    g_counts.stream_msgs.fetch_add(1, std::memory_order_relaxed);
    if (--remaining_ == 0) {
      Finish(grpc::Status::OK);
    } else {
      StartWrite(&msg_);
    }
  }
  void OnCancel() override {
    failed_ = true;
    g_counts.cancelled.fetch_add(1, std::memory_order_relaxed);
  }
  void OnDone() override {
    if (!failed_) g_counts.stream_rpcs.fetch_add(1, std::memory_order_relaxed);
    delete this;
  }

 private:
  Payload msg_;
  uint64_t remaining_;
  bool failed_ = false;
};

class PingPongReactor final : public grpc::ServerBidiReactor<Payload, Payload> {
 public:
  PingPongReactor() { StartRead(&in_); }
  void OnReadDone(bool ok) override {
    if (!ok) {  // client half-closed (or the call died; OnCancel tells which)
      Finish(grpc::Status::OK);
      return;
    }
    out_.Swap(&in_);
    StartWrite(&out_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      failed_ = true;
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    g_counts.bidi_msgs.fetch_add(1, std::memory_order_relaxed);
    StartRead(&in_);
  }
  void OnCancel() override {
    failed_ = true;
    g_counts.cancelled.fetch_add(1, std::memory_order_relaxed);
  }
  void OnDone() override {
    if (!failed_) g_counts.bidi_rpcs.fetch_add(1, std::memory_order_relaxed);
    delete this;
  }

 private:
  Payload in_;
  Payload out_;
  bool failed_ = false;
};

class BenchService final : public Bench::CallbackService {
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext*, const Payload* req, Payload* resp) override {
    resp->set_data(req->data());
    auto* r = new UnaryReactor(true);
    r->Finish(grpc::Status::OK);
    return r;
  }
  grpc::ServerWriteReactor<Payload>* Stream(grpc::CallbackServerContext*, const StreamRequest* req) override {
    return new StreamReactor(req);
  }
  grpc::ServerBidiReactor<Payload, Payload>* PingPong(grpc::CallbackServerContext*) override {
    return new PingPongReactor();
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "sy_bench_backend: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void RestrictCpus(int n) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return;
  cpu_set_t chosen;
  CPU_ZERO(&chosen);
  int taken = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && taken < n; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) {
      CPU_SET(cpu, &chosen);
      ++taken;
    }
  }
  if (taken > 0) sched_setaffinity(0, sizeof(chosen), &chosen);
}

constexpr const char* kUsage =
    "usage: sy_bench_backend --address HOST:PORT [--threads N]\n"
    "                        [--tls-address HOST:PORT --cert FILE --key FILE]\n";

}  // namespace

int main(int argc, char** argv) {
  std::string address, tls_address, cert, key;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sy_bench_backend: %s needs a value\n%s", arg.c_str(), kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--address") {
      address = value();
    } else if (arg == "--tls-address") {
      tls_address = value();
    } else if (arg == "--cert") {
      cert = value();
    } else if (arg == "--key") {
      key = value();
    } else if (arg == "--threads") {
      threads = std::atoi(value().c_str());
    } else {
      std::fprintf(stderr, "sy_bench_backend: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (address.empty() || (!tls_address.empty() && (cert.empty() || key.empty()))) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (threads > 0) RestrictCpus(threads);

  // Signals are taken synchronously by the main thread only; every thread gRPC
  // starts inherits this mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  grpc::EnableDefaultHealthCheckService(true);
  BenchService service;
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(-1);
  builder.SetMaxSendMessageSize(-1);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 1 << 20);
  int port = 0, tls_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  if (!tls_address.empty()) {
    grpc::SslServerCredentialsOptions opts;
    opts.pem_key_cert_pairs.push_back({ReadFile(key), ReadFile(cert)});
    builder.AddListeningPort(tls_address, grpc::SslServerCredentials(opts), &tls_port);
  }
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0 || (!tls_address.empty() && tls_port == 0)) {
    std::fprintf(stderr, "sy_bench_backend: cannot listen on %s%s%s\n", address.c_str(),
                 tls_address.empty() ? "" : " / ", tls_address.c_str());
    return 1;
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  std::printf("ready %s\n", address.c_str());
  if (!tls_address.empty()) std::printf("ready-tls %s\n", tls_address.c_str());
  std::fflush(stdout);

  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      PrintCounts();
      continue;
    }
    break;
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  PrintCounts();
  return 0;
}
