#include "grpc/web_framing.h"

namespace switchyard::grpc {
namespace {

constexpr std::string_view kWeb = "application/grpc-web";
constexpr std::string_view kText = "-text";
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kTrailerFlag = 0x80;

char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (asciiLower(s[i]) != prefix[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 0..63 for an alphabet character, 64 for '=', 255 for anything else.
uint8_t sextet(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return static_cast<uint8_t>(c - 'A');
  if (c >= 'a' && c <= 'z') return static_cast<uint8_t>(c - 'a' + 26);
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0' + 52);
  if (c == '+') return 62;
  if (c == '/') return 63;
  if (c == '=') return 64;
  return 255;
}

}  // namespace

std::optional<WebContentType> parseWebContentType(std::string_view ct) {
  ct = trim(ct);
  if (!startsWithNoCase(ct, kWeb)) return std::nullopt;
  WebContentType out;
  std::string_view rest = ct.substr(kWeb.size());
  if (startsWithNoCase(rest, kText)) {
    out.text = true;
    rest.remove_prefix(kText.size());
  }
  size_t semi = rest.find(';');
  std::string_view codec = trim(rest.substr(0, semi));
  if (!codec.empty()) {
    if (codec.front() != '+' || codec.size() == 1) return std::nullopt;
    for (char c : codec) out.codec.push_back(asciiLower(c));
  }
  return out;
}

size_t base64EncodeTo(const uint8_t* data, size_t len, char* out) {
  char* o = out;
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  size_t left = len - i;
  if (left > 0) {
    uint32_t v = uint32_t{data[i]} << 16;
    if (left == 2) v |= uint32_t{data[i + 1]} << 8;
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = left == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
  return static_cast<size_t>(o - out);
}

void base64Encode(const uint8_t* data, size_t len, std::string& out) {
  size_t at = out.size();
  out.resize(at + base64Size(len));
  base64EncodeTo(data, len, out.data() + at);
}

bool Base64Decoder::feed(const uint8_t* data, size_t len, std::string& out) {
  if (failed_) return false;
  for (size_t i = 0; i < len; ++i) {
    uint8_t s = sextet(data[i]);
    if (s == 255) {
      failed_ = true;
      return false;
    }
    group_[held_++] = s;
    if (held_ == 4 && !flushGroup(out)) {
      failed_ = true;
      return false;
    }
  }
  return true;
}

bool Base64Decoder::flushGroup(std::string& out) {
  held_ = 0;
  const uint8_t* g = group_;
  // Padding may only fill the last one or two places.
  if (g[0] == 64 || g[1] == 64 || (g[2] == 64 && g[3] != 64)) return false;
  uint32_t v = (uint32_t{g[0]} << 18) | (uint32_t{g[1]} << 12);
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  if (g[2] == 64) return true;
  v |= uint32_t{g[2]} << 6;
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  if (g[3] == 64) return true;
  v |= g[3];
  out.push_back(static_cast<char>(v & 0xff));
  return true;
}

std::string trailerFrame(const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  std::string block;
  for (const auto& [name, value] : fields) {
    for (char c : name) block.push_back(asciiLower(c));
    block.push_back(':');
    block.append(value);
    block.append("\r\n");
  }
  std::string frame;
  frame.reserve(5 + block.size());
  auto n = static_cast<uint32_t>(block.size());
  frame.push_back(static_cast<char>(kTrailerFlag));
  frame.push_back(static_cast<char>((n >> 24) & 0xff));
  frame.push_back(static_cast<char>((n >> 16) & 0xff));
  frame.push_back(static_cast<char>((n >> 8) & 0xff));
  frame.push_back(static_cast<char>(n & 0xff));
  frame.append(block);
  return frame;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parseTrailerBlock(
    std::string_view block) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!block.empty()) {
    size_t end = block.find("\r\n");
    std::string_view line = block.substr(0, end);
    block = end == std::string_view::npos ? std::string_view() : block.substr(end + 2);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string name;
    for (char c : trim(line.substr(0, colon))) name.push_back(asciiLower(c));
    out.emplace_back(std::move(name), std::string(trim(line.substr(colon + 1))));
  }
  return out;
}

}  // namespace switchyard::grpc
