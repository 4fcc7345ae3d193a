// ClientConnection: what a worker needs of every client connection it owns,
// whatever the connection speaks (DownstreamConnection: HTTP/2;
// Http1Connection: HTTP/1.x; a connection whose protocol is not known yet).
#pragma once

namespace switchyard::proxy {

class ClientConnection {
 public:
  virtual ~ClientConnection() = default;
  // Graceful shutdown: finish what is in flight, accept nothing new, then close.
  virtual void startDrain() = 0;
  // The drain deadline passed: end what is left and close.
  virtual void forceClose() = 0;
};

}  // namespace switchyard::proxy
