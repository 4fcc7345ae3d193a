// Socket addresses: parsing "host:port" / "[v6]:port" literals and printing them.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace switchyard::event {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t len = 0;

  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
  // "1.2.3.4:80" or "[::1]:80".
  std::string toString() const;
  // Just the IP, without port or brackets.
  std::string ip() const;
  // The port in host byte order (0 for other families).
  uint16_t port() const;

  static SocketAddress fromSockaddr(const sockaddr* sa, socklen_t len);
};

// Splits "host:port" / "[v6]:port" into host (without brackets) and port.
bool splitHostPort(std::string_view text, std::string* host, uint16_t* port);

// Parses an IP literal address with port. nullopt for names or malformed text.
std::optional<SocketAddress> parseIpPort(std::string_view text);
std::optional<SocketAddress> makeAddress(const std::string& ip, uint16_t port);

}  // namespace switchyard::event
