// Support for the hostile-traffic tests: a fixture that starts the daemon from
// YAML with extra listener and cluster keys, a well-behaved canary client that
// makes unary and streaming calls through an attack and records their
// latencies, a raw HTTP/2 connection with a hand-written HPACK encoder (for
// header blocks no HTTP/2 library will produce), and readers for the proxy's
// RSS and CPU time.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ops_support.h"
#include "raw_h2.h"

namespace sytest::hostile {

using switchyard::test::EchoRequest;
using switchyard::test::EchoResponse;
using namespace std::string_literals;

// HTTP/2 frame types and error codes used here.
constexpr uint8_t kData = 0x0, kHeaders = 0x1, kRstStream = 0x3, kSettings = 0x4, kPing = 0x6,
                  kGoaway = 0x7, kWindowUpdate = 0x8, kContinuation = 0x9;
constexpr uint8_t kEndStream = 0x1, kEndHeaders = 0x4;
constexpr uint32_t kProtocolError = 0x1, kFlowControlError = 0x3, kRefusedStream = 0x7, kCancel = 0x8,
                   kCompressionError = 0x9, kEnhanceYourCalm = 0xb;

// ------------------------------------------------------------------ HPACK

// An HPACK integer with an n-bit prefix; `first` holds the pattern bits above it.
inline std::string HpackInt(uint8_t first, int prefix_bits, uint64_t v) {
  std::string out;
  const uint64_t max = (1u << prefix_bits) - 1;
  if (v < max) {
    out.push_back(static_cast<char>(first | v));
    return out;
  }
  out.push_back(static_cast<char>(first | max));
  v -= max;
  while (v >= 128) {
    out.push_back(static_cast<char>((v % 128) + 128));
    v /= 128;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
inline std::string HpackString(const std::string& s) { return HpackInt(0x00, 7, s.size()) + s; }
// Literal field, new name, not indexed (RFC 7541 6.2.2).
inline std::string LiteralField(const std::string& name, const std::string& value) {
  return "\x00"s + HpackString(name) + HpackString(value);
}
// Literal field, new name, added to the dynamic table (6.2.1).
inline std::string IndexedLiteralField(const std::string& name, const std::string& value) {
  return "\x40"s + HpackString(name) + HpackString(value);
}
// A reference to table entry `index` (6.1); 62 is the newest dynamic entry.
inline std::string IndexedField(uint32_t index) { return HpackInt(0x80, 7, index); }

// The header block of a gRPC request to path.
inline std::string GrpcRequestBlock(const std::string& path, const HeaderList& extra = {}) {
  std::string b = LiteralField(":method", "POST") + LiteralField(":scheme", "http") +
                  LiteralField(":path", path) + LiteralField(":authority", "localhost") +
                  LiteralField("content-type", "application/grpc") + LiteralField("te", "trailers");
  for (const auto& [n, v] : extra) b += LiteralField(n, v);
  return b;
}

// HEADERS (+ CONTINUATION) frames carrying block on stream id.
inline std::string HeadersFrames(uint32_t id, const std::string& block, bool end_stream,
                                 size_t max_frame = 16384) {
  std::string out;
  size_t off = 0;
  bool first = true;
  do {
    std::string part = block.substr(off, max_frame);
    off += part.size();
    uint8_t flags = off >= block.size() ? kEndHeaders : 0;
    if (first && end_stream) flags |= kEndStream;
    out += EncodeFrame(first ? kHeaders : kContinuation, flags, id, part);
    first = false;
  } while (off < block.size());
  return out;
}

inline std::string U32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
}
inline std::string RstFrame(uint32_t id, uint32_t code) { return EncodeFrame(kRstStream, 0, id, U32(code)); }
inline std::string WindowUpdateFrame(uint32_t id, uint32_t inc) { return EncodeFrame(kWindowUpdate, 0, id, U32(inc)); }
inline uint32_t FrameCode(const RawFrame& f) {
  if (f.payload.size() < 4) return 0xffffffff;
  size_t at = f.type == kGoaway ? 4 : 0;
  if (f.payload.size() < at + 4) return 0xffffffff;
  const auto* p = reinterpret_cast<const unsigned char*>(f.payload.data() + at);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// ------------------------------------------------------------------ raw connection

// A cleartext HTTP/2 connection driven frame by frame. Reads are collected as
// they come; the connection is closed on destruction.
class RawConn {
 public:
  explicit RawConn(const std::string& address, bool preface = true) : fd_(ConnectTcp(address)) {
    if (fd_ >= 0 && preface) Send(std::string(kClientPreface) + EncodeFrame(kSettings, 0, 0, ""));
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool ok() const { return fd_ >= 0; }
  // Half-closes: the peer reads EOF, our side can still read.
  void ShutdownWrite() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
  }
  bool Send(const std::string& bytes) {
    if (fd_ < 0) return false;
    Pump(0ms);
    return WriteAll(fd_, bytes);
  }
  // Reads what has arrived, waiting up to wait for the first bytes.
  void Pump(std::chrono::milliseconds wait) {
    if (fd_ < 0) return;
    auto until = Clock::now() + wait;
    char buf[65536];
    for (int i = 0; i < 10000 && !closed_; ++i) {
      auto left = std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count());
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<long>(left, 50))) <= 0) {
        if (left == 0) break;
        continue;
      }
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        closed_ = true;
        break;
      }
      bytes_.append(buf, static_cast<size_t>(n));
      Parse();
    }
  }
  // Waits (bounded) until pred holds over the frames read so far, or the peer closed.
  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10000ms) {
    if (fd_ < 0) return pred();  // never connected: nothing will arrive
    auto until = Clock::now() + timeout;
    for (int i = 0; i < 100000 && Clock::now() < until; ++i) {
      if (pred()) return true;
      if (closed_) return pred();
      Pump(50ms);
    }
    return pred();
  }
  bool WaitClosed(std::chrono::milliseconds timeout = 10000ms) {
    return WaitFor([&] { return closed_; }, timeout);
  }
  const std::vector<RawFrame>& frames() const { return frames_; }
  bool closed() const { return closed_; }
  // The first frame of type (and code, for RST_STREAM/GOAWAY), or null.
  const RawFrame* Find(uint8_t type, std::optional<uint32_t> code = std::nullopt) const {
    for (const auto& f : frames_) {
      if (f.type == type && (!code || FrameCode(f) == *code)) return &f;
    }
    return nullptr;
  }
  size_t Count(uint8_t type, std::optional<uint32_t> code = std::nullopt) const {
    size_t n = 0;
    for (const auto& f : frames_) n += f.type == type && (!code || FrameCode(f) == *code);
    return n;
  }
  std::string Describe() const {
    std::ostringstream o;
    o << frames_.size() << " frames" << (closed_ ? ", closed" : ", open") << ":";
    for (size_t i = 0; i < frames_.size() && i < 40; ++i) {
      o << " [type " << int(frames_[i].type) << " stream " << frames_[i].stream_id;
      if (frames_[i].type == kRstStream || frames_[i].type == kGoaway) o << " code " << FrameCode(frames_[i]);
      o << "]";
    }
    return o.str();
  }

 private:
  void Parse() {
    while (bytes_.size() - off_ >= 9) {
      const auto* b = reinterpret_cast<const unsigned char*>(bytes_.data() + off_);
      RawFrame f;
      f.length = (uint32_t{b[0]} << 16) | (uint32_t{b[1]} << 8) | b[2];
      f.type = b[3];
      f.flags = b[4];
      f.stream_id = ((uint32_t{b[5]} & 0x7f) << 24) | (uint32_t{b[6]} << 16) | (uint32_t{b[7]} << 8) | b[8];
      if (bytes_.size() - off_ - 9 < f.length) break;
      f.payload = bytes_.substr(off_ + 9, f.length);
      off_ += 9 + f.length;
      frames_.push_back(std::move(f));
    }
  }
  int fd_;
  std::string bytes_;
  size_t off_ = 0;
  std::vector<RawFrame> frames_;
  bool closed_ = false;
};

// ------------------------------------------------------------------ process readings

// User + system CPU time of a process, in seconds (-1 if unknown).
inline double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// ------------------------------------------------------------------ canary

// A well-behaved client: alternating unary and server-streaming calls on one
// channel, each checked for content and timed.
class Canary {
 public:
  explicit Canary(const std::string& address)
      : stub_(switchyard::test::Echo::NewStub(MakeChannel(address))) {}
  ~Canary() { Stop(); }

  // Runs n calls in the foreground; returns their p99 latency in ms (the baseline).
  double Baseline(int n = 60) {
    std::vector<double> lat;
    for (int i = 0; i < n; ++i) lat.push_back(OneCall(i));
    return P99(lat);
  }
  void Start() {
    thread_ = std::thread([this] {
      for (int i = 0; i < 1000000 && (!stop_ || calls_ < 20); ++i) {
        double ms = OneCall(i);
        std::lock_guard<std::mutex> g(mu_);
        latencies_.push_back(ms);
      }
    });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int calls() const { return calls_; }
  int failures() const { return failures_; }
  std::string first_error() const {
    std::lock_guard<std::mutex> g(mu_);
    return first_error_;
  }
  double p99() const {
    std::lock_guard<std::mutex> g(mu_);
    return P99(latencies_);
  }
  // A generous bound for the p99 during an attack, given the baseline p99.
  static double Allowed(double baseline_p99_ms) {
    return std::max(20 * baseline_p99_ms, 500.0) * kSanitizerSlack;
  }

 private:
  static double P99(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, v.size() * 99 / 100)];
  }
  double OneCall(int i) {
    auto start = Clock::now();
    grpc::ClientContext ctx;
    ctx.set_deadline(In(20s));
    EchoRequest req;
    req.set_payload("canary-" + std::to_string(i));
    std::string error;
    if (i % 2 == 0) {
      EchoResponse resp;
      grpc::Status s = stub_->Unary(&ctx, req, &resp);
      if (!s.ok() || resp.payload() != req.payload()) error = "unary: " + std::to_string(s.error_code()) + " " + s.error_message();
    } else {
      req.set_count(3);
      req.set_response_size(100);
      auto reader = stub_->ServerStream(&ctx, req);
      EchoResponse resp;
      int got = 0;
      while (got < 10 && reader->Read(&resp)) ++got;
      grpc::Status s = reader->Finish();
      if (!s.ok() || got != 3) error = "stream: " + std::to_string(s.error_code()) + " " + s.error_message() + " after " + std::to_string(got);
    }
    ++calls_;
    if (!error.empty()) {
      ++failures_;
      std::lock_guard<std::mutex> g(mu_);
      if (first_error_.empty()) first_error_ = error;
    }
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  }

  std::unique_ptr<switchyard::test::Echo::Stub> stub_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
  std::atomic<int> failures_{0};
  mutable std::mutex mu_;
  std::vector<double> latencies_;
  std::string first_error_;
};

// ------------------------------------------------------------------ fixture

class HostileTest : public ops::OpsTest {
 protected:
  // Starts the daemon with one cleartext listener (plus `listener_extra`
  // lines under it) routing Echo and Greeter to cluster "echo" = endpoints
  // (plus `cluster_extra` lines).
  // With scripted_endpoint set, paths under /hostile.Backend/ go to cluster
  // "scripted" (that endpoint, plus `cluster_extra` lines too).
  void StartHostile(const std::vector<std::string>& endpoints, const std::vector<std::string>& listener_extra = {},
                    const std::vector<std::string>& cluster_extra = {}, const std::string& scripted_endpoint = "") {
    admin_address_ = Loopback();
    proxy_address_ = Loopback();
    std::ostringstream y;
    y << "workers: 2\nadmin: { address: \"" << admin_address_ << "\" }\n";
    y << "listeners:\n  - name: public\n    address: \"" << proxy_address_ << "\"\n";
    for (const auto& l : listener_extra) y << "    " << l << "\n";
    y << "routes:\n  - match: { service: switchyard.test.Echo }\n    cluster: echo\n";
    if (!scripted_endpoint.empty()) y << "  - match: { service: hostile.Backend }\n    cluster: scripted\n";
    y << "clusters:\n  - name: echo\n    endpoints: [";
    for (size_t i = 0; i < endpoints.size(); ++i) y << (i ? ", " : "") << "\"" << endpoints[i] << "\"";
    y << "]\n";
    for (const auto& c : cluster_extra) y << "    " << c << "\n";
    if (!scripted_endpoint.empty()) {
      y << "  - name: scripted\n    endpoints: [\"" << scripted_endpoint << "\"]\n";
      for (const auto& c : cluster_extra) y << "    " << c << "\n";
    }
    WriteFile(config_path(), y.str());
    proxy_ = std::make_unique<ProcessGuard>(
        std::vector<std::string>{ProxyBinary(), "--config", config_path().string(), "--log-level", "info"},
        dir_ / "switchyard.out", dir_ / "switchyard.err");
    // Both are configured with port 0: the real ports come from the daemon's log.
    for (auto* address : {&proxy_address_, &admin_address_}) {
      std::string bound = WaitListening(*proxy_, address == &admin_address_ ? "admin" : "public", *address);
      ASSERT_TRUE(!bound.empty() && proxy_->running()) << "switchyard did not start listening on " << *address
                                                       << "\nconfig:\n" << y.str() << "\nstderr:\n"
                                                       << proxy_->err();
      *address = bound;
    }
  }

  double Metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return ops::Sum(Scrape(), name, labels);
  }
  double ListenerLimit(const std::string& limit) {
    return Metric("switchyard_listener_limits_hit_total", {{"limit", limit}});
  }
  double Glitches(const std::string& cause) {
    return Metric("switchyard_listener_http2_glitches_total", {{"cause", cause}});
  }
  // Waits (bounded) until the metric reaches at least want.
  bool WaitMetric(const std::string& name, const std::map<std::string, std::string>& labels, double want) {
    return WaitUntil([&] { return Metric(name, labels) >= want; }, 10000ms, 50ms);
  }

  // Canary checks after an attack: nothing lost, p99 within a generous multiple.
  void ExpectCanaryUnharmed(Canary& canary, double baseline_p99) {
    canary.Stop();
    EXPECT_EQ(canary.failures(), 0) << "of " << canary.calls() << " canary calls; first: " << canary.first_error();
    EXPECT_GE(canary.calls(), 20);
    EXPECT_LE(canary.p99(), Canary::Allowed(baseline_p99)) << "canary p99 " << canary.p99() << "ms, baseline "
                                                           << baseline_p99 << "ms";
  }
  // RSS must come back near where it started (generous: +64 MiB).
  void ExpectRssNear(long baseline_kb) {
    long now = -1;
    bool back = WaitUntil([&] { return (now = ReadRssKb(proxy_pid())) >= 0 && now < baseline_kb + 64 * 1024 * kSanitizerSlack; },
                          10000ms, 50ms);
    EXPECT_TRUE(back) << "RSS " << now << " KiB, baseline " << baseline_kb << " KiB";
  }
};

}  // namespace sytest::hostile
