// AdminServer: the operator-facing HTTP/1.1 endpoint (/metrics, /healthz,
// /ready, /clusters, /config). It runs libevent's evhttp on its own thread and
// event_base, so a slow scrape or a stuck admin client never delays a worker.
//
// Handlers are registered before start() and run on the admin thread: they
// must only read state that is safe to read from another thread (metrics
// shards, published snapshots, atomics). Only GET is served; any other method
// gets 405, an unregistered path 404.
//
// The admin endpoint has no authentication. Bind it to loopback (the default)
// or to an address only the orchestrator and scrapers can reach; see
// docs/operations.md.
#pragma once

#include <event2/http.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "common/c_handle.h"
#include "common/result.h"
#include "event/accept_guard.h"
#include "event/loop.h"

namespace switchyard::admin {

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using EvHttpPtr = CHandle<evhttp, evhttp_free>;

class AdminServer {
 public:
  // address: "host:port" or "[v6]:port"; port 0 picks a free port (see boundPort()).
  explicit AdminServer(std::string address);
  ~AdminServer();  // stops if running
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Registers the handler for an exact path ("/metrics"); must be called
  // before start(). A later registration for the same path replaces it.
  void handle(std::string path, std::function<Response()> fn);

  // Binds synchronously (so a busy port is reported here) and starts the
  // admin thread. Fails if already started.
  Status start();
  // Stops the thread and closes the socket and every admin connection.
  // Idempotent; safe to call from any thread except the admin thread itself.
  void stop();

  bool running() const { return thread_.joinable(); }
  // The port actually bound (useful with port 0); 0 before start().
  uint16_t boundPort() const { return port_; }
  const std::string& address() const { return address_; }

 private:
  static void onRequest(evhttp_request* req, void* arg);
  void serve(evhttp_request* req);

  std::string address_;
  std::map<std::string, std::function<Response()>, std::less<>> handlers_;
  std::unique_ptr<event::EventLoop> loop_;
  EvHttpPtr http_;  // declared after loop_: freed before the event_base it uses
  std::unique_ptr<event::AcceptGuard> accept_guard_;  // no busy loop when accept() fails
  std::thread thread_;
  uint16_t port_ = 0;
};

}  // namespace switchyard::admin
