#include "config/rate_limit_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace switchyard::config::detail {
namespace {

std::string quote(const std::string& s) { return "\"" + s + "\""; }

bool isLowerHeaderName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

std::optional<double> readRps(Reader& r, const YAML::Node& n) {
  auto s = r.nonEmptyStr(n, "rate_limit.rps");
  if (!s) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || end != s->data() + s->size() || !std::isfinite(v)) {
    r.error(n, "expected a number of requests per second for rate_limit.rps, got " + quote(*s));
    return std::nullopt;
  }
  if (v <= 0 || v > kMaxRateLimitRps) {
    r.error(n, "rate_limit.rps must be more than 0 and at most " +
                   std::to_string(static_cast<uint64_t>(kMaxRateLimitRps)) + ", got " + *s);
    return std::nullopt;
  }
  return v;
}

bool readKey(Reader& r, const YAML::Node& n, RateLimitSpec& rl) {
  auto s = r.nonEmptyStr(n, "rate_limit.key");
  if (!s) return false;
  using Key = RateLimitSpec::Key;
  if (*s == "none") {
    rl.key = Key::None;
  } else if (*s == "client_ip") {
    rl.key = Key::ClientIp;
  } else if (*s == "jwt:sub") {
    rl.key = Key::JwtSub;
  } else if (s->starts_with("header:")) {
    std::string name = s->substr(7);
    if (!isLowerHeaderName(name)) {
      r.error(n, "rate_limit.key " + quote(*s) +
                     ": the header must be a lower-case header name (letters, digits, '-', '_', '.')");
      return false;
    }
    rl.key = Key::Header;
    rl.header = name;
  } else {
    r.error(n, "rate_limit.key must be none, client_ip, header:NAME or jwt:sub, got " + quote(*s));
    return false;
  }
  return true;
}

}  // namespace

std::optional<RateLimitSpec> readRateLimit(Reader& r, const YAML::Node& n) {
  Fields f(r, n, "route.rate_limit", {"rps", "burst", "key", "max_keys"});
  if (!f.isMap()) return std::nullopt;
  RateLimitSpec rl;
  rl.mark = f.mark();
  bool ok = true;
  if (const YAML::Node* v = f.require("rps")) {
    auto rps = readRps(r, *v);
    ok = ok && rps.has_value();
    if (rps) rl.rps = *rps;
  } else {
    ok = false;
  }
  if (const YAML::Node* v = f.find("burst")) {
    auto b = r.integer(*v, "rate_limit.burst", 1, kMaxRateLimitBurst);
    ok = ok && b.has_value();
    if (b) rl.burst = static_cast<uint32_t>(*b);
  }
  if (const YAML::Node* v = f.find("key")) ok = readKey(r, *v, rl) && ok;
  if (const YAML::Node* v = f.find("max_keys")) {
    auto k = r.integer(*v, "rate_limit.max_keys", 1, kMaxRateLimitKeys);
    ok = ok && k.has_value();
    if (k) rl.max_keys = static_cast<uint32_t>(*k);
  }
  if (!ok) return std::nullopt;
  if (rl.burst == 0) rl.burst = static_cast<uint32_t>(std::clamp(std::ceil(rl.rps), 1.0, double{kMaxRateLimitBurst}));
  return rl;
}

}  // namespace switchyard::config::detail
