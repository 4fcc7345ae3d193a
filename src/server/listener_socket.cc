#include "server/listener_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace switchyard::server {
namespace {

int openOne(const event::SocketAddress& addr, std::string* error) {
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (addr.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, addr.sa(), addr.len) != 0 || ::listen(fd, 4096) != 0) {
    *error = "cannot listen on " + addr.toString() + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

Result<ListenerSockets> openListenerSockets(const std::string& address, size_t count) {
  auto addr = event::parseIpPort(address);
  if (!addr) return Error{"listener address " + address + " is not an IP:port"};
  ListenerSockets out;
  std::string error;
  for (size_t i = 0; i < count; ++i) {
    int fd = openOne(i == 0 ? *addr : out.bound, &error);
    if (fd < 0) {
      for (int f : out.fds) ::close(f);
      return Error{error};
    }
    if (i == 0) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
      out.bound = event::SocketAddress::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    }
    out.fds.push_back(fd);
  }
  return out;
}

}  // namespace switchyard::server
