// The one "host:port" / "[ipv6]:port" grammar, shared by the config loader
// (which adds its rules about hosts and explains every error) and the socket
// address helpers. Splitting judges only the shape; the host is returned
// without brackets and unchecked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard {

struct HostPortText {
  std::string_view host;  // without brackets; may be empty
  std::string_view port;  // may be empty
  bool bracketed = false;
};

// nullopt with *why set ("missing port, expected host:port", ...) when the
// text is not host:port or [host]:port with exactly one colon outside brackets.
std::optional<HostPortText> splitHostPortText(std::string_view text, std::string* why);

// A port number: decimal digits only, in [min_port, 65535].
std::optional<uint16_t> parsePort(std::string_view port, uint16_t min_port, std::string* why);

}  // namespace switchyard
