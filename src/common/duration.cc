#include "common/duration.h"

#include <cstdint>
#include <limits>

namespace switchyard {
namespace {

constexpr int64_t kNs = 1;
constexpr int64_t kUs = 1000 * kNs;
constexpr int64_t kMs = 1000 * kUs;
constexpr int64_t kSec = 1000 * kMs;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kHour = 60 * kMin;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Unit suffix -> nanoseconds; 0 when unknown. "µs" is accepted in both of its
// Unicode spellings (micro sign and Greek mu) as well as "us".
int64_t unitNanos(std::string_view u) {
  if (u == "h") return kHour;
  if (u == "m") return kMin;
  if (u == "s") return kSec;
  if (u == "ms") return kMs;
  if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") return kUs;
  if (u == "ns") return kNs;
  return 0;
}

}  // namespace

std::optional<Duration> parseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr auto kMax = static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max());
  unsigned __int128 total = 0;
  size_t i = 0;
  while (i < text.size()) {
    // Integer part: at least one digit.
    if (!isDigit(text[i])) return std::nullopt;
    unsigned __int128 whole = 0;
    while (i < text.size() && isDigit(text[i])) {
      whole = whole * 10 + static_cast<unsigned>(text[i] - '0');
      if (whole > kMax) return std::nullopt;
      ++i;
    }
    // Optional fraction: "1.5s". At least one digit after the dot.
    unsigned __int128 frac = 0;
    unsigned __int128 scale = 1;
    if (i < text.size() && text[i] == '.') {
      ++i;
      if (i >= text.size() || !isDigit(text[i])) return std::nullopt;
      while (i < text.size() && isDigit(text[i])) {
        // Digits beyond nanosecond precision of an hour do not matter.
        if (scale < static_cast<unsigned __int128>(1000000000000000000ULL)) {
          frac = frac * 10 + static_cast<unsigned>(text[i] - '0');
          scale *= 10;
        }
        ++i;
      }
    }
    // Unit: everything up to the next digit.
    size_t u = i;
    while (i < text.size() && !isDigit(text[i]) && text[i] != '.') ++i;
    int64_t unit = unitNanos(text.substr(u, i - u));
    if (unit == 0) return std::nullopt;  // missing ("5") or unknown ("5x") unit
    unsigned __int128 part = whole * static_cast<unsigned __int128>(unit);
    if (whole != 0 && part / whole != static_cast<unsigned __int128>(unit)) return std::nullopt;
    part += frac * static_cast<unsigned __int128>(unit) / scale;
    total += part;
    if (total > kMax) return std::nullopt;
  }
  return Duration(static_cast<int64_t>(total));
}

std::string formatDuration(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  uint64_t v;
  if (ns < 0) {
    out = "-";
    v = static_cast<uint64_t>(-(ns + 1)) + 1;  // safe for INT64_MIN
  } else {
    v = static_cast<uint64_t>(ns);
  }
  struct Unit {
    uint64_t nanos;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{kHour, "h"}, {kMin, "m"}, {kSec, "s"},
                                    {kMs, "ms"},  {kUs, "us"}, {kNs, "ns"}};
  for (const Unit& u : kUnits) {
    uint64_t n = v / u.nanos;
    if (n == 0) continue;
    out += std::to_string(n);
    out += u.suffix;
    v -= n * u.nanos;
  }
  return out;
}

std::optional<uint64_t> parseByteSize(std::string_view text) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && isDigit(text[i])) {
    uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    n = n * 10 + digit;
    ++i;
  }
  if (i == 0) return std::nullopt;  // empty, negative or no leading digits
  std::string_view unit = text.substr(i);
  uint64_t mult;
  if (unit.empty() || unit == "B") {
    mult = 1;
  } else if (unit == "KiB") {
    mult = 1ULL << 10;
  } else if (unit == "MiB") {
    mult = 1ULL << 20;
  } else if (unit == "GiB") {
    mult = 1ULL << 30;
  } else if (unit == "KB") {
    mult = 1000ULL;
  } else if (unit == "MB") {
    mult = 1000ULL * 1000;
  } else if (unit == "GB") {
    mult = 1000ULL * 1000 * 1000;
  } else {
    return std::nullopt;
  }
  if (n > std::numeric_limits<uint64_t>::max() / mult) return std::nullopt;
  return n * mult;
}

}  // namespace switchyard
