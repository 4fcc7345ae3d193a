// Typed, error-collecting access to a yaml-cpp document. Every accessor reports
// problems as "file:line:col: message" into one list and returns nullopt
// instead of throwing, so the loader can carry on and report everything that
// is wrong in one pass. Internal to the config layer.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "config/spec.h"

namespace switchyard::config::detail {

// 1-based position of a node; {0, 0} when yaml-cpp does not know it.
Mark markOf(const YAML::Node& node);

// "a map", "a list", "a scalar (\"x\")", "nothing"
std::string describe(const YAML::Node& node);

// Host and port split out of "host:port" or "[v6]:port".
struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
  bool ipv6 = false;  // written in brackets
};

// Parses an address. On failure returns nullopt and sets *why to a short
// explanation ("missing port, expected host:port"). With `ip_only`, the host
// must be an IPv4 or IPv6 literal (for sockets we bind); otherwise a DNS name
// is accepted too. Port 0 is accepted only with `allow_port_zero`.
std::optional<HostPort> parseHostPort(std::string_view text, bool ip_only, bool allow_port_zero,
                                      std::string* why);

// A canonical "ip:port" / "[ip]:port" text for comparing literal addresses.
std::string canonicalAddress(const HostPort& hp);

class Reader;

// One YAML map, with its keys checked against the allowed set. Unknown and
// duplicate keys are reported when the Fields object is built.
class Fields {
 public:
  // `what` names the map in messages ("listener", "cluster.health_check").
  // A null node is treated as an empty map; any other non-map is reported.
  Fields(Reader& r, const YAML::Node& node, std::string what,
         std::initializer_list<std::string_view> allowed);

  bool isMap() const { return is_map_; }
  Mark mark() const { return mark_; }
  // The value for `key`, or nullptr when absent.
  const YAML::Node* find(std::string_view key) const;
  // Like find(), but reports "<what> is missing required key \"key\"".
  const YAML::Node* require(std::string_view key) const;

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
  };
  Reader& r_;
  std::string what_;
  Mark mark_;
  bool is_map_ = false;
  std::vector<Entry> entries_;
};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  void error(Mark mark, std::string message);
  void error(const YAML::Node& at, std::string message) { error(markOf(at), std::move(message)); }

  // Formatted "file:line:col: message" lines, in file order.
  std::vector<std::string> take();
  bool hasErrors() const { return !problems_.empty(); }
  size_t errorCount() const { return problems_.size(); }

  // The list's items; a null node is an empty list. Reports anything else.
  std::optional<std::vector<YAML::Node>> list(const YAML::Node& n, const std::string& path);

  // A scalar as text. A null value reads as "" (e.g. `authority:`).
  std::optional<std::string> str(const YAML::Node& n, const std::string& path);
  // Like str(), but an empty value is reported.
  std::optional<std::string> nonEmptyStr(const YAML::Node& n, const std::string& path);
  // A decimal integer in [min, max].
  std::optional<uint64_t> integer(const YAML::Node& n, const std::string& path, uint64_t min,
                                  uint64_t max);
  // A byte size ("64KiB", "16384") in [min, max].
  std::optional<uint64_t> size(const YAML::Node& n, const std::string& path, uint64_t min,
                               uint64_t max);
  // A duration ("250ms"); zero is accepted only with allow_zero.
  std::optional<Duration> duration(const YAML::Node& n, const std::string& path, bool allow_zero);
  // true/false (also yes/no, on/off).
  std::optional<bool> boolean(const YAML::Node& n, const std::string& path);
  // A number in [0, 100], fractions allowed.
  std::optional<double> percent(const YAML::Node& n, const std::string& path);

 private:
  std::optional<std::string> scalar(const YAML::Node& n, const std::string& path,
                                    const char* expected);

  struct Problem {
    Mark mark;
    std::string message;
  };
  std::string file_;
  std::vector<Problem> problems_;
};

}  // namespace switchyard::config::detail
