// sy_bench_load: load generator and meter for the proxy benchmarks.
//
//   sy_bench_load --target HOST:PORT --mode MODE [options]
//
// Modes (closed-loop unless --rate is given: every slot has exactly one RPC
// or round trip in flight, so concurrency is conns x streams):
//   unary     N connections x M concurrent unary RPCs each, --size bytes each way.
//             Unit: one RPC. Latency: per RPC.
//             With --rate R: open loop instead. RPCs start at a fixed rate of R
//             per second on a timeline fixed in advance (the k-th at start +
//             k/R), spread round-robin over the N connections, however many are
//             still in flight (up to --max-inflight; more fails the run). Each
//             RPC's latency runs from its scheduled start, not from when it was
//             actually issued, so a stalled proxy or client cannot hide queueing
//             (no coordinated omission). The window holds the RPCs scheduled in
//             it; p50/p99/p999 over them.
//   stream    N x M server-streaming RPCs of --stream-count messages of --size
//             bytes each, issued back to back. Unit: one streamed message.
//   bidi      N x M long-lived PingPong streams; each sends a message and waits
//             for the echo before sending the next. Unit: one round trip.
//   latency   one connection, one unary RPC at a time (synchronous API).
//   slowread  one server stream of --total bytes in --size messages, read no
//             faster than --rate MiB/s (default 256); samples the proxy's RSS
//             while it runs.
//   idle      --conns raw HTTP/2 connections (preface + SETTINGS, then
//             nothing but SETTINGS/PING acks) held for --duration; reports
//             the proxy's RSS per connection.
//
// --metadata NAME=VALUE (repeatable) adds a request header to every RPC, such
// as "authorization=Bearer TOKEN" for routes that authenticate callers.
//
// Every RPC's status is checked (OK, and the right amount of data); anything
// else counts as a failure. With --proxy-pid the proxy's CPU time (utime +
// stime from /proc/PID/stat) and RSS (/proc/PID/status) are sampled at the
// start and end of the measurement window (after --warmup), so CPU per unit
// covers exactly the units completed inside the window.
//
// The last line of stdout is
//   RESULT key=value ...
// for the harness to parse; the exit status is 0 only if nothing failed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using switchyard::bench::Bench;
using switchyard::bench::Payload;
using switchyard::bench::StreamRequest;

struct Options {
  std::string target;
  std::string mode;
  int conns = 1;
  int streams = 1;
  size_t size = 16;
  double duration = 5;
  double warmup = 1;
  uint64_t stream_count = 1000;
  uint64_t total = 1ULL << 30;
  double rate_mib = 256;
  double rate = -1;              // --rate as given: RPC/s (unary), MiB/s (slowread)
  uint64_t max_inflight = 100000;  // open loop: more than this in flight fails the run
  std::string ca;
  std::string authority;
  std::string cert, key;  // client certificate (mutual TLS), with --ca
  int proxy_pid = 0;
  int backend_pid = 0;
  double deadline = 30;
  std::vector<std::pair<std::string, std::string>> metadata;  // --metadata NAME=VALUE
};

// Every RPC carries the --metadata headers.
void AddMetadata(const Options& o, grpc::ClientContext& ctx) {
  for (const auto& [name, value] : o.metadata) ctx.AddMetadata(name, value);
}

double Secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// ---------------------------------------------------------------------------
// /proc sampling

struct ProcSample {
  bool valid = false;
  uint64_t cpu_ticks = 0;  // utime + stime
  uint64_t rss_kb = 0;     // VmRSS
  uint64_t hwm_kb = 0;     // VmHWM (peak RSS over the process lifetime)
};

ProcSample SampleProc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return s;
  // Field 2 (comm) may contain spaces; the fields after it start after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  std::string tok;
  while (rest >> tok) f.push_back(tok);
  // rest starts at field 3 (state); utime is field 14, stime field 15.
  if (f.size() < 13) return s;
  s.cpu_ticks = std::stoull(f[11]) + std::stoull(f[12]);
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stoull(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_kb = std::stoull(line.substr(6));
  }
  s.valid = true;
  return s;
}

double TicksToUs(uint64_t ticks) { return static_cast<double>(ticks) * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK)); }

// ---------------------------------------------------------------------------
// Result bookkeeping

struct Result {
  std::string mode;
  uint64_t units = 0;        // units completed inside the window
  double window_secs = 0;    // length of the window
  uint64_t rpcs_ok = 0;      // over the whole run, warm-up included
  uint64_t rpcs_failed = 0;
  uint64_t msgs_total = 0;   // streamed messages / round trips, whole run
  std::vector<uint32_t> lat_us;
  ProcSample proxy0, proxy1, backend0, backend1;
  std::map<std::string, std::string> extra;
  std::set<std::string> errors;
};

void Percentiles(std::vector<uint32_t>& v, double* p50, double* p99, double* p999) {
  *p50 = *p99 = *p999 = -1;
  if (v.empty()) return;
  auto at = [&](double q) {
    size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
    return static_cast<double>(v[k]);
  };
  *p50 = at(0.50);
  *p99 = at(0.99);
  *p999 = at(0.999);
}

void PrintResult(Result& r) {
  double p50, p99, p999;
  Percentiles(r.lat_us, &p50, &p99, &p999);
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(3);
  o << "RESULT mode=" << r.mode << " units=" << r.units << " secs=" << r.window_secs
    << " rate=" << (r.window_secs > 0 ? static_cast<double>(r.units) / r.window_secs : 0)
    << " p50_us=" << p50 << " p99_us=" << p99 << " p999_us=" << p999 << " ok=" << r.rpcs_ok << " failed=" << r.rpcs_failed
    << " msgs=" << r.msgs_total;
  if (r.proxy0.valid && r.proxy1.valid) {
    double us = TicksToUs(r.proxy1.cpu_ticks - r.proxy0.cpu_ticks);
    o << " proxy_cpu_us=" << us << " proxy_cpu_us_per_unit=" << (r.units ? us / static_cast<double>(r.units) : 0)
      << " proxy_rss_kb=" << r.proxy1.rss_kb << " proxy_hwm_kb=" << r.proxy1.hwm_kb;
  }
  if (r.backend0.valid && r.backend1.valid) {
    double us = TicksToUs(r.backend1.cpu_ticks - r.backend0.cpu_ticks);
    o << " backend_cpu_us_per_unit=" << (r.units ? us / static_cast<double>(r.units) : 0);
  }
  for (auto& [k, v] : r.extra) o << " " << k << "=" << v;
  for (const auto& e : r.errors) std::fprintf(stderr, "sy_bench_load: error: %s\n", e.c_str());
  std::printf("%s\n", o.str().c_str());
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------
// Channels

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "sy_bench_load: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One channel per connection: a local subchannel pool plus a unique argument
// keep gRPC from folding channels onto one shared TCP connection.
std::shared_ptr<grpc::Channel> MakeChannel(const Options& o, int index) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("sy.bench.channel_index", index);
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!o.ca.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(o.ca);
    if (!o.cert.empty()) {
      ssl.pem_cert_chain = ReadFile(o.cert);
      ssl.pem_private_key = ReadFile(o.key);
    }
    creds = grpc::SslCredentials(ssl);
    if (!o.authority.empty()) args.SetSslTargetNameOverride(o.authority);
  } else {
    creds = grpc::InsecureChannelCredentials();
    if (!o.authority.empty()) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, o.authority);
  }
  return grpc::CreateCustomChannel(o.target, creds, args);
}

bool ConnectAll(const std::vector<std::shared_ptr<grpc::Channel>>& chans, Result& r) {
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(15);
  for (size_t i = 0; i < chans.size(); ++i) {
    if (!chans[i]->WaitForConnected(deadline)) {
      r.errors.insert("channel " + std::to_string(i) + " did not connect within 15s");
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Closed-loop driver shared by unary / stream / bidi

enum Phase : int { kWarmup = 0, kMeasure = 1, kStopping = 2 };

struct Run {
  const Options& o;
  std::atomic<int> phase{kWarmup};
  std::mutex mu;
  std::condition_variable cv;
  int slots_live = 0;
  explicit Run(const Options& opts) : o(opts) {}
  void SlotDone() {
    std::lock_guard<std::mutex> lock(mu);
    if (--slots_live == 0) cv.notify_all();
  }
  std::chrono::system_clock::time_point Deadline() const {
    return std::chrono::system_clock::now() +
           std::chrono::milliseconds(static_cast<int64_t>(o.deadline * 1000));
  }
};

// Per-slot tallies; each slot has one operation in flight, so no locking.
struct Tally {
  uint64_t ok = 0, failed = 0, msgs = 0, window_units = 0;
  std::vector<uint32_t> lat;
  std::string first_error;
  void Fail(const std::string& why) {
    ++failed;
    if (first_error.empty()) first_error = why;
  }
};

uint32_t MicrosSince(Clock::time_point t) {
  return static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
}

class UnarySlot {
 public:
  UnarySlot(Run& run, Bench::Stub* stub, const std::string& payload) : run_(run), stub_(stub) {
    req_.set_data(payload);
  }
  void Issue() {
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(run_.Deadline());
    AddMetadata(run_.o, *ctx_);
    resp_.Clear();
    start_ = Clock::now();
    stub_->async()->Unary(ctx_.get(), &req_, &resp_, [this](grpc::Status s) { Done(s); });
  }
  Tally tally;

 private:
  void Done(const grpc::Status& s) {
    uint32_t us = MicrosSince(start_);
    int phase = run_.phase.load(std::memory_order_acquire);
    if (!s.ok()) {
      tally.Fail("unary: status " + std::to_string(s.error_code()) + " " + s.error_message());
    } else if (resp_.data().size() != req_.data().size()) {
      tally.Fail("unary: response of " + std::to_string(resp_.data().size()) + " bytes");
    } else {
      ++tally.ok;
      if (phase == kMeasure) {
        ++tally.window_units;
        tally.lat.push_back(us);
      }
    }
    if (phase == kStopping) {
      run_.SlotDone();
    } else {
      Issue();
    }
  }
  Run& run_;
  Bench::Stub* stub_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  Payload req_, resp_;
  Clock::time_point start_;
};

class StreamSlot;

// One server-streaming RPC; deletes itself when done and tells its slot.
class StreamCall final : public grpc::ClientReadReactor<Payload> {
 public:
  StreamCall(StreamSlot* slot, Bench::Stub* stub, const StreamRequest& req, Run& run);
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& s) override;

 private:
  StreamSlot* slot_;
  Run& run_;
  grpc::ClientContext ctx_;
  Payload msg_;
  uint64_t received_ = 0;
  bool bad_size_ = false;
  Clock::time_point start_;
};

class StreamSlot {
 public:
  StreamSlot(Run& run, Bench::Stub* stub, const StreamRequest& req) : run_(run), stub_(stub), req_(req) {}
  void Issue() { new StreamCall(this, stub_, req_, run_); }
  void Finished(const grpc::Status& s, uint64_t received, bool bad_size, uint32_t us) {
    if (!s.ok()) {
      tally.Fail("stream: status " + std::to_string(s.error_code()) + " " + s.error_message());
    } else if (received != req_.count() || bad_size) {
      tally.Fail("stream: got " + std::to_string(received) + " of " + std::to_string(req_.count()) + " messages");
    } else {
      ++tally.ok;
      tally.lat.push_back(us);  // whole-RPC duration; not reported as latency
    }
    if (run_.phase.load(std::memory_order_acquire) == kStopping) {
      run_.SlotDone();
    } else {
      Issue();
    }
  }
  const StreamRequest& request() const { return req_; }
  Tally tally;

 private:
  Run& run_;
  Bench::Stub* stub_;
  StreamRequest req_;
};

StreamCall::StreamCall(StreamSlot* slot, Bench::Stub* stub, const StreamRequest& req, Run& run)
    : slot_(slot), run_(run) {
  ctx_.set_deadline(run.Deadline());
  AddMetadata(run.o, ctx_);
  start_ = Clock::now();
  stub->async()->Stream(&ctx_, &req, this);
  StartRead(&msg_);
  StartCall();
}

void StreamCall::OnReadDone(bool ok) {
  if (!ok) return;  // end of stream; OnDone follows
  ++received_;
  ++slot_->tally.msgs;
  if (msg_.data().size() != slot_->request().message_size()) bad_size_ = true;
  if (run_.phase.load(std::memory_order_relaxed) == kMeasure) ++slot_->tally.window_units;
  StartRead(&msg_);
}

void StreamCall::OnDone(const grpc::Status& s) {
  slot_->Finished(s, received_, bad_size_, MicrosSince(start_));
  delete this;
}

// A long-lived ping-pong stream: write one message, wait for its echo (and for
// the write to complete), record the round trip, repeat until stopping.
class BidiSlot final : public grpc::ClientBidiReactor<Payload, Payload> {
 public:
  BidiSlot(Run& run, Bench::Stub* stub, const std::string& payload) : run_(run) {
    out_.set_data(payload);
    ctx_.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(static_cast<int64_t>((run.o.warmup + run.o.duration + run.o.deadline) * 1000)));
    AddMetadata(run.o, ctx_);
    stub->async()->PingPong(&ctx_, this);
  }
  void Start() {
    StartCall();
    Round();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) broken_ = true;
    Step();
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      broken_ = true;
    } else if (in_.data().size() != out_.data().size()) {
      tally.Fail("bidi: echo of " + std::to_string(in_.data().size()) + " bytes");
      broken_ = true;
    }
    Step();
  }
  void OnWritesDoneDone(bool) override {}
  void OnDone(const grpc::Status& s) override {
    if (!s.ok()) {
      tally.Fail("bidi: status " + std::to_string(s.error_code()) + " " + s.error_message());
    } else if (broken_) {
      tally.Fail("bidi: stream ended before the client finished");
    } else {
      ++tally.ok;
    }
    run_.SlotDone();
  }
  Tally tally;

 private:
  void Round() {
    pending_.store(2, std::memory_order_relaxed);
    start_ = Clock::now();
    StartRead(&in_);
    StartWrite(&out_);
  }
  // Runs twice per round (write done, read done); the second one moves on.
  void Step() {
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (broken_) return;  // the call is failing; OnDone reports it
    uint32_t us = MicrosSince(start_);
    ++tally.msgs;
    int phase = run_.phase.load(std::memory_order_acquire);
    if (phase == kMeasure) {
      ++tally.window_units;
      tally.lat.push_back(us);
    }
    if (phase == kStopping) {
      StartWritesDone();
    } else {
      Round();
    }
  }
  Run& run_;
  grpc::ClientContext ctx_;
  Payload out_, in_;
  std::atomic<int> pending_{0};
  std::atomic<bool> broken_{false};
  Clock::time_point start_;
};

void Merge(Result& r, Tally& t) {
  r.rpcs_ok += t.ok;
  r.rpcs_failed += t.failed;
  r.msgs_total += t.msgs;
  r.units += t.window_units;
  if (!t.first_error.empty()) r.errors.insert(t.first_error);
}

// Drives warm-up, the measurement window and the drain for the closed-loop modes.
void TimeWindow(Run& run, Result& r, const std::function<void()>& start_all, int slots) {
  {
    std::lock_guard<std::mutex> lock(run.mu);
    run.slots_live = slots;
  }
  start_all();
  std::this_thread::sleep_for(std::chrono::duration<double>(run.o.warmup));
  r.proxy0 = SampleProc(run.o.proxy_pid);
  r.backend0 = SampleProc(run.o.backend_pid);
  auto t0 = Clock::now();
  run.phase.store(kMeasure, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(run.o.duration));
  run.phase.store(kStopping, std::memory_order_release);
  r.window_secs = Secs(Clock::now() - t0);
  r.proxy1 = SampleProc(run.o.proxy_pid);
  r.backend1 = SampleProc(run.o.backend_pid);
  std::unique_lock<std::mutex> lock(run.mu);
  if (!run.cv.wait_for(lock, std::chrono::duration<double>(run.o.deadline + 10), [&] { return run.slots_live == 0; })) {
    r.errors.insert(std::to_string(run.slots_live) + " slots still busy after the drain timeout");
    r.rpcs_failed += static_cast<uint64_t>(run.slots_live);
    PrintResult(r);
    std::_Exit(1);  // reactors still reference this stack; do not unwind
  }
}

int RunClosedLoop(const Options& o) {
  Result r;
  r.mode = o.mode;
  std::vector<std::shared_ptr<grpc::Channel>> chans;
  std::vector<std::unique_ptr<Bench::Stub>> stubs;
  for (int i = 0; i < o.conns; ++i) {
    chans.push_back(MakeChannel(o, i));
    stubs.push_back(Bench::NewStub(chans.back()));
  }
  if (!ConnectAll(chans, r)) {
    r.rpcs_failed = 1;
    PrintResult(r);
    return 1;
  }
  const std::string payload(o.size, 'x');
  Run run(o);
  const int slots = o.conns * o.streams;
  if (o.mode == "unary") {
    std::vector<std::unique_ptr<UnarySlot>> v;
    for (int i = 0; i < slots; ++i) v.push_back(std::make_unique<UnarySlot>(run, stubs[i % o.conns].get(), payload));
    TimeWindow(run, r, [&] { for (auto& s : v) s->Issue(); }, slots);
    for (auto& s : v) {
      Merge(r, s->tally);
      r.lat_us.insert(r.lat_us.end(), s->tally.lat.begin(), s->tally.lat.end());
    }
  } else if (o.mode == "stream") {
    StreamRequest req;
    req.set_message_size(static_cast<uint32_t>(o.size));
    req.set_count(o.stream_count);
    std::vector<std::unique_ptr<StreamSlot>> v;
    for (int i = 0; i < slots; ++i) v.push_back(std::make_unique<StreamSlot>(run, stubs[i % o.conns].get(), req));
    TimeWindow(run, r, [&] { for (auto& s : v) s->Issue(); }, slots);
    for (auto& s : v) Merge(r, s->tally);  // per-message latency is not meaningful here
  } else {
    std::vector<std::unique_ptr<BidiSlot>> v;
    for (int i = 0; i < slots; ++i) v.push_back(std::make_unique<BidiSlot>(run, stubs[i % o.conns].get(), payload));
    TimeWindow(run, r, [&] { for (auto& s : v) s->Start(); }, slots);
    for (auto& s : v) {
      Merge(r, s->tally);
      r.lat_us.insert(r.lat_us.end(), s->tally.lat.begin(), s->tally.lat.end());
    }
  }
  PrintResult(r);
  return r.rpcs_failed == 0 && r.units > 0 ? 0 : 1;
}

// One connected channel for the single-connection modes; on failure the
// result is printed as failed and nullptr returned.
std::unique_ptr<Bench::Stub> ConnectOne(const Options& o, Result& r) {
  auto chan = MakeChannel(o, 0);
  if (!ConnectAll({chan}, r)) {
    r.rpcs_failed = 1;
    PrintResult(r);
    return nullptr;
  }
  return Bench::NewStub(chan);
}

// ---------------------------------------------------------------------------
// unary with --rate: open loop, a fixed arrival rate

struct OpenLoopRun {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t in_flight = 0;
  uint64_t ok = 0, failed = 0, window_units = 0;
  std::vector<uint32_t> lat;
  std::set<std::string> errors;
};

// One RPC of the open loop; deletes itself when done.
class OpenLoopCall {
 public:
  OpenLoopCall(OpenLoopRun& run, const Options& o, const std::string& payload, Clock::time_point scheduled,
               bool measured)
      : run_(run), scheduled_(scheduled), measured_(measured) {
    req_.set_data(payload);
    ctx_.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(static_cast<int64_t>(o.deadline * 1000)));
    AddMetadata(o, ctx_);
  }
  void Start(Bench::Stub* stub) {
    stub->async()->Unary(&ctx_, &req_, &resp_, [this](grpc::Status s) { Done(s); });
  }

 private:
  void Done(const grpc::Status& s) {
    // From the scheduled start: time spent waiting to be issued counts.
    auto us = static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - scheduled_).count());
    {
      std::lock_guard<std::mutex> lock(run_.mu);
      if (!s.ok()) {
        ++run_.failed;
        if (run_.errors.size() < 8) {
          run_.errors.insert("unary: status " + std::to_string(s.error_code()) + " " + s.error_message());
        }
      } else if (resp_.data().size() != req_.data().size()) {
        ++run_.failed;
        run_.errors.insert("unary: response of " + std::to_string(resp_.data().size()) + " bytes");
      } else {
        ++run_.ok;
        if (measured_) {
          ++run_.window_units;
          run_.lat.push_back(us);
        }
      }
      if (--run_.in_flight == 0) run_.cv.notify_all();
    }
    delete this;
  }
  OpenLoopRun& run_;
  grpc::ClientContext ctx_;
  Payload req_, resp_;
  Clock::time_point scheduled_;
  bool measured_;
};

int RunOpenLoop(const Options& o) {
  Result r;
  r.mode = "openloop";
  std::vector<std::shared_ptr<grpc::Channel>> chans;
  std::vector<std::unique_ptr<Bench::Stub>> stubs;
  for (int i = 0; i < o.conns; ++i) {
    chans.push_back(MakeChannel(o, i));
    stubs.push_back(Bench::NewStub(chans.back()));
  }
  if (!ConnectAll(chans, r)) {
    r.rpcs_failed = 1;
    PrintResult(r);
    return 1;
  }
  const std::string payload(o.size, 'x');
  OpenLoopRun run;
  const auto interval = std::chrono::duration<double>(1.0 / o.rate);
  const Clock::time_point t_start = Clock::now();
  const auto window_start = t_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup));
  const auto window_end = window_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  bool sampled_start = false;
  uint64_t scheduled_in_window = 0, overload = 0;
  uint64_t max_lag_us = 0;
  for (uint64_t k = 0;; ++k) {
    auto due = t_start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(k));
    if (due >= window_end) break;
    bool measured = due >= window_start;
    if (measured && !sampled_start) {
      std::this_thread::sleep_until(due);
      r.proxy0 = SampleProc(o.proxy_pid);
      r.backend0 = SampleProc(o.backend_pid);
      sampled_start = true;
    }
    auto now = Clock::now();
    if (due > now) {
      std::this_thread::sleep_until(due);
    } else {
      max_lag_us = std::max<uint64_t>(
          max_lag_us, static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - due).count()));
    }
    if (measured) ++scheduled_in_window;
    {
      std::lock_guard<std::mutex> lock(run.mu);
      if (run.in_flight >= o.max_inflight) {
        ++overload;  // not issued: the target is far past saturation
        continue;
      }
      ++run.in_flight;
    }
    auto* call = new OpenLoopCall(run, o, payload, due, measured);
    call->Start(stubs[k % stubs.size()].get());
  }
  std::this_thread::sleep_until(window_end);
  r.proxy1 = SampleProc(o.proxy_pid);
  r.backend1 = SampleProc(o.backend_pid);
  r.window_secs = o.duration;
  {
    std::unique_lock<std::mutex> lock(run.mu);
    if (!run.cv.wait_for(lock, std::chrono::duration<double>(o.deadline + 10), [&] { return run.in_flight == 0; })) {
      r.errors.insert(std::to_string(run.in_flight) + " RPCs still in flight after the drain timeout");
      r.rpcs_failed = run.failed + run.in_flight;
      PrintResult(r);
      std::_Exit(1);  // calls still reference `run`; do not unwind
    }
  }
  r.rpcs_ok = run.ok;
  r.rpcs_failed = run.failed + overload;
  r.units = run.window_units;
  r.lat_us = std::move(run.lat);
  r.errors = run.errors;
  if (overload > 0) {
    r.errors.insert(std::to_string(overload) + " RPCs not issued: more than " + std::to_string(o.max_inflight) +
                    " in flight");
  }
  std::ostringstream offered;
  offered.setf(std::ios::fixed);
  offered.precision(1);
  offered << o.rate;
  r.extra["offered_rps"] = offered.str();
  r.extra["scheduled"] = std::to_string(scheduled_in_window);
  r.extra["max_issue_lag_us"] = std::to_string(max_lag_us);
  PrintResult(r);
  return r.rpcs_failed == 0 && r.units > 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// latency: one RPC at a time on one connection

int RunLatency(const Options& o) {
  Result r;
  r.mode = o.mode;
  auto stub = ConnectOne(o, r);
  if (!stub) return 1;
  Payload req;
  req.set_data(std::string(o.size, 'x'));
  auto one = [&](bool measure) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.deadline * 1000)));
    AddMetadata(o, ctx);
    Payload resp;
    auto t = Clock::now();
    grpc::Status s = stub->Unary(&ctx, req, &resp);
    uint32_t us = MicrosSince(t);
    if (!s.ok()) {
      ++r.rpcs_failed;
      r.errors.insert("latency: status " + std::to_string(s.error_code()) + " " + s.error_message());
    } else if (resp.data().size() != req.data().size()) {
      ++r.rpcs_failed;
      r.errors.insert("latency: short response");
    } else {
      ++r.rpcs_ok;
      if (measure) {
        ++r.units;
        r.lat_us.push_back(us);
      }
    }
  };
  auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.warmup));
  while (Clock::now() < until) one(false);
  r.proxy0 = SampleProc(o.proxy_pid);
  r.backend0 = SampleProc(o.backend_pid);
  auto t0 = Clock::now();
  until = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  while (Clock::now() < until) one(true);
  r.window_secs = Secs(Clock::now() - t0);
  r.proxy1 = SampleProc(o.proxy_pid);
  r.backend1 = SampleProc(o.backend_pid);
  PrintResult(r);
  return r.rpcs_failed == 0 && r.units > 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// slowread: one big server stream read at a bounded rate

int RunSlowRead(const Options& o) {
  Result r;
  r.mode = o.mode;
  auto stub = ConnectOne(o, r);
  if (!stub) return 1;
  StreamRequest req;
  req.set_message_size(static_cast<uint32_t>(o.size));
  req.set_count((o.total + o.size - 1) / o.size);
  const uint64_t want_bytes = req.count() * o.size;

  // Sample the proxy's RSS every 10 ms while the stream runs.
  std::atomic<bool> sampling{true};
  std::atomic<uint64_t> peak_rss{0};
  r.proxy0 = SampleProc(o.proxy_pid);
  r.backend0 = SampleProc(o.backend_pid);
  std::thread sampler([&] {
    while (sampling.load()) {
      ProcSample s = SampleProc(o.proxy_pid);
      if (s.valid && s.rss_kb > peak_rss.load()) peak_rss.store(s.rss_kb);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  grpc::ClientContext ctx;
  const double rate = o.rate_mib * 1024 * 1024;  // bytes/s
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::seconds(static_cast<int64_t>(o.deadline + static_cast<double>(want_bytes) / rate)));
  AddMetadata(o, ctx);
  auto t0 = Clock::now();
  auto reader = stub->Stream(&ctx, req);
  Payload msg;
  uint64_t bytes = 0, msgs = 0;
  bool bad = false;
  while (reader->Read(&msg)) {
    if (msg.data().size() != o.size) bad = true;
    bytes += msg.data().size();
    ++msgs;
    auto due = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(static_cast<double>(bytes) / rate));
    if (due > Clock::now()) std::this_thread::sleep_until(due);
  }
  grpc::Status s = reader->Finish();
  r.window_secs = Secs(Clock::now() - t0);
  sampling.store(false);
  sampler.join();
  r.proxy1 = SampleProc(o.proxy_pid);
  r.backend1 = SampleProc(o.backend_pid);
  r.units = msgs;
  r.msgs_total = msgs;
  if (!s.ok()) {
    r.rpcs_failed = 1;
    r.errors.insert("slowread: status " + std::to_string(s.error_code()) + " " + s.error_message());
  } else if (bytes != want_bytes || bad) {
    r.rpcs_failed = 1;
    r.errors.insert("slowread: got " + std::to_string(bytes) + " of " + std::to_string(want_bytes) + " bytes");
  } else {
    r.rpcs_ok = 1;
  }
  r.extra["bytes"] = std::to_string(bytes);
  r.extra["mib_per_s"] = std::to_string(static_cast<double>(bytes) / (1024.0 * 1024.0) / r.window_secs);
  if (r.proxy0.valid) {
    uint64_t peak = std::max(peak_rss.load(), r.proxy1.rss_kb);
    r.extra["rss_before_kb"] = std::to_string(r.proxy0.rss_kb);
    r.extra["rss_peak_kb"] = std::to_string(peak);
    r.extra["rss_growth_kb"] = std::to_string(peak > r.proxy0.rss_kb ? peak - r.proxy0.rss_kb : 0);
  }
  PrintResult(r);
  return r.rpcs_failed == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// idle: raw HTTP/2 connections that never open a stream

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

void FrameHeader(std::string& out, uint32_t len, uint8_t type, uint8_t flags, uint32_t stream) {
  out.push_back(static_cast<char>((len >> 16) & 0xff));
  out.push_back(static_cast<char>((len >> 8) & 0xff));
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flags));
  out.push_back(static_cast<char>((stream >> 24) & 0x7f));
  out.push_back(static_cast<char>((stream >> 16) & 0xff));
  out.push_back(static_cast<char>((stream >> 8) & 0xff));
  out.push_back(static_cast<char>(stream & 0xff));
}

struct IdleConn {
  int fd = -1;
  std::string in;
  bool closed = false;
};

// Reads what the peer sent and acknowledges SETTINGS and PING. Returns false
// once the peer has closed the connection (or sent GOAWAY).
bool ServiceIdle(IdleConn& c) {
  char buf[16384];
  for (int guard = 0; guard < 64; ++guard) {
    ssize_t n = read(c.fd, buf, sizeof(buf));
    if (n == 0) return false;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    c.in.append(buf, static_cast<size_t>(n));
  }
  std::string out;
  while (c.in.size() >= 9) {
    auto u = [&](size_t i) { return static_cast<uint8_t>(c.in[i]); };
    uint32_t len = (u(0) << 16) | (u(1) << 8) | u(2);
    if (c.in.size() < 9 + len) break;
    uint8_t type = u(3), flags = u(4);
    if (type == 0x4 && !(flags & 0x1)) {
      FrameHeader(out, 0, 0x4, 0x1, 0);  // SETTINGS ACK
    } else if (type == 0x6 && !(flags & 0x1) && len == 8) {
      FrameHeader(out, 8, 0x6, 0x1, 0);  // PING ACK
      out.append(c.in, 9, 8);
    } else if (type == 0x7) {
      return false;  // GOAWAY
    }
    c.in.erase(0, 9 + len);
  }
  if (!out.empty() && write(c.fd, out.data(), out.size()) < 0 && errno != EAGAIN) return false;
  return true;
}

int RunIdle(const Options& o) {
  Result r;
  r.mode = o.mode;
  auto colon = o.target.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(o.target.substr(colon + 1).c_str())));
  if (colon == std::string::npos || inet_pton(AF_INET, o.target.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "sy_bench_load: idle mode needs an IPv4 HOST:PORT target\n");
    return 2;
  }
  r.proxy0 = SampleProc(o.proxy_pid);
  r.backend0 = SampleProc(o.backend_pid);
  std::string hello(kPreface, sizeof(kPreface) - 1);
  FrameHeader(hello, 0, 0x4, 0, 0);  // empty SETTINGS
  std::vector<IdleConn> conns(static_cast<size_t>(o.conns));
  auto service_all = [&](int timeout_ms) {
    std::vector<pollfd> pfds;
    std::vector<size_t> idx;
    for (size_t i = 0; i < conns.size(); ++i) {
      if (conns[i].fd < 0 || conns[i].closed) continue;
      pfds.push_back({conns[i].fd, POLLIN, 0});
      idx.push_back(i);
    }
    if (pfds.empty()) return;
    if (poll(pfds.data(), pfds.size(), timeout_ms) <= 0) return;
    for (size_t k = 0; k < pfds.size(); ++k) {
      if (pfds[k].revents == 0) continue;
      if (!ServiceIdle(conns[idx[k]])) conns[idx[k]].closed = true;
    }
  };
  size_t connect_failed = 0;
  auto t0 = Clock::now();
  for (size_t i = 0; i < conns.size(); ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      if (fd >= 0) close(fd);
      if (++connect_failed == 1) r.errors.insert(std::string("idle: connect: ") + std::strerror(errno));
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (write(fd, hello.data(), hello.size()) != static_cast<ssize_t>(hello.size())) {
      close(fd);
      ++connect_failed;
      continue;
    }
    conns[i].fd = fd;
    if (i % 256 == 255) service_all(0);  // keep up with the peers' SETTINGS
  }
  // Let every connection finish its handshake, then hold them for --duration.
  auto settle_until = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < settle_until) service_all(50);
  r.proxy1 = SampleProc(o.proxy_pid);  // RSS with every connection established
  auto hold_until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  while (Clock::now() < hold_until) service_all(100);
  ProcSample end = SampleProc(o.proxy_pid);
  size_t open = 0;
  for (auto& c : conns) {
    if (c.fd >= 0 && !c.closed) ++open;
  }
  r.window_secs = Secs(Clock::now() - t0);
  r.units = open;
  r.rpcs_ok = open;
  r.rpcs_failed = conns.size() - open;
  if (r.rpcs_failed > 0) {
    r.errors.insert("idle: " + std::to_string(r.rpcs_failed) + " of " + std::to_string(conns.size()) +
                    " connections failed or were closed by the peer");
  }
  if (r.proxy0.valid && r.proxy1.valid) {
    uint64_t grown = std::max(r.proxy1.rss_kb, end.rss_kb);
    grown = grown > r.proxy0.rss_kb ? grown - r.proxy0.rss_kb : 0;
    r.extra["rss_before_kb"] = std::to_string(r.proxy0.rss_kb);
    r.extra["rss_held_kb"] = std::to_string(std::max(r.proxy1.rss_kb, end.rss_kb));
    r.extra["bytes_per_conn"] = std::to_string(conns.empty() ? 0 : grown * 1024 / conns.size());
    r.proxy1 = end;
  }
  for (auto& c : conns) {
    if (c.fd >= 0) close(c.fd);
  }
  PrintResult(r);
  return r.rpcs_failed == 0 ? 0 : 1;
}

constexpr const char* kUsage =
    "usage: sy_bench_load --target HOST:PORT --mode unary|stream|bidi|latency|slowread|idle\n"
    "  [--conns N] [--streams M] [--size BYTES] [--duration S] [--warmup S]\n"
    "  [--stream-count K] [--total BYTES] [--rate RPC_PER_S (unary) | MIB_PER_S (slowread)]\n"
    "  [--max-inflight N] [--deadline S]\n"
    "  [--ca FILE [--cert FILE --key FILE]] [--authority NAME] [--proxy-pid PID] [--backend-pid PID]\n"
    "  [--metadata NAME=VALUE]...\n";

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "sy_bench_load: %s needs a value\n%s", arg.c_str(), kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--target") o.target = value();
    else if (arg == "--mode") o.mode = value();
    else if (arg == "--conns") o.conns = std::atoi(value().c_str());
    else if (arg == "--streams") o.streams = std::atoi(value().c_str());
    else if (arg == "--size") o.size = std::strtoull(value().c_str(), nullptr, 10);
    else if (arg == "--duration") o.duration = std::atof(value().c_str());
    else if (arg == "--warmup") o.warmup = std::atof(value().c_str());
    else if (arg == "--stream-count") o.stream_count = std::strtoull(value().c_str(), nullptr, 10);
    else if (arg == "--total") o.total = std::strtoull(value().c_str(), nullptr, 10);
    else if (arg == "--rate") o.rate = std::atof(value().c_str());
    else if (arg == "--max-inflight") o.max_inflight = std::strtoull(value().c_str(), nullptr, 10);
    else if (arg == "--deadline") o.deadline = std::atof(value().c_str());
    else if (arg == "--ca") o.ca = value();
    else if (arg == "--authority") o.authority = value();
    else if (arg == "--cert") o.cert = value();
    else if (arg == "--key") o.key = value();
    else if (arg == "--proxy-pid") o.proxy_pid = std::atoi(value().c_str());
    else if (arg == "--backend-pid") o.backend_pid = std::atoi(value().c_str());
    else if (arg == "--metadata") {
      std::string kv = value();
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "sy_bench_load: --metadata wants NAME=VALUE, not '%s'\n%s", kv.c_str(), kUsage);
        return 2;
      }
      o.metadata.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else {
      std::fprintf(stderr, "sy_bench_load: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  if (o.mode == "slowread" && o.rate != -1) o.rate_mib = o.rate;
  if (o.target.empty() || (o.rate != -1 && o.rate <= 0) || o.max_inflight == 0 || o.conns < 1 || o.streams < 1 || o.duration <= 0 || o.warmup < 0 || o.size == 0 ||
      o.rate_mib <= 0 || o.cert.empty() != o.key.empty() || (!o.cert.empty() && o.ca.empty())) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  if (o.mode == "unary" && o.rate > 0) return RunOpenLoop(o);
  if (o.mode == "unary" || o.mode == "stream" || o.mode == "bidi") return RunClosedLoop(o);
  if (o.mode == "latency") return RunLatency(o);
  if (o.mode == "slowread") return RunSlowRead(o);
  if (o.mode == "idle") return RunIdle(o);
  std::fprintf(stderr, "sy_bench_load: unknown mode '%s'\n%s", o.mode.c_str(), kUsage);
  return 2;
}
