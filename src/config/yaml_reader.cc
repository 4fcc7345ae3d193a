#include "config/yaml_reader.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "common/host_port.h"

namespace switchyard::config::detail {
namespace {

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool isIpv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool isIpv6(const std::string& s) {
  in6_addr a{};
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-' (and
// '_', which service discovery names use), 1..63 characters each, not starting
// or ending with '-'. One trailing dot (fully qualified) is fine.
bool isHostName(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) dot = s.size();
    std::string_view label = s.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
      if (!ok) return false;
    }
    start = dot + 1;
  }
  return true;
}

bool looksNumeric(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

}  // namespace

Mark markOf(const YAML::Node& node) {
  if (!node.IsDefined()) return {};
  YAML::Mark m = node.Mark();
  if (m.is_null() || m.line < 0 || m.column < 0) return {};
  return Mark{m.line + 1, m.column + 1};
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsScalar()) return "a scalar (\"" + node.Scalar() + "\")";
  return "an unknown node";
}

std::optional<HostPort> parseHostPort(std::string_view text, bool ip_only, bool allow_port_zero,
                                      std::string* why) {
  auto split = splitHostPortText(text, why);
  if (!split) return std::nullopt;
  HostPort hp;
  hp.host = std::string(split->host);
  hp.ipv6 = split->bracketed;
  if (hp.ipv6) {
    if (!isIpv6(hp.host)) {
      *why = "\"" + hp.host + "\" is not an IPv6 address";
      return std::nullopt;
    }
  } else {
    if (hp.host.empty()) {
      *why = "missing host, expected host:port";
      return std::nullopt;
    }
    if (ip_only) {
      if (!isIpv4(hp.host)) {
        *why = "\"" + hp.host + "\" is not an IP address (listening addresses must be IP literals)";
        return std::nullopt;
      }
    } else if (looksNumeric(hp.host)) {
      if (!isIpv4(hp.host)) {
        *why = "\"" + hp.host + "\" is not a valid IPv4 address";
        return std::nullopt;
      }
    } else if (!isHostName(hp.host)) {
      *why = "\"" + hp.host + "\" is not a valid host name";
      return std::nullopt;
    }
  }
  auto port = parsePort(split->port, allow_port_zero ? 0 : 1, why);
  if (!port) return std::nullopt;
  hp.port = *port;
  return hp;
}

std::string canonicalAddress(const HostPort& hp) {
  char buf[INET6_ADDRSTRLEN] = {};
  std::string host = hp.host;
  if (hp.ipv6) {
    in6_addr a{};
    if (inet_pton(AF_INET6, hp.host.c_str(), &a) == 1 &&
        inet_ntop(AF_INET6, &a, buf, sizeof buf) != nullptr) {
      host = buf;
    }
    return "[" + host + "]:" + std::to_string(hp.port);
  }
  in_addr a{};
  if (inet_pton(AF_INET, hp.host.c_str(), &a) == 1 &&
      inet_ntop(AF_INET, &a, buf, sizeof buf) != nullptr) {
    host = buf;
  }
  return host + ":" + std::to_string(hp.port);
}

// ---- Fields ----------------------------------------------------------------

Fields::Fields(Reader& r, const YAML::Node& node, std::string what,
               std::initializer_list<std::string_view> allowed)
    : r_(r), what_(std::move(what)), mark_(markOf(node)) {
  if (node.IsNull()) {
    is_map_ = true;
    return;
  }
  if (!node.IsMap()) {
    r_.error(node, "expected a map for " + what_ + ", got " + describe(node));
    return;
  }
  is_map_ = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      r_.error(key, "keys in " + what_ + " must be plain names, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string msg = "unknown key \"" + name + "\" in " + what_;
      std::string_view best;
      size_t best_d = 3;
      for (std::string_view a : allowed) {
        size_t d = editDistance(name, a);
        if (d < best_d && d < a.size()) {
          best_d = d;
          best = a;
        }
      }
      if (!best.empty()) msg += " (did you mean \"" + std::string(best) + "\"?)";
      r_.error(key, std::move(msg));
      continue;
    }
    if (find(name) != nullptr) {
      r_.error(key, "duplicate key \"" + name + "\" in " + what_);
      continue;
    }
    entries_.push_back(Entry{name, it->second});
  }
}

const YAML::Node* Fields::find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

const YAML::Node* Fields::require(std::string_view key) const {
  const YAML::Node* v = find(key);
  if (v == nullptr && is_map_) {
    r_.error(mark_, what_ + " is missing required key \"" + std::string(key) + "\"");
  }
  return v;
}

// ---- Reader ----------------------------------------------------------------

void Reader::error(Mark mark, std::string message) {
  if (mark.line <= 0) mark = Mark{1, 1};
  problems_.push_back(Problem{mark, std::move(message)});
}

std::vector<std::string> Reader::take() {
  std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
    return a.mark.line != b.mark.line ? a.mark.line < b.mark.line : a.mark.col < b.mark.col;
  });
  std::vector<std::string> out;
  out.reserve(problems_.size());
  for (const Problem& p : problems_) {
    out.push_back(file_ + ":" + std::to_string(p.mark.line) + ":" + std::to_string(p.mark.col) +
                  ": " + p.message);
  }
  problems_.clear();
  return out;
}

std::optional<std::vector<YAML::Node>> Reader::list(const YAML::Node& n, const std::string& path) {
  std::vector<YAML::Node> items;
  if (n.IsNull()) return items;
  if (!n.IsSequence()) {
    error(n, "expected a list for " + path + ", got " + describe(n));
    return std::nullopt;
  }
  for (auto it = n.begin(); it != n.end(); ++it) items.push_back(*it);
  return items;
}

std::optional<std::string> Reader::scalar(const YAML::Node& n, const std::string& path,
                                          const char* expected) {
  if (n.IsNull()) {
    error(n, "missing value for " + path + ", expected " + expected);
    return std::nullopt;
  }
  if (!n.IsScalar()) {
    error(n, "expected " + std::string(expected) + " for " + path + ", got " + describe(n));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<std::string> Reader::str(const YAML::Node& n, const std::string& path) {
  if (n.IsNull()) return std::string();
  if (!n.IsScalar()) {
    error(n, "expected a scalar for " + path + ", got " + describe(n));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<std::string> Reader::nonEmptyStr(const YAML::Node& n, const std::string& path) {
  auto s = str(n, path);
  if (s && s->empty()) {
    error(n, path + " must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<uint64_t> Reader::integer(const YAML::Node& n, const std::string& path, uint64_t min,
                                        uint64_t max) {
  auto s = scalar(n, path, "an integer");
  if (!s) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (!allDigits(*s) || ec != std::errc() || end != s->data() + s->size()) {
    if (ec == std::errc::result_out_of_range) {
      error(n, path + " is too large: " + *s);
    } else {
      error(n, "expected a non-negative integer for " + path + ", got \"" + *s + "\"");
    }
    return std::nullopt;
  }
  if (v < min || v > max) {
    if (max == std::numeric_limits<uint64_t>::max() || max == std::numeric_limits<uint32_t>::max()) {
      error(n, path + " must be at least " + std::to_string(min) + ", got " + *s);
    } else {
      error(n, path + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                   ", got " + *s);
    }
    return std::nullopt;
  }
  return v;
}

std::optional<uint64_t> Reader::size(const YAML::Node& n, const std::string& path, uint64_t min,
                                     uint64_t max) {
  auto s = scalar(n, path, "a size");
  if (!s) return std::nullopt;
  auto v = parseByteSize(*s);
  if (!v) {
    error(n, "bad size \"" + *s + "\" for " + path + ": expected e.g. 16384, 64KiB, 4MiB");
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    error(n, path + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                 " bytes, got " + *s);
    return std::nullopt;
  }
  return v;
}

std::optional<Duration> Reader::duration(const YAML::Node& n, const std::string& path,
                                         bool allow_zero) {
  auto s = scalar(n, path, "a duration");
  if (!s) return std::nullopt;
  auto d = parseDuration(*s);
  if (!d) {
    error(n, "bad duration \"" + *s + "\" for " + path + ": expected e.g. 250ms, 5s, 1m");
    return std::nullopt;
  }
  if (!allow_zero && d->count() == 0) {
    error(n, path + " must be greater than 0s");
    return std::nullopt;
  }
  return d;
}

std::optional<bool> Reader::boolean(const YAML::Node& n, const std::string& path) {
  auto s = scalar(n, path, "true or false");
  if (!s) return std::nullopt;
  bool b = false;
  if (!YAML::convert<bool>::decode(n, b)) {
    error(n, "expected true or false for " + path + ", got \"" + *s + "\"");
    return std::nullopt;
  }
  return b;
}

std::optional<double> Reader::percent(const YAML::Node& n, const std::string& path) {
  auto s = scalar(n, path, "a percentage");
  if (!s) return std::nullopt;
  const char* begin = s->c_str();
  char* end = nullptr;
  double v = std::strtod(begin, &end);
  bool numeric = looksNumeric(*s) && (*s)[0] != '.' && end == begin + s->size() &&
                 std::isfinite(v);
  if (!numeric || v < 0 || v > 100) {
    error(n, path + " must be a percentage from 0 to 100, got \"" + *s + "\"");
    return std::nullopt;
  }
  return v;
}

}  // namespace switchyard::config::detail
