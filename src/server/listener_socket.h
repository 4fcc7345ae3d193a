// Listening sockets. Each listener gets one socket per worker, all bound to the
// same address with SO_REUSEPORT, so the kernel spreads new connections over
// the workers and no accept lock is shared between threads. The port is still
// exclusive to this process: the first socket binds without SO_REUSEPORT, so
// an address another process holds fails (see listener_socket.cc).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "event/socket_address.h"

namespace switchyard::server {

struct ListenerSockets {
  event::SocketAddress bound;  // the real address (port 0 resolved)
  std::vector<int> fds;        // one per worker; ownership passes to the workers
};

// Opens `count` non-blocking listening sockets on `address` ("ip:port", "[v6]:port").
// Fails if any other process holds the address; `join_own` is for an address
// one of this process's own listeners already holds (it shares the port then).
Result<ListenerSockets> openListenerSockets(const std::string& address, size_t count,
                                            bool join_own = false);

}  // namespace switchyard::server
