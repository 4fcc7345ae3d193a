#include "common/host_port.h"

namespace switchyard {

std::optional<HostPortText> splitHostPortText(std::string_view text, std::string* why) {
  HostPortText hp;
  if (text.empty()) {
    *why = "empty address";
    return std::nullopt;
  }
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      *why = "missing \"]\" after IPv6 address";
      return std::nullopt;
    }
    hp.host = text.substr(1, close - 1);
    hp.bracketed = true;
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) {
      *why = "missing port, expected [ipv6]:port";
      return std::nullopt;
    }
    if (rest.front() != ':') {
      *why = "unexpected \"" + std::string(rest) + "\" after \"]\", expected :port";
      return std::nullopt;
    }
    hp.port = rest.substr(1);
    return hp;
  }
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    *why = "missing port, expected host:port";
    return std::nullopt;
  }
  if (text.find(':', colon + 1) != std::string_view::npos) {
    *why = "IPv6 addresses must be in brackets, e.g. [::1]:8080";
    return std::nullopt;
  }
  hp.host = text.substr(0, colon);
  hp.port = text.substr(colon + 1);
  return hp;
}

std::optional<uint16_t> parsePort(std::string_view port, uint16_t min_port, std::string* why) {
  if (port.empty()) {
    *why = "missing port number";
    return std::nullopt;
  }
  uint64_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') {
      *why = "port \"" + std::string(port) + "\" is not a number";
      return std::nullopt;
    }
    if (p <= 65535) p = p * 10 + static_cast<uint64_t>(c - '0');
  }
  if (p > 65535 || p < min_port) {
    *why = "port " + std::string(port) + " out of range " + std::to_string(min_port) + "-65535";
    return std::nullopt;
  }
  return static_cast<uint16_t>(p);
}

}  // namespace switchyard
