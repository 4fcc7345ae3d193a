// TLS keys of listeners, clusters and routes (see tls_loader.h). File paths
// resolve against the config file's directory and must be readable; whether
// their contents are valid PEM is checked when the contexts are built
// (tls/material.h), by startup, reload and --check-config alike.
#include "config/tls_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

namespace switchyard::config::detail {
namespace {

namespace fs = std::filesystem;

std::string quote(const std::string& s) { return "\"" + s + "\""; }

std::string resolvePath(const fs::path& base, const std::string& p) {
  fs::path path(p);
  if (path.is_relative()) path = base / path;
  return path.lexically_normal().string();
}

std::optional<std::string> unreadable(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return std::string("is a directory");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return std::string(std::strerror(errno));
  std::fclose(f);
  return std::nullopt;
}

// A readable file path at `key` of `f`, stored in `out`.
void readFile(Reader& r, const fs::path& base, const YAML::Node& v, const std::string& what,
              std::string& out) {
  auto s = r.nonEmptyStr(v, what);
  if (!s) return;
  out = resolvePath(base, *s);
  if (auto why = unreadable(out)) {
    r.error(v, "cannot read " + what + " file " + quote(out) + ": " + *why);
  }
}

void readVersion(Reader& r, const YAML::Node& v, const std::string& what, std::string& out) {
  auto s = r.str(v, what);
  if (!s) return;
  if (*s == "1.2" || *s == "1.3") {
    out = *s;
  } else {
    r.error(v, what + " must be \"1.2\" or \"1.3\", got " + quote(*s));
  }
}

std::vector<std::string> readStringList(Reader& r, const YAML::Node& n, const std::string& what) {
  std::vector<std::string> out;
  auto items = r.list(n, what);
  if (!items) return out;
  for (const YAML::Node& item : *items) {
    if (auto s = r.nonEmptyStr(item, what + " item")) out.push_back(*s);
  }
  return out;
}

bool validServerName(const std::string& name) {
  std::string rest = name.rfind("*.", 0) == 0 ? name.substr(2) : name;
  if (rest.empty() || rest.find('*') != std::string::npos) return false;
  return std::all_of(rest.begin(), rest.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.';
  });
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

TlsCertificateSpec readCertificate(Reader& r, const YAML::Node& n, const fs::path& base) {
  TlsCertificateSpec c;
  Fields f(r, n, "listener.tls.certificates item", {"cert", "key", "server_names"});
  c.mark = f.mark();
  if (!f.isMap()) return c;
  if (const YAML::Node* v = f.require("cert")) readFile(r, base, *v, "tls.certificates.cert", c.cert);
  if (const YAML::Node* v = f.require("key")) readFile(r, base, *v, "tls.certificates.key", c.key);
  if (const YAML::Node* v = f.find("server_names")) {
    auto items = r.list(*v, "tls.certificates.server_names");
    if (!items) return c;
    for (const YAML::Node& item : *items) {
      auto s = r.nonEmptyStr(item, "tls.certificates.server_names item");
      if (!s) continue;
      if (!validServerName(*s)) {
        r.error(item, "bad server name " + quote(*s) +
                          ": expected a DNS name or \"*.\" followed by one");
        continue;
      }
      c.server_names.push_back(lower(*s));
    }
  }
  return c;
}

// A name may belong to one certificate group only. Entries that list exactly
// the same names form one group (e.g. an ECDSA and an RSA certificate).
void checkServerNames(Reader& r, const TlsSpec& t) {
  std::map<std::string, std::pair<std::vector<std::string>, Mark>> owner;
  for (const auto& c : t.certificates) {
    std::vector<std::string> group = c.server_names;
    std::sort(group.begin(), group.end());
    std::set<std::string> seen;
    for (const auto& name : c.server_names) {
      if (!seen.insert(name).second) {
        r.error(c.mark, "server name " + quote(name) + " is listed twice in one certificate");
        continue;
      }
      auto [it, fresh] = owner.emplace(name, std::make_pair(group, c.mark));
      if (!fresh && it->second.first != group) {
        r.error(c.mark, "server name " + quote(name) + " is already served by the certificate at " +
                            std::to_string(it->second.second.line) + ":" +
                            std::to_string(it->second.second.col) +
                            " (list identical server_names to offer an ECDSA and an RSA "
                            "certificate for the same names)");
      }
    }
  }
}

void readClientAuth(Reader& r, const Fields& f, const fs::path& base, TlsSpec& t) {
  if (const YAML::Node* v = f.find("client_ca")) readFile(r, base, *v, "tls.client_ca", t.client_ca);
  if (const YAML::Node* v = f.find("crl")) readFile(r, base, *v, "tls.crl", t.crl);
  const YAML::Node* auth = f.find("client_auth");
  if (auth != nullptr) {
    if (auto s = r.str(*auth, "tls.client_auth")) {
      if (*s == "none" || *s == "optional" || *s == "require") {
        t.client_auth = *s;
      } else {
        r.error(*auth, "tls.client_auth must be none, optional or require, got " + quote(*s));
      }
    }
  }
  if (const YAML::Node* v = f.find("verify_depth")) {
    if (auto d = r.integer(*v, "tls.verify_depth", 1, 100)) t.verify_depth = static_cast<uint32_t>(*d);
  }
  if (t.client_auth != "none" && t.client_ca.empty()) {
    r.error(auth != nullptr ? markOf(*auth) : f.mark(),
            "tls.client_auth " + quote(t.client_auth) + " needs tls.client_ca (the CA bundle "
            "client certificates are verified against)");
  }
}

// session_ticket_keys: a non-empty list of readable files (their size is
// checked when the contexts are built), and only with resumption on.
void readTicketKeys(Reader& r, const Fields& f, const fs::path& base, TlsSpec& t) {
  const YAML::Node* v = f.find("session_ticket_keys");
  if (v == nullptr) return;
  auto items = r.list(*v, "tls.session_ticket_keys");
  if (!items) return;
  if (items->empty()) {
    r.error(*v, "tls.session_ticket_keys must list at least one key file (omit it to use the session cache)");
    return;
  }
  for (const YAML::Node& item : *items) {
    std::string path;
    readFile(r, base, item, "tls.session_ticket_keys", path);
    if (!path.empty()) t.session_ticket_keys.push_back(path);
  }
  if (!t.session_resumption) {
    r.error(*v, "tls.session_ticket_keys needs tls.session_resumption (it is false)");
  }
}

}  // namespace

TlsSpec readListenerTls(Reader& r, const YAML::Node& n, const fs::path& base) {
  TlsSpec t;
  Fields f(r, n, "listener.tls",
           {"cert", "key", "min_version", "max_version", "certificates", "client_ca",
            "client_auth", "verify_depth", "crl", "ciphers", "ciphersuites", "groups",
            "session_resumption", "session_timeout", "session_ticket_keys", "handshake_timeout",
            "forward_client_cert"});
  t.mark = f.mark();
  if (!f.isMap()) return t;
  if (const YAML::Node* v = f.require("cert")) readFile(r, base, *v, "tls.cert", t.cert);
  if (const YAML::Node* v = f.require("key")) readFile(r, base, *v, "tls.key", t.key);
  if (const YAML::Node* v = f.find("min_version")) readVersion(r, *v, "tls.min_version", t.min_version);
  if (const YAML::Node* v = f.find("max_version")) readVersion(r, *v, "tls.max_version", t.max_version);
  if (t.min_version > t.max_version) {
    r.error(f.mark(), "tls.min_version " + quote(t.min_version) + " is above tls.max_version " +
                          quote(t.max_version));
  }
  if (const YAML::Node* v = f.find("certificates")) {
    if (auto items = r.list(*v, "tls.certificates")) {
      for (const YAML::Node& item : *items) t.certificates.push_back(readCertificate(r, item, base));
    }
    checkServerNames(r, t);
  }
  readClientAuth(r, f, base, t);
  if (const YAML::Node* v = f.find("ciphers")) t.ciphers = r.str(*v, "tls.ciphers").value_or("");
  if (const YAML::Node* v = f.find("ciphersuites")) {
    t.ciphersuites = r.str(*v, "tls.ciphersuites").value_or("");
  }
  if (const YAML::Node* v = f.find("groups")) t.groups = r.str(*v, "tls.groups").value_or("");
  if (const YAML::Node* v = f.find("session_resumption")) {
    t.session_resumption = r.boolean(*v, "tls.session_resumption").value_or(true);
  }
  if (const YAML::Node* v = f.find("session_timeout")) {
    if (auto d = r.duration(*v, "tls.session_timeout", false)) t.session_timeout = *d;
  }
  readTicketKeys(r, f, base, t);
  if (const YAML::Node* v = f.find("handshake_timeout")) {
    if (auto d = r.duration(*v, "tls.handshake_timeout", false)) t.handshake_timeout = *d;
  }
  if (const YAML::Node* v = f.find("forward_client_cert")) {
    t.forward_client_cert = r.boolean(*v, "tls.forward_client_cert").value_or(false);
  }
  return t;
}

UpstreamTlsSpec readClusterTls(Reader& r, const YAML::Node& n, const fs::path& base) {
  UpstreamTlsSpec t;
  Fields f(r, n, "cluster.tls",
           {"ca", "server_name", "verify", "cert", "key", "min_version", "max_version",
            "session_resumption"});
  t.mark = f.mark();
  if (!f.isMap()) return t;
  if (const YAML::Node* v = f.find("ca")) readFile(r, base, *v, "tls.ca", t.ca);
  if (const YAML::Node* v = f.find("server_name")) {
    if (auto s = r.nonEmptyStr(*v, "tls.server_name")) t.server_name = *s;
  }
  if (const YAML::Node* v = f.find("verify")) t.verify = r.boolean(*v, "tls.verify").value_or(true);
  const YAML::Node* cert = f.find("cert");
  const YAML::Node* key = f.find("key");
  if (cert != nullptr) readFile(r, base, *cert, "tls.cert", t.cert);
  if (key != nullptr) readFile(r, base, *key, "tls.key", t.key);
  if ((cert == nullptr) != (key == nullptr)) {
    r.error(cert != nullptr ? markOf(*cert) : markOf(*key),
            "cluster tls.cert and tls.key must be given together");
  }
  if (const YAML::Node* v = f.find("min_version")) readVersion(r, *v, "tls.min_version", t.min_version);
  if (const YAML::Node* v = f.find("max_version")) readVersion(r, *v, "tls.max_version", t.max_version);
  if (t.min_version > t.max_version) {
    r.error(f.mark(), "tls.min_version " + quote(t.min_version) + " is above tls.max_version " +
                          quote(t.max_version));
  }
  if (const YAML::Node* v = f.find("session_resumption")) {
    t.session_resumption = r.boolean(*v, "tls.session_resumption").value_or(true);
  }
  return t;
}

void readRouteClientCert(Reader& r, const Fields& f, RouteSpec& rt) {
  if (const YAML::Node* v = f.find("require_client_cert")) {
    rt.require_client_cert = r.boolean(*v, "require_client_cert").value_or(false);
  }
  if (const YAML::Node* v = f.find("allowed_sans")) {
    rt.allowed_sans = readStringList(r, *v, "allowed_sans");
    // An allowlist is only meaningful for a verified client.
    if (!rt.allowed_sans.empty()) rt.require_client_cert = true;
  }
}

}  // namespace switchyard::config::detail
