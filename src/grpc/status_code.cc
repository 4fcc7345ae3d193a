#include "grpc/status_code.h"

#include <array>
#include <cstddef>

namespace switchyard::grpc {
namespace {

constexpr std::array<const char*, kMaxStatusCode + 1> kNames = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

constexpr std::array<std::string_view, kMaxStatusCode + 1> kNumbers = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
};

bool inRange(StatusCode code) {
  const int v = static_cast<int>(code);
  return v >= 0 && v <= kMaxStatusCode;
}

char asciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool equalsIgnoreCase(std::string_view text, std::string_view upper) {
  if (text.size() != upper.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (asciiUpper(text[i]) != upper[i]) return false;
  }
  return true;
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Value of an all-digit string, saturating at kMaxStatusCode + 1 so that any
// length is safe.
int saturatingValue(std::string_view digits) {
  int v = 0;
  for (char c : digits) {
    v = v * 10 + (c - '0');
    if (v > kMaxStatusCode) return kMaxStatusCode + 1;
  }
  return v;
}

}  // namespace

const char* statusName(StatusCode code) {
  if (!inRange(code)) return kNames[static_cast<size_t>(StatusCode::Unknown)];
  return kNames[static_cast<size_t>(code)];
}

std::string_view statusNumber(StatusCode code) {
  if (!inRange(code)) return kNumbers[static_cast<size_t>(StatusCode::Unknown)];
  return kNumbers[static_cast<size_t>(code)];
}

std::optional<StatusCode> statusFromName(std::string_view text) {
  if (allDigits(text)) {
    const int v = saturatingValue(text);
    if (v > kMaxStatusCode) return std::nullopt;
    return static_cast<StatusCode>(v);
  }
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (equalsIgnoreCase(text, kNames[i])) return static_cast<StatusCode>(i);
  }
  return std::nullopt;
}

std::optional<StatusCode> parseGrpcStatus(std::string_view value) {
  if (!allDigits(value)) return std::nullopt;
  const int v = saturatingValue(value);
  if (v > kMaxStatusCode) return StatusCode::Unknown;
  return static_cast<StatusCode>(v);
}

}  // namespace switchyard::grpc
