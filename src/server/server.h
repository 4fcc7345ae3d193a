// Server: the main thread. Loads the config, starts the workers and the admin
// endpoint, and handles signals: SIGHUP reloads (a bad file changes nothing),
// SIGTERM/SIGINT drain (GOAWAY, let RPCs finish up to drain_timeout, exit 0;
// a second signal exits at once). It alone builds Runtime snapshots and
// publishes them to the workers.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "admin/admin_server.h"
#include "config/spec.h"
#include "event/loop.h"
#include "metrics/metrics.h"
#include "server/dns_refresher.h"
#include "server/endpoint_registry.h"
#include "server/runtime_builder.h"
#include "server/worker.h"
#include "tls/material.h"
#include "upstream/health/checker.h"

namespace switchyard::server {

class Server {
 public:
  Server(std::string config_path, std::string log_level_override);
  ~Server();

  // Runs until drained or stopped; returns the process exit code.
  int run();

 private:
  struct ListenerState {
    std::string address;  // as configured
    event::SocketAddress bound;
    bool tls = false;
  };

  // Applies a validated config: TLS contexts, listeners, routes, clusters.
  // On error nothing changes and the message says why.
  Status apply(std::shared_ptr<const config::Config> cfg);
  void reload();
  // True when one of this process's listeners is bound to address's port
  // (a renamed or moved listener shares it instead of failing as taken).
  bool holdsPort(const std::string& address) const;
  void publish();
  void beginDrain();
  void checkDrained();
  void finish();
  void setupAdmin();
  // Each event updates the endpoint registry; a health change publishes a new Runtime.
  void onCheckResult(const upstream::health::CheckResult& r);
  void onOutlier(const std::string& cluster, const std::string& address);
  void onEjectionTimer();
  void onDnsResult(const upstream::EndpointKey& key, std::vector<event::SocketAddress> addresses);
  std::string clustersJson() const;
  std::string configJson() const;
  bool ready(std::string* why) const;

  static void onSignal(evutil_socket_t sig, short, void* arg);

  std::string config_path_;
  std::string log_level_override_;
  event::EventLoop loop_;
  std::vector<event::EventPtr> signal_events_;
  metrics::Metrics metrics_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::map<std::string, ListenerState> listeners_;

  // Current state; written on the main thread, read by the admin thread under mu_.
  mutable std::mutex mu_;
  std::shared_ptr<const config::Config> config_;
  tls::MaterialPtr tls_;  // contexts of config_: listeners and clusters
  schema::CatalogPtr schema_;  // descriptor sets of config_; null without any
  transcode::TranscodingTablePtr transcoding_;  // json_transcoding of config_; null without
  proxy::RuntimePtr runtime_;
  uint64_t generation_ = 0;
  bool draining_ = false;

  EndpointRegistry registry_{metrics_};  // endpoint health, ejections and DNS answers
  std::shared_ptr<const routing::RouteTable> routes_;
  proxy::RoutePoliciesPtr policies_;  // built with routes_, once per configuration
  std::unique_ptr<upstream::health::HealthChecker> checker_;
  std::unique_ptr<DnsRefresher> dns_;
  std::unique_ptr<event::Timer> ejection_timer_;

  std::unique_ptr<event::Timer> drain_timer_;
  std::chrono::steady_clock::time_point drain_deadline_;
  int exit_code_ = 0;
};

}  // namespace switchyard::server
