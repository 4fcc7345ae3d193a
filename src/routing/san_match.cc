#include "routing/san_match.h"

namespace switchyard::routing {

bool sanPatternMatches(std::string_view pattern, std::string_view value) {
  // Iterative glob with backtracking to the last '*': linear in practice,
  // O(n*m) at worst, for short patterns and names.
  size_t p = 0, v = 0;
  size_t star = std::string_view::npos, star_v = 0;
  while (v < value.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_v = v;
    } else if (p < pattern.size() && pattern[p] == value[v]) {
      ++p;
      ++v;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      v = ++star_v;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool anySanAllowed(const std::vector<std::string>& patterns, const std::vector<std::string>& names) {
  for (const auto& pattern : patterns) {
    for (const auto& name : names) {
      if (sanPatternMatches(pattern, name)) return true;
    }
  }
  return false;
}

}  // namespace switchyard::routing
