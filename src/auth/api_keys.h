// API key sets: the SHA-256 digests of the accepted keys, read from a file of
// hex digests (one per line; blank lines and lines starting with '#' are
// ignored), so the keys themselves are never stored at rest. Parsed at
// configuration time; immutable afterwards.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

#include "common/result.h"

namespace switchyard::auth {

class ApiKeySet {
 public:
  // Parses the file's text; an error names the line.
  static Result<ApiKeySet> parse(std::string_view text);
  // The raw 32-byte SHA-256 of `key`.
  static std::string digest(std::string_view key);
  // Whether the key whose digest is `digest` is in the set.
  bool contains(const std::string& digest) const { return digests_.count(digest) != 0; }
  size_t size() const { return digests_.size(); }

 private:
  std::unordered_set<std::string> digests_;  // raw digests
};

// The lowercase hex of `bytes`.
std::string toHex(std::string_view bytes);

}  // namespace switchyard::auth
