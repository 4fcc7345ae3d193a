#include "config/route_policy_reader.h"

#include <re2/re2.h>

#include <algorithm>

namespace switchyard::config::detail {
namespace {

constexpr uint64_t kMaxWeight = 1000000;

std::string quote(const std::string& s) { return "\"" + s + "\""; }

bool isHeaderName(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

// Headers the proxy or the gRPC protocol owns: a route may not edit them.
const char* reservedWhy(const std::string& name) {
  if (name.starts_with("grpc-")) return "grpc-* headers are reserved for the gRPC protocol";
  static const char* const kReserved[] = {"te", "content-type", "connection", "keep-alive",
                                          "proxy-connection", "transfer-encoding", "upgrade",
                                          "host", "x-forwarded-for"};
  for (const char* r : kReserved) {
    if (name == r) return "the proxy manages this header itself";
  }
  return nullptr;
}

// A header name for a match (`editable` false) or an edit (`editable` true).
bool checkHeaderName(Reader& r, const YAML::Node& at, const std::string& name, const std::string& path,
                     bool editable) {
  if (!name.empty() && name[0] == ':') {
    r.error(at, path + " " + quote(name) + ": pseudo-headers cannot be " +
                    (editable ? "edited" : "matched here (use match.authority or match.service)"));
    return false;
  }
  if (!isHeaderName(name)) {
    r.error(at, path + " " + quote(name) +
                    " must be a lower-case header name (letters, digits, '-', '_', '.')");
    return false;
  }
  if (editable) {
    if (const char* why = reservedWhy(name)) {
      r.error(at, path + " " + quote(name) + " cannot be edited: " + why);
      return false;
    }
  }
  return true;
}

void readNameValueMap(Reader& r, const YAML::Node& n, const std::string& path,
                      std::vector<std::pair<std::string, std::string>>& out) {
  if (n.IsNull()) return;
  if (!n.IsMap()) {
    r.error(n, "expected a map of header: value for " + path + ", got " + describe(n));
    return;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto name = r.nonEmptyStr(it->first, path);
    auto value = r.str(it->second, path + "." + (name ? *name : std::string("?")));
    if (!name || !value) continue;
    if (!checkHeaderName(r, it->first, *name, path, true)) continue;
    out.emplace_back(*name, *value);
  }
}

}  // namespace

void readMatchAuthority(Reader& r, const YAML::Node& n, RouteMatchSpec& m) {
  auto s = r.nonEmptyStr(n, "match.authority");
  if (!s) return;
  std::string a = *s;
  std::transform(a.begin(), a.end(), a.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  std::string host = a.starts_with("*.") ? a.substr(2) : a;
  if (host.empty() || host.find('*') != std::string::npos || host.find('/') != std::string::npos) {
    r.error(n, "match.authority " + quote(*s) +
                   " must be a host name (with an optional :port) or \"*.\" followed by a domain "
                   "suffix");
    return;
  }
  m.authority = a;
}

void readHeaderMatches(Reader& r, const YAML::Node& n, std::vector<HeaderMatchSpec>& out) {
  auto items = r.list(n, "match.headers");
  if (!items) return;
  for (const YAML::Node& item : *items) {
    Fields f(r, item, "match.headers entry", {"name", "exact", "regex", "present"});
    if (!f.isMap()) continue;
    HeaderMatchSpec h;
    h.mark = f.mark();
    if (const YAML::Node* v = f.require("name")) {
      auto name = r.nonEmptyStr(*v, "match.headers.name");
      if (!name || !checkHeaderName(r, *v, *name, "match.headers.name", false)) continue;
      h.name = *name;
    } else {
      continue;
    }
    const YAML::Node* exact = f.find("exact");
    const YAML::Node* regex = f.find("regex");
    const YAML::Node* present = f.find("present");
    int kinds = (exact != nullptr) + (regex != nullptr) + (present != nullptr);
    if (kinds != 1) {
      r.error(f.mark(), "match.headers entry for " + quote(h.name) +
                            " needs exactly one of exact, regex or present");
      continue;
    }
    if (exact != nullptr) {
      auto v = r.str(*exact, "match.headers.exact");
      if (!v) continue;
      h.kind = HeaderMatchSpec::Kind::Exact;
      h.value = *v;
    } else if (regex != nullptr) {
      auto v = r.nonEmptyStr(*regex, "match.headers.regex");
      if (!v) continue;
      RE2 re(*v, RE2::Quiet);
      if (!re.ok()) {
        r.error(*regex, "match.headers.regex " + quote(*v) + " is not a valid RE2 pattern: " +
                            re.error());
        continue;
      }
      h.kind = HeaderMatchSpec::Kind::Regex;
      h.value = *v;
    } else {
      auto v = r.boolean(*present, "match.headers.present");
      if (!v) continue;
      if (!*v) {
        r.error(*present, "match.headers.present must be true (absence is not matched)");
        continue;
      }
      h.kind = HeaderMatchSpec::Kind::Present;
    }
    out.push_back(std::move(h));
  }
}

void readWeightedClusters(Reader& r, const YAML::Node& n, std::vector<WeightedClusterSpec>& out) {
  auto items = r.list(n, "clusters");
  if (!items) return;
  if (items->empty()) r.error(n, "route clusters must list at least one cluster");
  std::set<std::string> seen;
  for (const YAML::Node& item : *items) {
    Fields f(r, item, "route clusters entry", {"name", "weight"});
    if (!f.isMap()) continue;
    WeightedClusterSpec w;
    w.mark = f.mark();
    if (const YAML::Node* v = f.require("name")) {
      if (auto s = r.nonEmptyStr(*v, "clusters.name")) {
        w.name = *s;
        if (!seen.insert(*s).second) {
          r.error(*v, "cluster " + quote(*s) + " is listed twice in this route's clusters");
        }
      }
    }
    if (const YAML::Node* v = f.require("weight")) {
      if (auto x = r.integer(*v, "clusters.weight", 1, kMaxWeight)) w.weight = static_cast<uint32_t>(*x);
    }
    out.push_back(std::move(w));
  }
}

ClusterOverrideSpec readClusterOverride(Reader& r, const YAML::Node& n) {
  ClusterOverrideSpec o;
  Fields f(r, n, "route.override", {"header", "value", "cluster"});
  o.mark = f.mark();
  if (!f.isMap()) return o;
  if (const YAML::Node* v = f.require("header")) {
    auto s = r.nonEmptyStr(*v, "override.header");
    if (s && checkHeaderName(r, *v, *s, "override.header", false)) o.header = *s;
  }
  if (const YAML::Node* v = f.find("value")) {
    if (auto s = r.str(*v, "override.value")) o.value = *s;
  }
  if (const YAML::Node* v = f.require("cluster")) {
    if (auto s = r.nonEmptyStr(*v, "override.cluster")) o.cluster = *s;
  }
  return o;
}

void readHeaderEdits(Reader& r, const YAML::Node& n, HeaderEditSpec& out) {
  Fields f(r, n, "route.request_headers", {"set", "add", "remove"});
  if (!f.isMap()) return;
  if (const YAML::Node* v = f.find("set")) readNameValueMap(r, *v, "request_headers.set", out.set);
  if (const YAML::Node* v = f.find("add")) readNameValueMap(r, *v, "request_headers.add", out.add);
  if (const YAML::Node* v = f.find("remove")) {
    if (auto items = r.list(*v, "request_headers.remove")) {
      for (const YAML::Node& item : *items) {
        auto name = r.nonEmptyStr(item, "request_headers.remove");
        if (name && checkHeaderName(r, item, *name, "request_headers.remove", true)) {
          out.remove.push_back(*name);
        }
      }
    }
  }
}

void checkRouteTargets(Reader& r, const RouteSpec& route, const std::set<std::string>& clusters) {
  auto check = [&](const std::string& name, Mark at, const char* what) {
    if (name.empty() || clusters.count(name) != 0) return;
    r.error(at, std::string(what) + " names undefined cluster " + quote(name));
  };
  for (const auto& w : route.clusters) check(w.name, w.mark, "route clusters entry");
  if (route.cluster_override) {
    check(route.cluster_override->cluster, route.cluster_override->mark, "route override");
  }
}

}  // namespace switchyard::config::detail
