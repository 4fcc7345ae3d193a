// Fuzz target: grpc-timeout parsing and formatting (src/grpc/timeout.*).
// Whatever the input, parsing never crashes, accepts only the grammar, and a
// parsed duration formats to a valid value that parses back to no less.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "grpc/timeout.h"

namespace {

bool matchesGrammar(std::string_view v) {
  if (v.size() < 2 || v.size() > 9) return false;
  for (size_t i = 0; i + 1 < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9') return false;
  }
  return std::string_view("HMSmun").find(v.back()) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using switchyard::grpc::formatGrpcTimeout;
  using switchyard::grpc::parseGrpcTimeout;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto d = parseGrpcTimeout(in);
  if (d.has_value() != matchesGrammar(in)) std::abort();
  if (!d) return 0;
  if (*d < switchyard::Duration::zero()) std::abort();
  std::string out = formatGrpcTimeout(*d);
  auto back = parseGrpcTimeout(out);
  if (!back || !matchesGrammar(out)) std::abort();
  // Formatting rounds up, never down (a saturated value stays saturated).
  if (*back < *d && *d != switchyard::Duration::max()) std::abort();
  return 0;
}
