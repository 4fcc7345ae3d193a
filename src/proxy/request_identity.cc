#include "proxy/request_identity.h"

#include <chrono>
#include <cstdint>
#include <random>
#include <thread>

namespace switchyard::proxy {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// splitmix64, one state per thread, seeded once from the OS.
uint64_t nextRandom() {
  thread_local uint64_t state = [] {
    std::random_device rd;
    uint64_t seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    seed ^= static_cast<uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    seed ^= std::hash<std::thread::id>{}(std::this_thread::get_id());
    return seed;
  }();
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void appendHex(std::string& out, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) out += kHex[(v >> (i * 4)) & 0xf];
}

}  // namespace

std::string makeRequestId() {
  uint64_t hi = nextRandom();
  uint64_t lo = nextRandom();
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                               // version 4
  lo = (lo & ~(0xc000ULL << 48)) | (0x8000ULL << 48);               // variant 10
  std::string s;
  s.reserve(36);
  appendHex(s, hi >> 32, 8);
  s += '-';
  appendHex(s, (hi >> 16) & 0xffff, 4);
  s += '-';
  appendHex(s, hi & 0xffff, 4);
  s += '-';
  appendHex(s, lo >> 48, 4);
  s += '-';
  appendHex(s, lo & 0xffffffffffffULL, 12);
  return s;
}

std::string makeTraceparent() {
  uint64_t hi = nextRandom();
  uint64_t lo = nextRandom();
  uint64_t parent = nextRandom();
  if ((hi | lo) == 0) lo = 1;  // an all-zero trace id is invalid
  if (parent == 0) parent = 1;
  std::string s = "00-";
  s.reserve(55);
  appendHex(s, hi, 16);
  appendHex(s, lo, 16);
  s += '-';
  appendHex(s, parent, 16);
  s += "-01";
  return s;
}

void RequestIdentity::resolve(const http2::HeaderList& headers, const config::TracingSpec& tracing) {
  bool has_id = false;
  bool has_trace = false;
  client_id_ = headers.get("x-request-id", &has_id);
  client_trace_ = headers.get("traceparent", &has_trace);
  if (!has_id && tracing.generate_request_id) generated_id_ = makeRequestId();
  if (!has_trace && tracing.start_traceparent) generated_trace_ = makeTraceparent();
}

void RequestIdentity::appendGenerated(http2::NvList& nva) const {
  if (!generated_id_.empty()) nva.add("x-request-id", generated_id_);
  if (!generated_trace_.empty()) nva.add("traceparent", generated_trace_);
}

}  // namespace switchyard::proxy
