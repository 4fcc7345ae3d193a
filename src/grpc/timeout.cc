#include "grpc/timeout.h"

#include <array>
#include <charconv>
#include <cstdint>

namespace switchyard::grpc {
namespace {

struct Unit {
  char letter;
  int64_t nanos;
};

// Finest to coarsest.
constexpr std::array<Unit, 6> kUnits = {{
    {'n', 1},
    {'u', 1'000},
    {'m', 1'000'000},
    {'S', 1'000'000'000},
    {'M', 60LL * 1'000'000'000},
    {'H', 3600LL * 1'000'000'000},
}};

const Unit* unitFor(char c) {
  for (const Unit& u : kUnits) {
    if (u.letter == c) return &u;
  }
  return nullptr;
}

}  // namespace

std::optional<Duration> parseGrpcTimeout(std::string_view value) {
  // 1..8 digits plus the unit.
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  const Unit* unit = unitFor(value.back());
  if (unit == nullptr) return std::nullopt;
  int64_t v = 0;
  for (char c : value.substr(0, value.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > kMaxGrpcTimeout.count() / unit->nanos) return kMaxGrpcTimeout;
  return Duration(v * unit->nanos);
}

GrpcTimeoutText formatGrpcTimeoutText(Duration d) {
  GrpcTimeoutText text;
  auto write = [&text](int64_t v, char unit) {
    char* end = std::to_chars(text.bytes, text.bytes + 8, v).ptr;  // v has at most 8 digits
    *end++ = unit;
    text.size = static_cast<uint8_t>(end - text.bytes);
    return text;
  };
  const int64_t ns = d.count();
  if (ns <= 0) return write(1, 'n');
  for (size_t i = 0; i < kUnits.size(); ++i) {
    // Ceiling division; ns > 0 so this cannot overflow.
    int64_t v = (ns - 1) / kUnits[i].nanos + 1;
    if (v > kMaxGrpcTimeoutValue) continue;
    // Restate exactly in coarser units where possible.
    while (i + 1 < kUnits.size()) {
      const int64_t ratio = kUnits[i + 1].nanos / kUnits[i].nanos;
      if (v % ratio != 0) break;
      v /= ratio;
      ++i;
    }
    return write(v, kUnits[i].letter);
  }
  return write(kMaxGrpcTimeoutValue, 'H');
}

std::string formatGrpcTimeout(Duration d) { return std::string(formatGrpcTimeoutText(d).view()); }

}  // namespace switchyard::grpc
