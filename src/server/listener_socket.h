// Listening sockets. Each listener gets one socket per worker, all bound to the
// same address with SO_REUSEPORT, so the kernel spreads new connections over
// the workers and no accept lock is shared between threads.
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
Result<ListenerSockets> openListenerSockets(const std::string& address, size_t count);

}  // namespace switchyard::server
