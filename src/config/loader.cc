// YAML -> Config. The schema lives here: which keys each section accepts, what
// each value must look like, and the cross-section checks (routes name defined
// clusters, listener names and addresses are unique and do not overlap).
// Generic typed access and error collection live in yaml_reader.{h,cc}.
#include "config/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include "config/address_overlap.h"
#include "config/auth_reader.h"
#include "config/rate_limit_reader.h"
#include "config/route_policy_reader.h"
#include "config/tls_loader.h"
#include "config/transcoding_reader.h"
#include "config/yaml_reader.h"
#include "grpc/status_code.h"

namespace switchyard::config {
namespace {

using detail::Fields;
using detail::HostPort;
using detail::Reader;

namespace fs = std::filesystem;

constexpr uint32_t kMaxWorkers = 256;
constexpr uint64_t kU32Max = 0xffffffffULL;
constexpr uint64_t kMaxWindow = 0x7fffffffULL;  // RFC 9113 6.9.1
constexpr uint64_t kMinFrameSize = 16384;        // RFC 9113 6.5.2
constexpr uint64_t kMaxFrameSize = 16777215;
constexpr uint64_t kMaxRetryAttempts = 5;
constexpr uint64_t kMaxTransparentRetries = 10;
constexpr uint64_t kMinHealthResponseBytes = 16;  // room for any HealthCheckResponse
constexpr size_t kMaxPerMethodStats = 1000;  // route.stats.per_method entries

constexpr const char* kLogLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};

template <class T, class V>
void assign(T& out, const std::optional<V>& v) {
  if (v) out = static_cast<T>(*v);
}

std::string quote(const std::string& s) { return "\"" + s + "\""; }

std::string where(Mark m) { return std::to_string(m.line) + ":" + std::to_string(m.col); }

bool validName(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
  });
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

class Loader {
 public:
  Loader(std::string name, fs::path base_dir) : name_(name), r_(std::move(name)), base_(base_dir) {}

  LoadResult run(const std::string& yaml) {
    LoadResult out;
    YAML::Node root;
    bool parsed = false;
    try {
      root = YAML::Load(yaml);
      parsed = true;
    } catch (const YAML::ParserException& e) {
      r_.error(toMark(e.mark), "YAML syntax error: " + e.msg);
    }
    if (parsed) {
      Config c;
      c.path = name_;
      try {
        readTop(root, c);
      } catch (const YAML::Exception& e) {
        r_.error(toMark(e.mark), "cannot read YAML: " + e.msg);
      }
      if (!r_.hasErrors()) out.config = std::move(c);
    }
    out.errors = r_.take();
    return out;
  }

 private:
  struct ListenerInfo {
    Mark name_mark;
    std::string canonical_address;  // empty when invalid or port 0
    Mark address_mark;
    Mark reflection_mark;
  };

  static Mark toMark(const YAML::Mark& m) {
    if (m.is_null() || m.line < 0) return {};
    return Mark{m.line + 1, m.column + 1};
  }

  std::string resolve(const std::string& p) const {
    fs::path path(p);
    if (path.is_relative()) path = base_ / path;
    return path.lexically_normal().string();
  }

  // ---- top level -----------------------------------------------------------

  void readTop(const YAML::Node& root, Config& c) {
    if (!root.IsNull() && !root.IsMap()) {
      r_.error(root, "the configuration must be a map of sections (workers, listeners, routes, "
                     "clusters, ...), got " + detail::describe(root));
      return;
    }
    Fields f(r_, root, "top-level map",
             {"workers", "admin", "drain_timeout", "logging", "tracing", "descriptor_sets",
              "listeners", "routes", "clusters", "auth"});

    if (const YAML::Node* v = f.find("workers")) readWorkers(*v, c);
    if (const YAML::Node* v = f.find("admin")) readAdmin(*v, c.admin);
    if (const YAML::Node* v = f.find("drain_timeout")) {
      assign(c.drain_timeout, r_.duration(*v, "drain_timeout", /*allow_zero=*/true));
    }
    if (const YAML::Node* v = f.find("logging")) readLogging(*v, c.logging);
    if (const YAML::Node* v = f.find("tracing")) readTracing(*v, c.tracing);
    if (const YAML::Node* v = f.find("auth")) {
      detail::readAuth(r_, *v, c.auth, [this](const std::string& p) { return resolve(p); });
    }
    if (const YAML::Node* v = f.find("descriptor_sets")) {
      readDescriptorSets(*v, "descriptor_sets", c.descriptor_sets);
    }
    {
      std::string why;
      auto hp = detail::parseHostPort(c.admin.address, true, true, &why);
      if (hp && hp->port != 0) admin_canonical_ = detail::canonicalAddress(*hp);
    }

    std::vector<ListenerInfo> linfo;
    const YAML::Node* lnode = f.find("listeners");
    if (lnode != nullptr) {
      if (auto items = r_.list(*lnode, "listeners")) {
        for (const YAML::Node& n : *items) {
          ListenerInfo info;
          c.listeners.push_back(readListener(n, info));
          linfo.push_back(info);
        }
        if (items->empty()) r_.error(*lnode, "at least one listener is required");
      }
    } else {
      r_.error(f.mark(), "at least one listener is required (no \"listeners\" section)");
    }
    checkListeners(c, linfo);

    std::vector<Mark> cluster_ref_marks;
    if (const YAML::Node* v = f.find("routes")) {
      if (auto items = r_.list(*v, "routes")) {
        for (const YAML::Node& n : *items) {
          Mark cm;
          c.routes.push_back(readRoute(n, cm));
          cluster_ref_marks.push_back(cm);
        }
      }
    }

    std::vector<Mark> cluster_name_marks;
    if (const YAML::Node* v = f.find("clusters")) {
      if (auto items = r_.list(*v, "clusters")) {
        for (const YAML::Node& n : *items) {
          Mark nm;
          c.clusters.push_back(readCluster(n, nm));
          cluster_name_marks.push_back(nm);
        }
      }
    }
    checkClusters(c, cluster_name_marks, cluster_ref_marks);
    detail::checkRouteAuth(r_, c);
    checkReflection(c, linfo);
  }

  // A list of readable descriptor set files. Their contents are parsed by
  // schema::loadCatalog (startup, --check-config and reload all run it).
  void readDescriptorSets(const YAML::Node& n, const std::string& what,
                          std::vector<DescriptorSetSpec>& out) {
    auto items = r_.list(n, what);
    if (!items) return;
    for (const YAML::Node& item : *items) {
      auto s = r_.nonEmptyStr(item, what + " entry");
      if (!s) continue;
      fs::path p(*s);
      if (p.is_relative()) p = base_ / p;
      DescriptorSetSpec d{p.lexically_normal().string(), detail::markOf(item)};
      std::error_code ec;
      if (fs::is_directory(d.path, ec)) {
        r_.error(item, "cannot read descriptor set " + quote(d.path) + ": is a directory");
        continue;
      }
      if (std::FILE* fp = std::fopen(d.path.c_str(), "rb")) {
        std::fclose(fp);
      } else {
        r_.error(item, "cannot read descriptor set " + quote(d.path) + ": " + std::strerror(errno));
        continue;
      }
      out.push_back(std::move(d));
    }
  }

  // reflection: merged and json_transcoding read descriptor sets, so there must be some.
  void checkReflection(const Config& c, const std::vector<ListenerInfo>& info) {
    bool any = !c.descriptor_sets.empty();
    for (const auto& cl : c.clusters) any = any || !cl.descriptor_sets.empty();
    if (any) return;
    for (size_t i = 0; i < c.routes.size(); ++i) {
      if (!c.routes[i].json_transcoding) continue;
      r_.error(c.routes[i].json_transcoding->mark,
               "route " + std::to_string(i) +
                   " has json_transcoding, which reads the google.api.http rules of descriptor "
                   "sets, but no descriptor_sets are configured (top level or per cluster)");
    }
    for (size_t i = 0; i < c.listeners.size() && i < info.size(); ++i) {
      if (c.listeners[i].reflection != ReflectionMode::Merged) continue;
      r_.error(info[i].reflection_mark,
               "listener " + quote(c.listeners[i].name) +
                   " has reflection: merged, which is answered from descriptor sets, but no "
                   "descriptor_sets are configured (top level or per cluster)");
    }
  }

  void readWorkers(const YAML::Node& v, Config& c) {
    const std::string expected = "workers must be \"auto\" or an integer from 1 to " +
                                 std::to_string(kMaxWorkers);
    if (!v.IsScalar()) {
      r_.error(v, expected + ", got " + detail::describe(v));
      return;
    }
    const std::string& s = v.Scalar();
    if (s == "auto") {
      c.workers = 0;
      return;
    }
    uint64_t n = 0;
    bool digits = !s.empty() && s.size() <= 9 &&
                  std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    if (digits) n = std::stoull(s);
    if (!digits || n < 1 || n > kMaxWorkers) {
      r_.error(v, expected + ", got " + quote(s));
      return;
    }
    c.workers = static_cast<uint32_t>(n);
  }

  void readAdmin(const YAML::Node& n, AdminSpec& a) {
    Fields f(r_, n, "admin", {"address"});
    if (const YAML::Node* v = f.find("address")) {
      if (auto s = r_.str(*v, "admin.address")) {
        a.address = *s;
        if (!s->empty()) {
          std::string why;
          if (!detail::parseHostPort(*s, /*ip_only=*/true, /*allow_port_zero=*/true, &why)) {
            r_.error(*v, "bad address " + quote(*s) + " for admin.address: " + why);
          }
        }
      }
    }
  }

  void readLogging(const YAML::Node& n, LoggingSpec& l) {
    Fields f(r_, n, "logging",
             {"level", "access_log", "access_log_format", "access_log_flush_interval",
              "access_log_buffer"});
    readAccessLogTuning(f, l);
    if (const YAML::Node* v = f.find("level")) {
      if (auto s = r_.str(*v, "logging.level")) {
        if (std::find(std::begin(kLogLevels), std::end(kLogLevels), *s) == std::end(kLogLevels)) {
          r_.error(*v, "unknown log level " + quote(*s) +
                           " for logging.level: expected one of trace, debug, info, warn, "
                           "error, critical, off");
        } else {
          l.level = *s;
        }
      }
    }
    if (const YAML::Node* v = f.find("access_log")) {
      if (auto s = r_.nonEmptyStr(*v, "logging.access_log")) {
        if (*s == "stdout" || *s == "stderr" || *s == "off") {
          l.access_log = *s;
        } else {
          std::string path = resolve(*s);
          fs::path dir = fs::path(path).parent_path();
          std::error_code ec;
          if (!fs::is_directory(dir, ec)) {
            r_.error(*v, "logging.access_log directory " + quote(dir.string()) + " does not exist");
          }
          l.access_log = path;
        }
      }
    }
  }

  void readAccessLogTuning(Fields& f, LoggingSpec& l) {
    if (const YAML::Node* v = f.find("access_log_format")) {
      if (auto s = r_.str(*v, "logging.access_log_format")) {
        if (*s != "text" && *s != "json") {
          r_.error(*v, "unknown access log format " + quote(*s) +
                           " for logging.access_log_format: expected text or json");
        } else {
          l.access_log_format = *s;
        }
      }
    }
    if (const YAML::Node* v = f.find("access_log_flush_interval")) {
      assign(l.access_log_flush_interval,
             r_.duration(*v, "logging.access_log_flush_interval", /*allow_zero=*/false));
    }
    if (const YAML::Node* v = f.find("access_log_buffer")) {
      assign(l.access_log_buffer,
             r_.size(*v, "logging.access_log_buffer", 4096, 64ULL * 1024 * 1024));
    }
  }

  void readTracing(const YAML::Node& n, TracingSpec& t) {
    Fields f(r_, n, "tracing", {"generate_request_id", "start_traceparent"});
    if (const YAML::Node* v = f.find("generate_request_id")) {
      assign(t.generate_request_id, r_.boolean(*v, "tracing.generate_request_id"));
    }
    if (const YAML::Node* v = f.find("start_traceparent")) {
      assign(t.start_traceparent, r_.boolean(*v, "tracing.start_traceparent"));
    }
  }

  // ---- listeners -----------------------------------------------------------

  ListenerSpec readListener(const YAML::Node& n, ListenerInfo& info) {
    ListenerSpec l;
    Fields f(r_, n, "listener", {"name", "address", "tls", "http2", "idle_timeout", "request_headers_timeout",
                                          "stream_idle_timeout", "max_connections", "max_connection_age",
                                          "max_connection_age_grace", "reflection", "grpc_web",
                                          "connection_balance", "http1"});
    l.mark = f.mark();
    if (!f.isMap()) return l;
    if (const YAML::Node* v = f.require("name")) {
      if (auto s = r_.nonEmptyStr(*v, "listener name")) {
        if (!validName(*s)) {
          r_.error(*v, "bad listener name " + quote(*s) +
                           ": use only letters, digits, \"_\", \"-\" and \".\"");
        }
        l.name = *s;
        info.name_mark = detail::markOf(*v);
      }
    }
    if (const YAML::Node* v = f.require("address")) {
      if (auto s = r_.nonEmptyStr(*v, "address")) {
        l.address = *s;
        std::string why;
        if (auto hp = detail::parseHostPort(*s, /*ip_only=*/true, /*allow_port_zero=*/true, &why)) {
          if (hp->port != 0) info.canonical_address = detail::canonicalAddress(*hp);
          info.address_mark = detail::markOf(*v);
        } else {
          r_.error(*v, "bad address " + quote(*s) + " for address: " + why);
        }
      }
    }
    if (const YAML::Node* v = f.find("tls")) l.tls = readTls(*v);
    if (const YAML::Node* v = f.find("http2")) readHttp2(*v, l.http2);
    if (const YAML::Node* v = f.find("idle_timeout")) {
      assign(l.idle_timeout, r_.duration(*v, "idle_timeout", /*allow_zero=*/true));
    }
    readListenerLimits(f, l);
    if (const YAML::Node* v = f.find("grpc_web")) l.grpc_web = readGrpcWeb(*v);
    if (const YAML::Node* v = f.find("http1")) readHttp1(*v, l.http1);
    if (const YAML::Node* v = f.find("reflection")) {
      info.reflection_mark = detail::markOf(*v);
      if (auto s = r_.str(*v, "reflection")) {
        if (*s == "merged") {
          l.reflection = ReflectionMode::Merged;
        } else if (*s != "passthrough") {
          r_.error(*v, "unknown reflection mode " + quote(*s) + ": expected merged or passthrough");
        }
      }
    }
    if (const YAML::Node* v = f.find("connection_balance")) {
      if (auto s = r_.str(*v, "connection_balance")) {
        if (*s == "exact") {
          l.connection_balance = ConnectionBalance::Exact;
        } else if (*s == "kernel") {
          l.connection_balance = ConnectionBalance::Kernel;
        } else {
          r_.error(*v, "unknown connection_balance " + quote(*s) + ": expected exact or kernel");
        }
      }
    }
    return l;
  }

  void readHttp1(const YAML::Node& n, Http1Spec& h) {
    Fields f(r_, n, "listener.http1", {"max_request_body_bytes"});
    if (const YAML::Node* v = f.find("max_request_body_bytes")) {
      assign(h.max_request_body_bytes,
             r_.size(*v, "http1.max_request_body_bytes", 1, 1ULL << 40));
    }
  }

  GrpcWebSpec readGrpcWeb(const YAML::Node& n) {
    GrpcWebSpec w;
    Fields f(r_, n, "listener.grpc_web", {"cors"});
    w.mark = f.mark();
    if (const YAML::Node* v = f.find("cors")) w.cors = readCors(*v);
    return w;
  }

  CorsSpec readCors(const YAML::Node& n) {
    CorsSpec c;
    Fields f(r_, n, "grpc_web.cors",
             {"allow_origins", "max_age", "allow_headers", "expose_headers", "allow_credentials"});
    c.mark = f.mark();
    if (const YAML::Node* v = f.require("allow_origins")) {
      if (auto items = r_.list(*v, "cors.allow_origins")) {
        for (const auto& item : *items) {
          auto o = r_.nonEmptyStr(item, "cors.allow_origins");
          if (!o) continue;
          if (*o != "*" && o->rfind("*.", 0) != 0 && o->find("://") == std::string::npos) {
            r_.error(item, "bad origin " + quote(*o) +
                               ": use \"scheme://host[:port]\", \"*.suffix\" or \"*\"");
          }
          c.allow_origins.push_back(*o);
        }
      }
      if (c.allow_origins.empty()) r_.error(*v, "cors.allow_origins needs at least one origin");
    }
    if (const YAML::Node* v = f.find("max_age")) {
      assign(c.max_age, r_.duration(*v, "cors.max_age", /*allow_zero=*/true));
    }
    if (const YAML::Node* v = f.find("allow_headers")) {
      c.allow_headers = readStrings(*v, "cors.allow_headers");
    }
    if (const YAML::Node* v = f.find("expose_headers")) {
      c.expose_headers = readStrings(*v, "cors.expose_headers");
    }
    if (const YAML::Node* v = f.find("allow_credentials")) {
      assign(c.allow_credentials, r_.boolean(*v, "cors.allow_credentials"));
    }
    return c;
  }

  std::vector<std::string> readStrings(const YAML::Node& n, const std::string& path) {
    std::vector<std::string> out;
    if (auto items = r_.list(n, path)) {
      for (const auto& item : *items) {
        if (auto s = r_.nonEmptyStr(item, path)) out.push_back(*s);
      }
    }
    return out;
  }

  void readListenerLimits(const Fields& f, ListenerSpec& l) {
    if (const YAML::Node* v = f.find("request_headers_timeout")) {
      assign(l.request_headers_timeout, r_.duration(*v, "request_headers_timeout", true));
    }
    if (const YAML::Node* v = f.find("stream_idle_timeout")) {
      assign(l.stream_idle_timeout, r_.duration(*v, "stream_idle_timeout", true));
    }
    if (const YAML::Node* v = f.find("max_connections")) {
      assign(l.max_connections, r_.integer(*v, "max_connections", 0, kU32Max));
    }
    if (const YAML::Node* v = f.find("max_connection_age")) {
      assign(l.max_connection_age, r_.duration(*v, "max_connection_age", true));
    }
    if (const YAML::Node* v = f.find("max_connection_age_grace")) {
      assign(l.max_connection_age_grace, r_.duration(*v, "max_connection_age_grace", true));
    }
  }

  TlsSpec readTls(const YAML::Node& n) { return detail::readListenerTls(r_, n, base_); }

  void readHttp2(const YAML::Node& n, Http2Spec& h) {
    Fields f(r_, n, "listener.http2",
             {"max_concurrent_streams", "initial_stream_window", "initial_connection_window",
              "max_frame_size", "max_header_list_size", "max_header_fields", "max_glitches",
              "glitch_window"});
    if (const YAML::Node* v = f.find("max_concurrent_streams")) {
      assign(h.max_concurrent_streams,
             r_.integer(*v, "http2.max_concurrent_streams", 1, kMaxWindow));
    }
    if (const YAML::Node* v = f.find("initial_stream_window")) {
      assign(h.initial_stream_window, r_.size(*v, "http2.initial_stream_window", 1, kMaxWindow));
    }
    if (const YAML::Node* v = f.find("initial_connection_window")) {
      assign(h.initial_connection_window,
             r_.size(*v, "http2.initial_connection_window", 65535, kMaxWindow));
    }
    if (const YAML::Node* v = f.find("max_frame_size")) {
      assign(h.max_frame_size, r_.size(*v, "http2.max_frame_size", kMinFrameSize, kMaxFrameSize));
    }
    if (const YAML::Node* v = f.find("max_header_list_size")) {
      assign(h.max_header_list_size, r_.size(*v, "http2.max_header_list_size", 1, kU32Max));
    }
    if (const YAML::Node* v = f.find("max_header_fields")) {
      assign(h.max_header_fields, r_.integer(*v, "http2.max_header_fields", 1, kU32Max));
    }
    if (const YAML::Node* v = f.find("max_glitches")) {
      assign(h.max_glitches, r_.integer(*v, "http2.max_glitches", 1, kU32Max));
    }
    if (const YAML::Node* v = f.find("glitch_window")) {
      assign(h.glitch_window, r_.duration(*v, "http2.glitch_window", false));
    }
  }

  void checkListeners(const Config& c, const std::vector<ListenerInfo>& info) {
    std::map<std::string, size_t> names;
    std::map<std::string, size_t> addrs;
    for (size_t i = 0; i < c.listeners.size(); ++i) {
      const ListenerSpec& l = c.listeners[i];
      if (!l.name.empty()) {
        auto [it, fresh] = names.emplace(l.name, i);
        if (!fresh) {
          r_.error(info[i].name_mark, "duplicate listener name " + quote(l.name) +
                                          " (first defined at " +
                                          where(info[it->second].name_mark) + ")");
        }
      }
      const std::string& a = info[i].canonical_address;
      if (!a.empty()) {
        auto [it, fresh] = addrs.emplace(a, i);
        if (!fresh) {
          r_.error(info[i].address_mark,
                   "duplicate listener address " + quote(l.address) + " (also used by listener " +
                       quote(c.listeners[it->second].name) + " at " +
                       where(info[it->second].address_mark) + ")");
        } else {
          checkOverlaps(c, info, i);
        }
        if (a == admin_canonical_) {
          r_.error(info[i].address_mark, "listener address " + quote(l.address) +
                                             " is also used by admin.address " +
                                             quote(c.admin.address));
        } else if (bindAddressesOverlap(a, admin_canonical_)) {
          r_.error(info[i].address_mark, "listener address " + quote(l.address) +
                                             " overlaps admin.address " + quote(c.admin.address) +
                                             ": a wildcard address takes its port on every address");
        }
      }
    }
  }

  // A wildcard and a specific address on one port cannot both be bound.
  void checkOverlaps(const Config& c, const std::vector<ListenerInfo>& info, size_t i) {
    for (size_t j = 0; j < i; ++j) {
      const std::string& a = info[i].canonical_address;
      const std::string& b = info[j].canonical_address;
      if (a == b || !bindAddressesOverlap(a, b)) continue;
      r_.error(info[i].address_mark,
               "listener address " + quote(c.listeners[i].address) + " overlaps " +
                   quote(c.listeners[j].address) + " of listener " + quote(c.listeners[j].name) +
                   " at " + where(info[j].address_mark) +
                   ": a wildcard address takes its port on every address");
    }
  }

  // ---- routes --------------------------------------------------------------

  RouteSpec readRoute(const YAML::Node& n, Mark& cluster_mark) {
    RouteSpec rt;
    Fields f(r_, n, "route",
             {"match", "cluster", "clusters", "override", "timeout", "retry", "request_headers",
              "max_request_message_bytes", "max_response_message_bytes", "require_client_cert",
              "allowed_sans", "stats", "auth", "rate_limit", "json_transcoding"});
    rt.mark = f.mark();
    if (!f.isMap()) return rt;
    if (const YAML::Node* v = f.require("match")) readMatch(*v, rt.match);
    const YAML::Node* weighted = f.find("clusters");
    if (weighted != nullptr) {
      detail::readWeightedClusters(r_, *weighted, rt.clusters);
      if (f.find("cluster") != nullptr) {
        r_.error(*weighted, "route must use either cluster or clusters, not both");
      }
    } else if (const YAML::Node* v = f.require("cluster")) {
      if (auto s = r_.nonEmptyStr(*v, "cluster")) {
        rt.cluster = *s;
        cluster_mark = detail::markOf(*v);
      }
    }
    readRoutePolicy(f, rt);
    if (const YAML::Node* v = f.find("timeout")) readTimeout(*v, rt);
    if (const YAML::Node* v = f.find("retry")) rt.retry = readRetry(*v);
    detail::readRouteClientCert(r_, f, rt);
    if (const YAML::Node* v = f.find("stats")) readRouteStats(*v, rt);
    if (const YAML::Node* v = f.find("auth")) detail::readRouteAuth(r_, *v, rt.auth);
    if (const YAML::Node* v = f.find("rate_limit")) rt.rate_limit = detail::readRateLimit(r_, *v);
    if (const YAML::Node* v = f.find("json_transcoding")) {
      rt.json_transcoding = detail::readJsonTranscoding(r_, *v);
    }
    return rt;
  }

  void readRoutePolicy(const Fields& f, RouteSpec& rt) {
    if (const YAML::Node* v = f.find("override")) {
      rt.cluster_override = detail::readClusterOverride(r_, *v);
    }
    if (const YAML::Node* v = f.find("request_headers")) detail::readHeaderEdits(r_, *v, rt.request_headers);
    if (const YAML::Node* v = f.find("max_request_message_bytes")) {
      assign(rt.max_request_message_bytes, r_.size(*v, "max_request_message_bytes", 1, kU32Max));
    }
    if (const YAML::Node* v = f.find("max_response_message_bytes")) {
      assign(rt.max_response_message_bytes, r_.size(*v, "max_response_message_bytes", 1, kU32Max));
    }
  }

  // stats: { per_method: [Method, pkg.Other/Method, ...] }
  void readRouteStats(const YAML::Node& n, RouteSpec& rt) {
    Fields f(r_, n, "route.stats", {"per_method"});
    const YAML::Node* v = f.find("per_method");
    if (v == nullptr) return;
    auto items = r_.list(*v, "stats.per_method");
    if (!items) return;
    if (items->size() > kMaxPerMethodStats) {
      r_.error(*v, "stats.per_method lists " + std::to_string(items->size()) +
                       " methods; at most " + std::to_string(kMaxPerMethodStats) + " are allowed");
      return;
    }
    for (const YAML::Node& item : *items) {
      auto s = r_.nonEmptyStr(item, "stats.per_method entry");
      if (!s) continue;
      auto slash = s->find('/');
      if (slash == std::string::npos) {
        if (rt.match.service.empty()) {
          r_.error(item, "stats.per_method entry " + quote(*s) +
                             " must be \"pkg.Service/Method\" when the route has no match.service");
          continue;
        }
        rt.stats_per_method.push_back(rt.match.service + "/" + *s);
      } else if (slash == 0 || slash + 1 == s->size() || s->find('/', slash + 1) != std::string::npos) {
        r_.error(item, "stats.per_method entry " + quote(*s) +
                           " must be a method name or \"pkg.Service/Method\"");
      } else {
        rt.stats_per_method.push_back(*s);
      }
    }
  }

  void readMatch(const YAML::Node& n, RouteMatchSpec& m) {
    Fields f(r_, n, "route.match", {"service", "method", "prefix", "authority", "headers"});
    if (!f.isMap()) return;
    if (const YAML::Node* v = f.find("authority")) detail::readMatchAuthority(r_, *v, m);
    if (const YAML::Node* v = f.find("headers")) detail::readHeaderMatches(r_, *v, m.headers);
    const YAML::Node* service = f.find("service");
    const YAML::Node* method = f.find("method");
    const YAML::Node* prefix = f.find("prefix");
    if (service != nullptr) {
      if (auto s = r_.nonEmptyStr(*service, "match.service")) {
        if (s->find('/') != std::string::npos) {
          r_.error(*service, "match.service " + quote(*s) +
                                 " must be a fully qualified service name like "
                                 "helloworld.Greeter, without \"/\"");
        }
        m.service = *s;
      }
    }
    if (method != nullptr) {
      if (auto s = r_.nonEmptyStr(*method, "match.method")) {
        if (s->find('/') != std::string::npos) {
          r_.error(*method, "match.method " + quote(*s) + " must be a bare method name, without \"/\"");
        }
        m.method = *s;
      }
      if (service == nullptr) {
        r_.error(*method, "match.method requires match.service");
      }
    }
    if (prefix != nullptr) {
      if (auto s = r_.nonEmptyStr(*prefix, "match.prefix")) {
        if ((*s)[0] != '/') {
          r_.error(*prefix, "match.prefix " + quote(*s) + " must start with \"/\"");
        }
        m.prefix = *s;
      }
      if (service != nullptr) {
        r_.error(*prefix, "route match must use either service (with optional method) or "
                          "prefix, not both");
      }
    }
    if (service == nullptr && method == nullptr && prefix == nullptr) {
      r_.error(f.mark(), "route match needs either service (with optional method) or prefix");
    }
  }

  void readTimeout(const YAML::Node& n, RouteSpec& rt) {
    Fields f(r_, n, "route.timeout", {"default", "max"});
    const YAML::Node* dv = f.find("default");
    const YAML::Node* mv = f.find("max");
    if (dv != nullptr) rt.timeout_default = r_.duration(*dv, "timeout.default", false);
    if (mv != nullptr) rt.timeout_max = r_.duration(*mv, "timeout.max", false);
    if (rt.timeout_default && rt.timeout_max && *rt.timeout_default > *rt.timeout_max) {
      r_.error(*dv, "timeout.default (" + formatDuration(*rt.timeout_default) +
                        ") must not exceed timeout.max (" + formatDuration(*rt.timeout_max) + ")");
    }
  }

  void readRetryOn(const YAML::Node& n, std::vector<int>& codes) {
    const char* hint = ": expected a gRPC status name like UNAVAILABLE or a number from 0 to 16";
    auto add = [&](const YAML::Node& at, std::string text) {
      // Allow "UNAVAILABLE, RESOURCE_EXHAUSTED" in one scalar as well.
      size_t start = 0;
      while (start <= text.size()) {
        size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        std::string item = text.substr(start, comma - start);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        auto code = grpc::statusFromName(item);
        if (!code) {
          r_.error(at, "unknown status code " + quote(item) + " in retry.retry_on" + hint);
        } else if (std::find(codes.begin(), codes.end(), static_cast<int>(*code)) == codes.end()) {
          codes.push_back(static_cast<int>(*code));
        }
        start = comma + 1;
      }
    };
    if (n.IsScalar()) {
      add(n, n.Scalar());
      return;
    }
    auto items = r_.list(n, "retry.retry_on");
    if (!items) return;
    for (const YAML::Node& item : *items) {
      if (!item.IsScalar()) {
        r_.error(item, "expected a status code for retry.retry_on item, got " +
                           detail::describe(item));
        continue;
      }
      add(item, item.Scalar());
    }
  }

  RetryPolicySpec readRetry(const YAML::Node& n) {
    RetryPolicySpec p;
    Fields f(r_, n, "route.retry", {"retry_on", "max_attempts", "backoff"});
    if (const YAML::Node* v = f.find("retry_on")) readRetryOn(*v, p.retry_on);
    if (const YAML::Node* v = f.find("max_attempts")) {
      assign(p.max_attempts, r_.integer(*v, "retry.max_attempts", 1, kMaxRetryAttempts));
    }
    if (const YAML::Node* v = f.find("backoff")) {
      Fields b(r_, *v, "route.retry.backoff", {"base", "max"});
      const YAML::Node* base = b.find("base");
      const YAML::Node* max = b.find("max");
      std::optional<Duration> bd, md;
      if (base != nullptr) bd = r_.duration(*base, "retry.backoff.base", false);
      if (max != nullptr) md = r_.duration(*max, "retry.backoff.max", false);
      assign(p.backoff_base, bd);
      assign(p.backoff_max, md);
      if ((bd || md) && p.backoff_base > p.backoff_max) {
        r_.error(bd ? *base : *max, "retry.backoff.base (" + formatDuration(p.backoff_base) +
                                        ") must not exceed retry.backoff.max (" +
                                        formatDuration(p.backoff_max) + ")");
      }
    }
    return p;
  }

  // ---- clusters ------------------------------------------------------------

  ClusterSpec readCluster(const YAML::Node& n, Mark& name_mark) {
    ClusterSpec c;
    Fields f(r_, n, "cluster",
             {"name", "endpoints", "lb", "authority", "connect_timeout",
              "max_connections_per_endpoint", "dns_refresh", "retry_buffer",
              "max_transparent_retries", "keepalive", "panic_threshold", "health_check",
              "outlier_detection", "retry_budget", "tls", "max_request_header_list_size",
              "max_response_header_list_size", "max_response_header_fields", "circuit_breaker",
              "pending_timeout", "descriptor_sets"});
    c.mark = f.mark();
    if (!f.isMap()) return c;
    if (const YAML::Node* v = f.require("name")) {
      if (auto s = r_.nonEmptyStr(*v, "cluster name")) {
        if (!validName(*s)) {
          r_.error(*v, "bad cluster name " + quote(*s) +
                           ": use only letters, digits, \"_\", \"-\" and \".\"");
        }
        c.name = *s;
        name_mark = detail::markOf(*v);
      }
    }
    if (const YAML::Node* v = f.require("endpoints")) readEndpoints(*v, c);
    if (const YAML::Node* v = f.find("lb")) {
      if (auto s = r_.str(*v, "lb")) {
        if (*s != "round_robin" && *s != "least_request") {
          r_.error(*v, "unknown lb " + quote(*s) + ": expected round_robin or least_request");
        } else {
          c.lb = *s;
        }
      }
    }
    if (const YAML::Node* v = f.find("authority")) {
      if (auto s = r_.str(*v, "authority")) {
        if (s->find_first_of(" \t\r\n/") != std::string::npos) {
          r_.error(*v, "authority " + quote(*s) + " must be a host[:port] without spaces or \"/\"");
        }
        c.authority = *s;
      }
    }
    if (const YAML::Node* v = f.find("connect_timeout")) {
      assign(c.connect_timeout, r_.duration(*v, "connect_timeout", false));
    }
    if (const YAML::Node* v = f.find("max_connections_per_endpoint")) {
      assign(c.max_connections_per_endpoint,
             r_.integer(*v, "max_connections_per_endpoint", 1, kU32Max));
    }
    if (const YAML::Node* v = f.find("dns_refresh")) {
      assign(c.dns_refresh, r_.duration(*v, "dns_refresh", false));
    }
    if (const YAML::Node* v = f.find("retry_buffer")) {
      assign(c.retry_buffer, r_.size(*v, "retry_buffer", 0, UINT64_MAX));
    }
    if (const YAML::Node* v = f.find("max_transparent_retries")) {
      assign(c.max_transparent_retries,
             r_.integer(*v, "max_transparent_retries", 0, kMaxTransparentRetries));
    }
    if (const YAML::Node* v = f.find("keepalive")) {
      Fields k(r_, *v, "cluster.keepalive", {"interval", "timeout"});
      if (const YAML::Node* iv = k.find("interval")) {
        assign(c.keepalive_interval, r_.duration(*iv, "keepalive.interval", true));
      }
      if (const YAML::Node* tv = k.find("timeout")) {
        assign(c.keepalive_timeout, r_.duration(*tv, "keepalive.timeout", false));
      }
    }
    if (const YAML::Node* v = f.find("panic_threshold")) {
      assign(c.panic_threshold, r_.integer(*v, "panic_threshold", 0, 100));
    }
    if (const YAML::Node* v = f.find("health_check")) readHealthCheck(*v, c.health_check);
    if (const YAML::Node* v = f.find("outlier_detection")) readOutlier(*v, c.outlier_detection);
    if (const YAML::Node* v = f.find("tls")) c.tls = detail::readClusterTls(r_, *v, base_);
    if (const YAML::Node* v = f.find("retry_budget")) {
      Fields b(r_, *v, "cluster.retry_budget", {"budget_percent", "min_retry_concurrency"});
      if (const YAML::Node* p = b.find("budget_percent")) {
        assign(c.retry_budget.budget_percent, r_.percent(*p, "retry_budget.budget_percent"));
      }
      if (const YAML::Node* m = b.find("min_retry_concurrency")) {
        assign(c.retry_budget.min_retry_concurrency,
               r_.integer(*m, "retry_budget.min_retry_concurrency", 0, kU32Max));
      }
    }
    readClusterLimits(f, c);
    if (const YAML::Node* v = f.find("descriptor_sets")) {
      readDescriptorSets(*v, "cluster.descriptor_sets", c.descriptor_sets);
    }
    return c;
  }

  void readClusterLimits(const Fields& f, ClusterSpec& c) {
    if (const YAML::Node* v = f.find("max_request_header_list_size")) {
      assign(c.max_request_header_list_size,
             r_.size(*v, "max_request_header_list_size", 1, kU32Max));
    }
    if (const YAML::Node* v = f.find("max_response_header_list_size")) {
      assign(c.max_response_header_list_size,
             r_.size(*v, "max_response_header_list_size", 1, kU32Max));
    }
    if (const YAML::Node* v = f.find("max_response_header_fields")) {
      assign(c.max_response_header_fields, r_.integer(*v, "max_response_header_fields", 1, kU32Max));
    }
    if (const YAML::Node* v = f.find("circuit_breaker")) {
      Fields b(r_, *v, "cluster.circuit_breaker", {"max_pending", "max_active_rpcs"});
      if (const YAML::Node* m = b.find("max_pending")) {
        assign(c.max_pending, r_.integer(*m, "circuit_breaker.max_pending", 0, kU32Max));
      }
      if (const YAML::Node* m = b.find("max_active_rpcs")) {
        assign(c.max_active_rpcs, r_.integer(*m, "circuit_breaker.max_active_rpcs", 0, kU32Max));
      }
    }
    if (const YAML::Node* v = f.find("pending_timeout")) {
      assign(c.pending_timeout, r_.duration(*v, "pending_timeout", false));
    }
  }

  void readEndpoints(const YAML::Node& n, ClusterSpec& c) {
    auto items = r_.list(n, "endpoints");
    if (!items) return;
    if (items->empty()) {
      r_.error(n, "cluster " + quote(c.name) + " has no endpoints: list at least one host:port");
      return;
    }
    std::set<std::string> seen;
    for (const YAML::Node& item : *items) {
      // "host:port", or { address: "host:port", weight: N }.
      const YAML::Node* address = &item;
      uint32_t weight = 1;
      std::optional<Fields> fields;
      if (item.IsMap()) {
        fields.emplace(r_, item, "endpoint", std::initializer_list<std::string_view>{"address", "weight"});
        address = fields->require("address");
        if (address == nullptr) continue;
        if (const YAML::Node* w = fields->find("weight")) {
          assign(weight, r_.integer(*w, "endpoint weight", 1, kMaxEndpointWeight));
        }
      }
      if (!address->IsScalar()) {
        r_.error(*address, "expected \"host:port\" or { address: \"host:port\", weight: N } for "
                           "endpoint, got " + detail::describe(*address));
        continue;
      }
      const std::string& s = address->Scalar();
      std::string why;
      auto hp = detail::parseHostPort(s, /*ip_only=*/false, /*allow_port_zero=*/false, &why);
      if (!hp) {
        r_.error(*address, "bad endpoint " + quote(s) + ": " + why);
        continue;
      }
      std::string key = hp->ipv6 ? detail::canonicalAddress(*hp)
                                 : lower(hp->host) + ":" + std::to_string(hp->port);
      if (!seen.insert(key).second) {
        r_.error(*address, "duplicate endpoint " + quote(s) + " in cluster " + quote(c.name));
        continue;
      }
      EndpointSpec e;
      e.host = hp->host;
      e.port = hp->port;
      e.weight = weight;
      e.mark = detail::markOf(*address);
      c.endpoints.push_back(std::move(e));
    }
  }

  void readHealthCheck(const YAML::Node& n, HealthCheckSpec& h) {
    Fields f(r_, n, "cluster.health_check",
             {"enabled", "service", "mode", "interval", "timeout", "jitter", "unhealthy_threshold",
              "healthy_threshold", "max_response_bytes"});
    h.mark = f.mark();
    if (!f.isMap()) return;
    h.enabled = true;  // the section's presence turns checking on
    if (const YAML::Node* v = f.find("enabled")) assign(h.enabled, r_.boolean(*v, "health_check.enabled"));
    if (const YAML::Node* v = f.find("service")) assign(h.service, r_.str(*v, "health_check.service"));
    if (const YAML::Node* v = f.find("mode")) {
      if (auto s = r_.str(*v, "health_check.mode")) {
        if (*s == "check" || *s == "watch") {
          h.mode = *s;
        } else {
          r_.error(*v, "health_check.mode must be \"check\" or \"watch\", got " + quote(*s));
        }
      }
    }
    if (const YAML::Node* v = f.find("interval")) {
      assign(h.interval, r_.duration(*v, "health_check.interval", false));
    }
    if (const YAML::Node* v = f.find("timeout")) {
      assign(h.timeout, r_.duration(*v, "health_check.timeout", false));
    }
    if (const YAML::Node* v = f.find("jitter")) {
      assign(h.jitter, r_.duration(*v, "health_check.jitter", true));
    }
    if (const YAML::Node* v = f.find("unhealthy_threshold")) {
      assign(h.unhealthy_threshold, r_.integer(*v, "health_check.unhealthy_threshold", 1, kU32Max));
    }
    if (const YAML::Node* v = f.find("healthy_threshold")) {
      assign(h.healthy_threshold, r_.integer(*v, "health_check.healthy_threshold", 1, kU32Max));
    }
    if (const YAML::Node* v = f.find("max_response_bytes")) {
      assign(h.max_response_bytes,
             r_.size(*v, "health_check.max_response_bytes", kMinHealthResponseBytes, kU32Max));
    }
  }

  void readOutlier(const YAML::Node& n, OutlierSpec& o) {
    Fields f(r_, n, "cluster.outlier_detection",
             {"enabled", "consecutive_failures", "base_ejection_time", "max_ejection_time",
              "max_ejection_percent"});
    if (!f.isMap()) return;
    if (const YAML::Node* v = f.find("enabled")) {
      assign(o.enabled, r_.boolean(*v, "outlier_detection.enabled"));
    }
    if (const YAML::Node* v = f.find("consecutive_failures")) {
      assign(o.consecutive_failures,
             r_.integer(*v, "outlier_detection.consecutive_failures", 1, kU32Max));
    }
    const YAML::Node* bv = f.find("base_ejection_time");
    const YAML::Node* mv = f.find("max_ejection_time");
    std::optional<Duration> bd, md;
    if (bv != nullptr) bd = r_.duration(*bv, "outlier_detection.base_ejection_time", false);
    if (mv != nullptr) md = r_.duration(*mv, "outlier_detection.max_ejection_time", false);
    assign(o.base_ejection_time, bd);
    assign(o.max_ejection_time, md);
    if ((bd || md) && o.base_ejection_time > o.max_ejection_time) {
      r_.error(bd ? *bv : *mv, "outlier_detection.base_ejection_time (" +
                                   formatDuration(o.base_ejection_time) +
                                   ") must not exceed outlier_detection.max_ejection_time (" +
                                   formatDuration(o.max_ejection_time) + ")");
    }
    if (const YAML::Node* v = f.find("max_ejection_percent")) {
      assign(o.max_ejection_percent,
             r_.integer(*v, "outlier_detection.max_ejection_percent", 0, 100));
    }
  }

  void checkClusters(const Config& c, const std::vector<Mark>& name_marks,
                     const std::vector<Mark>& ref_marks) {
    std::map<std::string, size_t> names;
    for (size_t i = 0; i < c.clusters.size(); ++i) {
      const std::string& name = c.clusters[i].name;
      if (name.empty()) continue;
      auto [it, fresh] = names.emplace(name, i);
      if (!fresh) {
        r_.error(name_marks[i], "duplicate cluster name " + quote(name) + " (first defined at " +
                                    where(name_marks[it->second]) + ")");
      }
    }
    for (size_t i = 0; i < c.routes.size(); ++i) {
      const std::string& target = c.routes[i].cluster;
      if (target.empty() || names.count(target) != 0) continue;
      std::string msg = "route to undefined cluster " + quote(target);
      if (names.empty()) {
        msg += " (no clusters are defined)";
      } else {
        msg += " (defined clusters:";
        for (const auto& [name, idx] : names) msg += " " + name;
        msg += ")";
      }
      r_.error(ref_marks[i], std::move(msg));
    }
    std::set<std::string> defined;
    for (const auto& [name, idx] : names) defined.insert(name);
    for (const auto& route : c.routes) detail::checkRouteTargets(r_, route, defined);
  }

  std::string name_;
  Reader r_;
  fs::path base_;
  std::string admin_canonical_;  // set when admin listens on a fixed port
};

fs::path baseDirFor(const std::string& name) {
  std::error_code ec;
  fs::path abs = fs::absolute(fs::path(name), ec);
  if (ec) return fs::path(name).parent_path();
  return abs.parent_path();
}

LoadResult internalError(const std::string& name, const char* what) {
  LoadResult r;
  r.errors.push_back(name + ": internal error while loading the configuration: " + what);
  return r;
}

}  // namespace

LoadResult loadString(const std::string& yaml, const std::string& name) {
  try {
    Loader loader(name, baseDirFor(name));
    return loader.run(yaml);
  } catch (const std::exception& e) {
    return internalError(name, e.what());
  } catch (...) {
    return internalError(name, "unknown exception");
  }
}

LoadResult loadFile(const std::string& path) {
  try {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
      LoadResult r;
      r.errors.push_back(path + ": cannot read: " + std::strerror(errno));
      return r;
    }
    std::string text;
    char buf[16384];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    int err = std::ferror(f) ? errno : 0;
    std::fclose(f);
    if (err != 0) {
      LoadResult r;
      r.errors.push_back(path + ": cannot read: " + std::strerror(err));
      return r;
    }
    return loadString(text, path);
  } catch (const std::exception& e) {
    return internalError(path, e.what());
  } catch (...) {
    return internalError(path, "unknown exception");
  }
}

}  // namespace switchyard::config

namespace switchyard::config {

bool isLogLevel(const std::string& name) {
  return std::find(std::begin(kLogLevels), std::end(kLogLevels), name) != std::end(kLogLevels);
}

}  // namespace switchyard::config
