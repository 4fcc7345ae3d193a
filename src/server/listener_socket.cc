#include "server/listener_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace switchyard::server {
namespace {

// Exclusive ports: SO_REUSEPORT lets any socket of the same user that also
// sets it share the port, so a second daemon would silently split the traffic.
// The first socket of a listener therefore binds WITHOUT SO_REUSEPORT: bind()
// fails with EADDRINUSE if any other socket (any process, with or without
// SO_REUSEPORT, on this address or an overlapping wildcard) holds the port.
// Only after its bind succeeds does it set SO_REUSEPORT, before listen(), so
// that the workers' further sockets can join its reuseport group. There is no
// window between a probe and the real bind: the probe is the real bind. A
// later daemon's first socket again binds without SO_REUSEPORT and fails.
// `join` (the address is already held by one of this process's own listeners,
// e.g. a listener renamed on reload) sets SO_REUSEPORT before bind instead.
int openOne(const event::SocketAddress& addr, bool join, std::string* error) {
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (join) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (addr.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd, addr.sa(), addr.len) != 0) {
    int err = errno;
    *error = "cannot listen on " + addr.toString() + ": " + std::strerror(err);
    if (err == EADDRINUSE) *error += " (another process, perhaps another switchyard, is bound to it)";
    ::close(fd);
    return -1;
  }
  if ((!join && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
      ::listen(fd, 4096) != 0) {
    *error = "cannot listen on " + addr.toString() + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

Result<ListenerSockets> openListenerSockets(const std::string& address, size_t count,
                                            bool join_own) {
  auto addr = event::parseIpPort(address);
  if (!addr) return Error{"listener address " + address + " is not an IP:port"};
  ListenerSockets out;
  std::string error;
  for (size_t i = 0; i < count; ++i) {
    int fd = i == 0 ? openOne(*addr, join_own, &error) : openOne(out.bound, /*join=*/true, &error);
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
