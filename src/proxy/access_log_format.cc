#include "proxy/access_log_format.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace switchyard::proxy {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void appendHexByte(std::string& out, const char* prefix, unsigned char c) {
  out += prefix;
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

std::string_view cut(std::string_view s, size_t max, bool* truncated) {
  *truncated = s.size() > max;
  return *truncated ? s.substr(0, max) : s;
}

// Text escaping: printable ASCII stays, except `"` and `\`; with `quoted`
// false a space is escaped too, so unquoted fields never split.
void appendTextEscaped(std::string& out, std::string_view s, bool quoted) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c >= 0x7f || (!quoted && c == ' ')) {
      appendHexByte(out, "\\x", c);
    } else {
      out += ch;
    }
  }
}

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t utf8Length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n == 0 || c > 0xf4 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  }
  auto c1 = static_cast<unsigned char>(s[i + 1]);
  if (n == 3 && ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0))) return 0;
  if (n == 4 && ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90))) return 0;
  return n;
}

void appendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8Length(s, i);
      if (n == 0) {
        appendHexByte(out, "\\u00", c);
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          appendHexByte(out, "\\u00", c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

template <class T>
void appendNumber(std::string& out, T v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? static_cast<size_t>(p - buf) : 0);
}

void appendMillis(std::string& out, double ms) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.3f", ms < 0 ? 0.0 : ms);
  out.append(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

// Per-thread cache of the seconds part of the timestamp: formatting a broken
// down time once per second per worker instead of once per line.
struct SecondCache {
  std::time_t second = -1;
  char local[32] = {};  // "YYYY-mm-dd HH:MM:SS"
  char utc[32] = {};    // "YYYY-mm-ddTHH:MM:SS"
};

const SecondCache& secondsOf(std::time_t t) {
  thread_local SecondCache cache;
  if (cache.second != t) {
    std::tm tm{};
    localtime_r(&t, &tm);
    std::strftime(cache.local, sizeof cache.local, "%Y-%m-%d %H:%M:%S", &tm);
    gmtime_r(&t, &tm);
    std::strftime(cache.utc, sizeof cache.utc, "%Y-%m-%dT%H:%M:%S", &tm);
    cache.second = t;
  }
  return cache;
}

void appendMillisOfSecond(std::string& out, std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  if (ms < 0) ms += 1000;
  out += '.';
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + ms / 10 % 10);
  out += static_cast<char>('0' + ms % 10);
}

std::time_t secondsSinceEpoch(std::chrono::system_clock::time_point t) {
  return static_cast<std::time_t>(
      std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count());
}

void textField(std::string& out, const char* key, std::string_view value, size_t max) {
  bool truncated = false;
  std::string_view v = cut(value, max, &truncated);
  out += ' ';
  out += key;
  out += "=\"";
  appendTextEscaped(out, v, true);
  if (truncated) out += "...";
  out += '"';
}

void textToken(std::string& out, const char* key, std::string_view value) {
  out += ' ';
  out += key;
  out += '=';
  if (value.empty()) {
    out += '-';
  } else {
    appendTextEscaped(out, value, false);
  }
}

void formatText(const AccessRecord& r, std::string& out) {
  out += '[';
  out += secondsOf(secondsSinceEpoch(r.time)).local;
  appendMillisOfSecond(out, r.time);
  out += "] ";
  appendTextEscaped(out, r.client.empty() ? "-" : r.client, false);
  bool truncated = false;
  std::string_view path = cut(r.path, kAccessLogMaxField, &truncated);
  out += " \"";
  appendTextEscaped(out, path, true);
  if (truncated) out += "...";
  out += '"';
  textToken(out, "listener", r.listener);
  textToken(out, "cluster", r.cluster);
  textToken(out, "endpoint", r.endpoint);
  out += " grpc_status=";
  if (r.grpc_status < 0) {
    out += '-';
  } else {
    appendNumber(out, r.grpc_status);
  }
  out += " duration_ms=";
  appendMillis(out, r.duration_ms);
  out += " bytes_in=";
  appendNumber(out, r.bytes_in);
  out += " bytes_out=";
  appendNumber(out, r.bytes_out);
  out += " msgs_in=";
  appendNumber(out, r.msgs_in);
  out += " msgs_out=";
  appendNumber(out, r.msgs_out);
  out += " http_status=";
  appendNumber(out, r.http_status);
  out += " upstream_ms=";
  if (r.upstream_ms < 0) {
    out += '-';
  } else {
    appendMillis(out, r.upstream_ms);
  }
  out += " attempts=";
  appendNumber(out, r.attempts);
  textField(out, "authority", r.authority, kAccessLogMaxField);
  textField(out, "user_agent", r.user_agent, kAccessLogMaxField);
  textField(out, "request_id", r.request_id, kAccessLogMaxField);
  textField(out, "traceparent", r.traceparent, kAccessLogMaxField);
  textField(out, "grpc_message", r.grpc_message, kAccessLogMaxMessage);
  out += '\n';
}

void jsonKey(std::string& out, const char* key) {
  out += ",\"";
  out += key;
  out += "\":";
}

void jsonString(std::string& out, const char* key, std::string_view value, size_t max) {
  jsonKey(out, key);
  bool truncated = false;
  std::string_view v = cut(value, max, &truncated);
  if (!truncated) {
    appendJsonString(out, v);
    return;
  }
  // Do not cut inside a UTF-8 sequence: back up to a lead byte.
  while (!v.empty() && (static_cast<unsigned char>(value[v.size()]) & 0xc0) == 0x80) {
    v.remove_suffix(1);
  }
  appendJsonString(out, std::string(v) + "...");
}

// JSON null for an absent string field.
void jsonOptional(std::string& out, const char* key, std::string_view value, size_t max) {
  if (value.empty()) {
    jsonKey(out, key);
    out += "null";
  } else {
    jsonString(out, key, value, max);
  }
}

void formatJson(const AccessRecord& r, std::string& out) {
  out += "{\"time\":\"";
  out += secondsOf(secondsSinceEpoch(r.time)).utc;
  appendMillisOfSecond(out, r.time);
  out += "Z\"";
  jsonString(out, "client", r.client, kAccessLogMaxField);
  jsonOptional(out, "authority", r.authority, kAccessLogMaxField);
  jsonString(out, "path", r.path, kAccessLogMaxField);
  jsonString(out, "listener", r.listener, kAccessLogMaxField);
  jsonOptional(out, "cluster", r.cluster, kAccessLogMaxField);
  jsonOptional(out, "endpoint", r.endpoint, kAccessLogMaxField);
  jsonKey(out, "http_status");
  appendNumber(out, r.http_status);
  jsonKey(out, "grpc_status");
  if (r.grpc_status < 0) {
    out += "null";
  } else {
    appendNumber(out, r.grpc_status);
  }
  jsonOptional(out, "grpc_message", r.grpc_message, kAccessLogMaxMessage);
  jsonKey(out, "duration_ms");
  appendMillis(out, r.duration_ms);
  jsonKey(out, "upstream_ms");
  if (r.upstream_ms < 0) {
    out += "null";
  } else {
    appendMillis(out, r.upstream_ms);
  }
  jsonKey(out, "bytes_in");
  appendNumber(out, r.bytes_in);
  jsonKey(out, "bytes_out");
  appendNumber(out, r.bytes_out);
  jsonKey(out, "msgs_in");
  appendNumber(out, r.msgs_in);
  jsonKey(out, "msgs_out");
  appendNumber(out, r.msgs_out);
  jsonOptional(out, "user_agent", r.user_agent, kAccessLogMaxField);
  jsonOptional(out, "request_id", r.request_id, kAccessLogMaxField);
  jsonOptional(out, "traceparent", r.traceparent, kAccessLogMaxField);
  jsonKey(out, "attempts");
  appendNumber(out, r.attempts);
  out += "}\n";
}

}  // namespace

void formatAccessLine(const AccessRecord& r, AccessLogFormat format, std::string& out) {
  if (format == AccessLogFormat::Json) {
    formatJson(r, out);
  } else {
    formatText(r, out);
  }
}

bool parseAccessLogFormat(std::string_view name, AccessLogFormat* out) {
  if (name == "text") {
    *out = AccessLogFormat::Text;
  } else if (name == "json") {
    *out = AccessLogFormat::Json;
  } else {
    return false;
  }
  return true;
}

}  // namespace switchyard::proxy
