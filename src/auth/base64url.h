// base64url (RFC 4648 section 5) decoding without padding, as JOSE uses it
// (RFC 7515 section 2). Strict: padding, whitespace, the standard alphabet's
// '+' and '/', and non-zero trailing bits are refused, so one token has one
// encoding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchyard::auth {

std::optional<std::string> decodeBase64Url(std::string_view text);

}  // namespace switchyard::auth
