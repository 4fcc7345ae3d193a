#include "proxy/request_identity.h"

#include <array>
#include <cassert>
#include <chrono>
#include <cstring>
#include <cstdint>
#include <random>
#include <thread>

namespace switchyard::proxy {
namespace {

// The two hex digits of every byte value, so ids are written a byte at a time.
constexpr std::array<char, 512> kHexPairs = [] {
  constexpr char kHex[] = "0123456789abcdef";
  std::array<char, 512> t{};
  for (size_t b = 0; b < 256; ++b) {
    t[2 * b] = kHex[b >> 4];
    t[2 * b + 1] = kHex[b & 0xf];
  }
  return t;
}();

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

// Writes the low `digits` (even) hex digits of v at out; returns the end.
char* putHex(char* out, uint64_t v, int digits) {
  assert(digits % 2 == 0);
  for (int shift = (digits - 2) * 4; shift >= 0; shift -= 8) {
    std::memcpy(out, &kHexPairs[((v >> shift) & 0xff) * 2], 2);
    out += 2;
  }
  return out;
}

}  // namespace

void writeRequestId(char* out) {
  uint64_t hi = nextRandom();
  uint64_t lo = nextRandom();
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                  // version 4
  lo = (lo & ~(0xc000ULL << 48)) | (0x8000ULL << 48);  // variant 10
  out = putHex(out, hi >> 32, 8);
  *out++ = '-';
  out = putHex(out, (hi >> 16) & 0xffff, 4);
  *out++ = '-';
  out = putHex(out, hi & 0xffff, 4);
  *out++ = '-';
  out = putHex(out, lo >> 48, 4);
  *out++ = '-';
  putHex(out, lo & 0xffffffffffffULL, 12);
}

void writeTraceparent(char* out) {
  uint64_t hi = nextRandom();
  uint64_t lo = nextRandom();
  uint64_t parent = nextRandom();
  if ((hi | lo) == 0) lo = 1;  // an all-zero trace id is invalid
  if (parent == 0) parent = 1;
  std::memcpy(out, "00-", 3);
  out = putHex(out + 3, hi, 16);
  out = putHex(out, lo, 16);
  *out++ = '-';
  out = putHex(out, parent, 16);
  std::memcpy(out, "-01", 3);
}

std::string makeRequestId() {
  std::string s(RequestIdentity::kRequestIdSize, '0');
  writeRequestId(s.data());
  return s;
}

std::string makeTraceparent() {
  std::string s(RequestIdentity::kTraceparentSize, '0');
  writeTraceparent(s.data());
  return s;
}

void RequestIdentity::resolve(const http2::HeaderList& headers, const config::TracingSpec& tracing) {
  bool has_id = false;
  bool has_trace = false;
  for (const auto& field : headers.fields()) {
    std::string_view name = field.name;
    if (name == "x-request-id" && !has_id) {
      client_id_ = field.value;
      has_id = true;
    } else if (name == "traceparent" && !has_trace) {
      client_trace_ = field.value;
      has_trace = true;
    } else if (name == ":authority") {
      authority_ = field.value;
    } else if (name == "user-agent") {
      user_agent_ = field.value;
    }
  }
  has_id_ = !has_id && tracing.generate_request_id;
  if (has_id_) writeRequestId(id_);
  has_trace_ = !has_trace && tracing.start_traceparent;
  if (has_trace_) writeTraceparent(trace_);
}

void RequestIdentity::appendGenerated(http2::NvList& nva) const {
  // Unique per request: indexing them would only churn the HPACK table.
  if (has_id_) nva.add("x-request-id", requestId(), NGHTTP2_NV_FLAG_NO_INDEX);
  if (has_trace_) nva.add("traceparent", traceparent(), NGHTTP2_NV_FLAG_NO_INDEX);
}

}  // namespace switchyard::proxy
