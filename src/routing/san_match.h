// Matching a client certificate's names against a route's allowed_sans
// patterns. A pattern is literal text where '*' stands for any run of
// characters (including '/'): "spiffe://prod/ns/billing/*" allows every
// identity under that path. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace switchyard::routing {

bool sanPatternMatches(std::string_view pattern, std::string_view value);

// Whether any of `names` matches any of `patterns`.
bool anySanAllowed(const std::vector<std::string>& patterns, const std::vector<std::string>& names);

}  // namespace switchyard::routing
