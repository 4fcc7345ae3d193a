// HealthChecker: active gRPC health checks (grpc.health.v1.Health) against
// upstream endpoints, sent over the proxy's own upstream HTTP/2 client: each
// target has one UpstreamConnection, opened with UpstreamConnection::connect()
// and the cluster's ConnectionSettings exactly as the workers' pools open
// theirs, and reopened when it closes. The messages are encoded by hand
// (grpc/health_message.h).
//
// Modes (HealthCheckSpec::mode):
//  - "check": a unary Check with deadline = timeout (sent as grpc-timeout and
//    enforced here, connect included); the first one at once, the next one
//    `interval` (+ uniform random [0, jitter]) after the previous one finished.
//    SERVING passes; any other serving status, any non-OK status (NOT_FOUND
//    for an unknown service, UNIMPLEMENTED, ...), a non-200 HTTP status, a
//    reset, a timeout or a connect failure fails. A check that times out also
//    closes its connection, so the next one starts from a fresh connect.
//  - "watch": one long-lived Watch stream; every message is the server's own
//    word on its state and takes effect at once: SERVING sets force_healthy,
//    NOT_SERVING sets force_unhealthy (the thresholds count only stream
//    failures, since a quiet stream sends no repeats to count). If no message
//    arrives within `timeout` the stream counts as failed ("timeout"). When
//    the stream ends a failure is reported and it is reopened after
//    `interval` (+ jitter). A server answering UNIMPLEMENTED (no Watch) makes
//    the target fall back to "check" for good; no result is reported for that,
//    the first Check follows at once.
//
// Threading: everything runs on one event loop's thread (the main thread's in
// the daemon). on_result runs from the top of a loop callback, never inside a
// connection's callbacks; it may call setTargets() or stop(), but must not
// destroy the checker.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "config/spec.h"
#include "event/loop.h"
#include "upstream/upstream_connection.h"

namespace switchyard::upstream::health {

struct Target {
  std::string cluster;
  std::string address;  // "1.2.3.4:80" or "[::1]:80" (IP literals only)
  config::HealthCheckSpec spec;
  std::string authority{};  // :authority for the checks; empty = the address
  // How to connect: the same settings the cluster's traffic uses
  // (upstream::endpointConnectionSettings: timeouts, keepalive, HTTP/2, TLS).
  ConnectionSettings connection{};
};

struct CheckResult {
  std::string cluster, address;
  bool passed = false;
  bool force_unhealthy = false;  // Watch said NOT_SERVING: go unhealthy now
  bool force_healthy = false;    // Watch said SERVING: go healthy now
  // "SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN", "timeout",
  // "connect failed", "UNAVAILABLE: connection lost", "UNIMPLEMENTED",
  // "NOT_FOUND: ...", "UNAVAILABLE: HTTP status 503", "stream ended: ...".
  std::string reason;
  std::string mode{};  // "check" or "watch": the method that produced the result
};

class Probe;

class HealthChecker {
 public:
  HealthChecker(event::EventLoop& loop, std::function<void(const CheckResult&)> on_result);
  // Stops everything; nothing is reported afterwards.
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Replaces the target set, keyed by cluster + address. A target whose probe
  // settings (service, mode, interval, timeout, jitter), authority and
  // connection settings are unchanged keeps its probe, connection and schedule;
  // a new or changed one starts checking at once; a removed one stops (its late
  // results are dropped). Targets with spec.enabled == false are ignored.
  void setTargets(std::vector<Target> targets);
  // Stops all probes; results still in flight are dropped.
  void stop();

  size_t targetCount() const { return probes_.size(); }

 private:
  std::function<void(const CheckResult&)> on_result_;
  event_base* base_;
  std::map<std::string, std::shared_ptr<Probe>> probes_;
  std::mt19937_64 rng_;
};

}  // namespace switchyard::upstream::health
