#include "auth/api_keys.h"

#include <openssl/evp.h>

namespace switchyard::auth {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<ApiKeySet> ApiKeySet::parse(std::string_view text) {
  ApiKeySet set;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.size() != 64) {
      return Error{"line " + std::to_string(line_no) + ": expected a SHA-256 digest of 64 hex digits, got " +
                   std::to_string(line.size()) + " characters"};
    }
    std::string raw(32, '\0');
    for (size_t i = 0; i < 32; ++i) {
      int hi = hexValue(line[2 * i]), lo = hexValue(line[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        return Error{"line " + std::to_string(line_no) + ": a SHA-256 digest must be hex digits only"};
      }
      raw[i] = static_cast<char>(hi * 16 + lo);
    }
    set.digests_.insert(std::move(raw));
  }
  if (set.digests_.empty()) return Error{"holds no key digest"};
  return set;
}

std::string ApiKeySet::digest(std::string_view key) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(key.data(), key.size(), md, &len, EVP_sha256(), nullptr) != 1) return {};
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string toHex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

}  // namespace switchyard::auth
