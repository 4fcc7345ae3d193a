#include "proxy/access_log_format.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <ctime>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace switchyard::proxy {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Bytes written as they are: bit 0 inside quotes (text and JSON), bit 1 in
// unquoted text fields.
constexpr std::array<uint8_t, 256> kSafe = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) {
    if (c == '"' || c == '\\') continue;
    t[static_cast<size_t>(c)] = c == ' ' ? 1 : 3;
  }
  return t;
}();

bool byteSafe(unsigned char c, bool quoted) { return (kSafe[c] & (quoted ? 1 : 2)) != 0; }

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

// Marks (high bit of each byte) the bytes of `w` equal to `c`.
constexpr uint64_t bytesEqual(uint64_t w, unsigned char c) {
  uint64_t x = w ^ (kOnes * c);
  return (x - kOnes) & ~x & kHighs;
}

// Whether all 8 bytes of `w` are written as they are. Branch-free: any
// byte >= 0x80, < 0x20, 0x7f, '"', '\\' (or, unquoted, ' ') makes it unsafe.
constexpr bool wordSafe(uint64_t w, bool quoted) {
  uint64_t bad = (w & kHighs) | ((w - kOnes * 0x20) & ~w & kHighs) | bytesEqual(w, 0x7f) |
                 bytesEqual(w, '"') | bytesEqual(w, '\\');
  if (!quoted) bad |= bytesEqual(w, ' ');
  return bad == 0;
}

uint64_t load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

#if defined(__SSE2__)
// Whether all 16 bytes of `v` are written as they are. A signed compare with
// 0x20 catches both control bytes and bytes >= 0x80 (negative as signed).
[[gnu::always_inline]] inline bool vectorSafe(__m128i v, bool quoted) {
  __m128i bad = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
  if (!quoted) bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
  return _mm_movemask_epi8(bad) == 0;
}

uint32_t load4(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// Whether all 16 bytes at `p` are written as they are.
bool chunkSafe(const char* p, bool quoted) {
  __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i bad = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
  bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
  if (!quoted) bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
  return _mm_movemask_epi8(bad) == 0;
}
#endif

// Index of the first byte at or after `i` that needs escaping, or s.size().
// Most fields need none, so 16 (SSE2) or 8 bytes are checked at once; the
// last partial chunk of a long enough field is checked as the (overlapping)
// last 16 or 8 bytes.
size_t safeRunEnd(std::string_view s, size_t i, bool quoted) {
  const size_t n = s.size();
#if defined(__SSE2__)
  if (n - i >= 16) {
    while (i + 16 <= n && chunkSafe(s.data() + i, quoted)) i += 16;
    if (i == n) return n;
    if (i + 16 > n && chunkSafe(s.data() + n - 16, quoted)) return n;
  }
#endif
  if (n - i >= 8) {
    while (i + 8 <= n && wordSafe(load8(s.data() + i), quoted)) i += 8;
    if (i == n) return n;
    if (i + 8 > n && wordSafe(load8(s.data() + n - 8), quoted)) return n;
  }
  while (i < n && byteSafe(static_cast<unsigned char>(s[i]), quoted)) ++i;
  return i;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0.
size_t utf8Length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  }
  auto c1 = static_cast<unsigned char>(s[i + 1]);
  if (n == 3 && ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0))) return 0;
  if (n == 4 && ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90))) return 0;
  return n;
}

// `s` cut to `max` bytes; for JSON, not inside a UTF-8 sequence.
std::string_view cut(std::string_view s, size_t max, bool utf8, bool* truncated) {
  *truncated = s.size() > max;
  if (!*truncated) return s;
  std::string_view v = s.substr(0, max);
  if (utf8) {
    while (!v.empty() && (static_cast<unsigned char>(s[v.size()]) & 0xc0) == 0x80) v.remove_suffix(1);
  }
  return v;
}

// Per-thread cache of the seconds part of the timestamp: a broken-down time
// is made once per second per worker, not once per line.
struct SecondCache {
  std::time_t second = -1;
  char local[20] = {};  // "YYYY-mm-dd HH:MM:SS"
  char utc[20] = {};    // "YYYY-mm-ddTHH:MM:SS"
};

const SecondCache& secondsOf(std::chrono::system_clock::time_point t) {
  thread_local SecondCache cache;
  auto secs = static_cast<std::time_t>(
      std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count());
  if (cache.second != secs) {
    char buf[32];
    std::tm tm{};
    localtime_r(&secs, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    std::memcpy(cache.local, buf, sizeof cache.local);
    gmtime_r(&secs, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::memcpy(cache.utc, buf, sizeof cache.utc);
    cache.second = secs;
  }
  return cache;
}

// Every string field is cut to at most kAccessLogMaxField bytes and each byte
// becomes at most 6 characters (JSON \u00HH), so a line never exceeds:
constexpr size_t kFieldCount = 13;  // 12 string fields, one to spare
constexpr size_t kMaxLine = kFieldCount * (kAccessLogMaxField * 6 + 8) + 1024;

// Writes one line into a fixed buffer: no capacity check per piece, one
// append to the batch at the end.
class LineWriter {
 public:
  explicit LineWriter(char* buf) : begin_(buf), p_(buf) {}
  size_t size() const { return static_cast<size_t>(p_ - begin_); }

  [[gnu::always_inline]] void lit(std::string_view s) {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void ch(char c) { *p_++ = c; }
  template <class T>
  void number(T v) {
    p_ = std::to_chars(p_, p_ + 24, v).ptr;
  }
  // "%.3f" without printf, which would cost more than the rest of the line.
  void millis(double ms) {
    if (!(ms > 0)) ms = 0;
    if (ms > 1e15) ms = 1e15;
    auto us = static_cast<uint64_t>(ms * 1000.0 + 0.5);
    number(us / 1000);
    uint64_t frac = us % 1000;
    p_[0] = '.';
    p_[1] = static_cast<char>('0' + frac / 100);
    p_[2] = static_cast<char>('0' + frac / 10 % 10);
    p_[3] = static_cast<char>('0' + frac % 10);
    p_ += 4;
  }
  void millisOfSecond(std::chrono::system_clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    if (ms < 0) ms += 1000;
    p_[0] = '.';
    p_[1] = static_cast<char>('0' + ms / 100);
    p_[2] = static_cast<char>('0' + ms / 10 % 10);
    p_[3] = static_cast<char>('0' + ms % 10);
    p_ += 4;
  }
  void hexByte(std::string_view prefix, unsigned char c) {
    lit(prefix);
    ch(kHex[c >> 4]);
    ch(kHex[c & 0xf]);
  }

  // The common case: a field with nothing to escape, checked and copied in
  // one pass of 16- (SSE2) or 8-byte loads and stores, with no call into
  // libc. Stores may run up to 15 bytes past the field's end inside the
  // line buffer (kMaxLine leaves room); they are overwritten by what
  // follows. False, with nothing written past p_, if any byte needs
  // escaping.
  [[gnu::always_inline]] bool copyIfSafe(std::string_view s, bool quoted) {
    const char* src = s.data();
    const size_t n = s.size();
#if defined(__SSE2__)
    if (n >= 16) {
      size_t i = 0;
      for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
        if (!vectorSafe(v, quoted)) return false;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(p_ + i), v);
      }
      if (i < n) {
        // The last partial chunk, as the (overlapping) last 16 bytes.
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + n - 16));
        if (!vectorSafe(v, quoted)) return false;
        _mm_storeu_si128(reinterpret_cast<__m128i*>(p_ + n - 16), v);
      }
    } else if (n >= 8) {
      // The first and the (overlapping) last 8 bytes, checked as one vector.
      uint64_t head = load8(src), tail = load8(src + n - 8);
      if (!vectorSafe(_mm_set_epi64x(static_cast<long long>(tail), static_cast<long long>(head)), quoted)) {
        return false;
      }
      std::memcpy(p_, &head, 8);
      std::memcpy(p_ + n - 8, &tail, 8);
    } else if (n >= 4) {
      // The first and the (overlapping) last 4 bytes; the rest of the vector
      // is filled with a safe byte.
      uint32_t head = load4(src), tail = load4(src + n - 4);
      constexpr int kFill = 0x61616161;  // "aaaa"
      if (!vectorSafe(_mm_set_epi32(kFill, kFill, static_cast<int>(tail), static_cast<int>(head)), quoted)) {
        return false;
      }
      std::memcpy(p_, &head, 4);
      std::memcpy(p_ + n - 4, &tail, 4);
    } else {
      for (size_t i = 0; i < n; ++i) {
        if (!byteSafe(static_cast<unsigned char>(src[i]), quoted)) return false;
        p_[i] = src[i];
      }
    }
    p_ += n;
    return true;
#else
    for (size_t i = 0; i < n; ++i) {
      if (!byteSafe(static_cast<unsigned char>(src[i]), quoted)) return false;
      p_[i] = src[i];
    }
    p_ += n;
    return true;
#endif
  }

  // Text escaping: printable ASCII stays, except `"` and `\`; with `quoted`
  // false a space is escaped too, so unquoted fields never split.
  [[gnu::always_inline]] void text(std::string_view s, bool quoted) {
    if (!copyIfSafe(s, quoted)) escapeText(s, quoted);
  }
  // text() for a field with at least one byte to escape.
  [[gnu::noinline]] void escapeText(std::string_view s, bool quoted) {
    size_t i = 0;
    while (i < s.size()) {
      size_t run = safeRunEnd(s, i, quoted);
      lit(s.substr(i, run - i));
      if (run == s.size()) return;
      auto c = static_cast<unsigned char>(s[run]);
      if (c == '"' || c == '\\') {
        ch('\\');
        ch(static_cast<char>(c));
      } else {
        hexByte("\\x", c);
      }
      i = run + 1;
    }
  }

  // JSON string body: escapes as JSON requires, keeps valid UTF-8, writes
  // invalid bytes as \u00HH.
  [[gnu::always_inline]] void json(std::string_view s) {
    if (!copyIfSafe(s, true)) escapeJson(s);
  }
  // json() for a field with at least one byte to escape.
  [[gnu::noinline]] void escapeJson(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      size_t run = safeRunEnd(s, i, true);
      lit(s.substr(i, run - i));
      i = run;
      if (i == s.size()) return;
      auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x80) {
        size_t n = utf8Length(s, i);
        if (n == 0) {
          hexByte("\\u00", c);
          ++i;
        } else {
          lit(s.substr(i, n));
          i += n;
        }
        continue;
      }
      switch (c) {
        case '"': lit("\\\""); break;
        case '\\': lit("\\\\"); break;
        case '\n': lit("\\n"); break;
        case '\r': lit("\\r"); break;
        case '\t': lit("\\t"); break;
        default: hexByte("\\u00", c);
      }
      ++i;
    }
  }

 private:
  char* begin_;
  char* p_;
};

// ` key="value"` in text; `prefix` is ` key="`. Inlined so that the
// prefix's length is a constant at each call.
[[gnu::always_inline]] inline void textField(LineWriter& w, std::string_view prefix, std::string_view value, size_t max) {
  bool truncated = false;
  std::string_view v = cut(value, max, false, &truncated);
  w.lit(prefix);
  w.text(v, true);
  w.lit(truncated ? "...\"" : "\"");
}

// ` key=value` in text, `-` when empty; `prefix` is ` key=`.
[[gnu::always_inline]] inline void textToken(LineWriter& w, std::string_view prefix, std::string_view value) {
  bool truncated = false;
  std::string_view v = cut(value, kAccessLogMaxField, false, &truncated);
  w.lit(prefix);
  if (v.empty()) {
    w.ch('-');
  } else {
    w.text(v, false);
  }
  if (truncated) w.lit("...");
}

void formatText(const AccessRecord& r, LineWriter& w) {
  w.ch('[');
  w.lit(std::string_view(secondsOf(r.time).local, 19));
  w.millisOfSecond(r.time);
  w.ch(']');
  textToken(w, " ", r.client);
  textField(w, " \"", r.path, kAccessLogMaxField);
  textToken(w, " listener=", r.listener);
  textToken(w, " cluster=", r.cluster);
  textToken(w, " endpoint=", r.endpoint);
  w.lit(" grpc_status=");
  if (r.grpc_status < 0) {
    w.ch('-');
  } else {
    w.number(r.grpc_status);
  }
  w.lit(" duration_ms=");
  w.millis(r.duration_ms);
  w.lit(" bytes_in=");
  w.number(r.bytes_in);
  w.lit(" bytes_out=");
  w.number(r.bytes_out);
  w.lit(" msgs_in=");
  w.number(r.msgs_in);
  w.lit(" msgs_out=");
  w.number(r.msgs_out);
  w.lit(" http_status=");
  w.number(r.http_status);
  w.lit(" upstream_ms=");
  if (r.upstream_ms < 0) {
    w.ch('-');
  } else {
    w.millis(r.upstream_ms);
  }
  w.lit(" attempts=");
  w.number(r.attempts);
  textField(w, " authority=\"", r.authority, kAccessLogMaxField);
  textField(w, " user_agent=\"", r.user_agent, kAccessLogMaxField);
  textField(w, " request_id=\"", r.request_id, kAccessLogMaxField);
  textField(w, " traceparent=\"", r.traceparent, kAccessLogMaxField);
  textField(w, " grpc_message=\"", r.grpc_message, kAccessLogMaxMessage);
  textField(w, " client_identity=\"", r.client_identity, kAccessLogMaxField);
  textField(w, " subject=\"", r.subject, kAccessLogMaxField);
  w.ch('\n');
}

// `,"key":"value"` in JSON; `prefix` is `,"key":`.
[[gnu::always_inline]] inline void jsonString(LineWriter& w, std::string_view prefix, std::string_view value, size_t max) {
  bool truncated = false;
  std::string_view v = cut(value, max, true, &truncated);
  w.lit(prefix);
  w.ch('"');
  w.json(v);
  w.lit(truncated ? "...\"" : "\"");
}

// As jsonString, with null for an absent (empty) value.
[[gnu::always_inline]] inline void jsonOptional(LineWriter& w, std::string_view prefix, std::string_view value, size_t max) {
  if (value.empty()) {
    w.lit(prefix);
    w.lit("null");
  } else {
    jsonString(w, prefix, value, max);
  }
}

void formatJson(const AccessRecord& r, LineWriter& w) {
  w.lit("{\"time\":\"");
  w.lit(std::string_view(secondsOf(r.time).utc, 19));
  w.millisOfSecond(r.time);
  w.lit("Z\"");
  jsonString(w, ",\"client\":", r.client, kAccessLogMaxField);
  jsonOptional(w, ",\"authority\":", r.authority, kAccessLogMaxField);
  jsonString(w, ",\"path\":", r.path, kAccessLogMaxField);
  jsonString(w, ",\"listener\":", r.listener, kAccessLogMaxField);
  jsonOptional(w, ",\"cluster\":", r.cluster, kAccessLogMaxField);
  jsonOptional(w, ",\"endpoint\":", r.endpoint, kAccessLogMaxField);
  w.lit(",\"http_status\":");
  w.number(r.http_status);
  w.lit(",\"grpc_status\":");
  if (r.grpc_status < 0) {
    w.lit("null");
  } else {
    w.number(r.grpc_status);
  }
  jsonOptional(w, ",\"grpc_message\":", r.grpc_message, kAccessLogMaxMessage);
  w.lit(",\"duration_ms\":");
  w.millis(r.duration_ms);
  w.lit(",\"upstream_ms\":");
  if (r.upstream_ms < 0) {
    w.lit("null");
  } else {
    w.millis(r.upstream_ms);
  }
  w.lit(",\"bytes_in\":");
  w.number(r.bytes_in);
  w.lit(",\"bytes_out\":");
  w.number(r.bytes_out);
  w.lit(",\"msgs_in\":");
  w.number(r.msgs_in);
  w.lit(",\"msgs_out\":");
  w.number(r.msgs_out);
  jsonOptional(w, ",\"user_agent\":", r.user_agent, kAccessLogMaxField);
  jsonOptional(w, ",\"request_id\":", r.request_id, kAccessLogMaxField);
  jsonOptional(w, ",\"traceparent\":", r.traceparent, kAccessLogMaxField);
  w.lit(",\"attempts\":");
  w.number(r.attempts);
  jsonOptional(w, ",\"client_identity\":", r.client_identity, kAccessLogMaxField);
  jsonOptional(w, ",\"subject\":", r.subject, kAccessLogMaxField);
  w.lit("}\n");
}

}  // namespace

void formatAccessLine(const AccessRecord& r, AccessLogFormat format, std::string& out) {
  char line[kMaxLine];
  LineWriter w(line);
  if (format == AccessLogFormat::Json) {
    formatJson(r, w);
  } else {
    formatText(r, w);
  }
  out.append(line, w.size());
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
