#include "server/server.h"

#include <csignal>
#include <thread>

#include "admin/views.h"
#include "common/log.h"
#include "config/loader.h"
#include "server/certificate_report.h"
#include "server/cpu_budget.h"
#include "server/listener_socket.h"
#include "server/notify.h"
#include "server/startup_check.h"
#include "server/signals.h"

namespace switchyard::server {
namespace {

constexpr auto kDrainPoll = std::chrono::milliseconds(50);

http2::SessionSettings toSettings(const config::Http2Spec& h) {
  http2::SessionSettings s;
  s.max_concurrent_streams = h.max_concurrent_streams;
  s.initial_stream_window = h.initial_stream_window;
  s.initial_connection_window = h.initial_connection_window;
  s.max_frame_size = h.max_frame_size;
  s.max_header_list_size = h.max_header_list_size;
  s.max_header_fields = h.max_header_fields;
  s.max_glitches = h.max_glitches;
  s.glitch_window = h.glitch_window;
  return s;
}

}  // namespace

Server::Server(std::string config_path, std::string log_level_override)
    : config_path_(std::move(config_path)), log_level_override_(std::move(log_level_override)) {}

Server::~Server() {
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  if (admin_) admin_->stop();
}

int Server::run() {
  auto loaded = config::loadFile(config_path_);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) log::main().error("{}", e);
    return 1;
  }
  auto cfg = std::make_shared<const config::Config>(std::move(*loaded.config));
  log::init(log_level_override_.empty() ? cfg->logging.level : log_level_override_,
            cfg->logging.access_log);

  size_t n = workerCount(cfg->workers);
  log::main().info("{}", describeWorkers(cfg->workers));
  for (size_t i = 0; i < n; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, &metrics_.addWorker()));
    // Passive failure runs seen by a worker come to the main thread, which decides.
    workers_.back()->clusters().setOutlierSink(
        [this](const std::string& cluster, const std::string& address) {
          loop_.post([this, cluster, address] { onOutlier(cluster, address); });
        });
  }
  std::vector<Worker*> peers;
  for (auto& w : workers_) peers.push_back(w.get());
  for (auto& w : workers_) w->setPeers(peers);
  checker_ = std::make_unique<upstream::health::HealthChecker>(
      loop_, [this](const upstream::health::CheckResult& r) { onCheckResult(r); });
  dns_ = std::make_unique<DnsRefresher>(
      loop_, [this](const upstream::EndpointKey& key, std::vector<event::SocketAddress> addrs) {
        onDnsResult(key, std::move(addrs));
      });
  ejection_timer_ = std::make_unique<event::Timer>(loop_.base(), [this] { onEjectionTimer(); });
  if (Status st = apply(cfg); !st.ok()) {
    log::main().error("{}", st.error());
    return 1;
  }
  metrics_.configReload(true);
  registry_.markStarted();
  for (auto& w : workers_) w->start();
  setupAdmin();
  if (admin_) {
    if (Status st = admin_->start(); !st.ok()) {
      log::main().error("admin: {}", st.error());
      return 1;
    }
  }

  ignoreStraySignals();
  for (int sig : handledSignals()) {
    event::EventPtr ev(evsignal_new(loop_.base(), sig, &Server::onSignal, this));
    evsignal_add(ev.get(), nullptr);
    signal_events_.push_back(std::move(ev));
  }
  for (const auto& [name, l] : listeners_) {
    log::main().info("listener {} on {} ({})", name, l.bound.toString(), l.tls ? "TLS, ALPN h2" : "h2c");
  }
  log::main().info("switchyard {} ready: {} workers, {} routes, {} clusters{}", SY_VERSION, n,
                   cfg->routes.size(), cfg->clusters.size(),
                   admin_ ? ", admin on " + admin_->address() : "");
  notify::ready();
  loop_.run();
  finish();
  return exit_code_;
}

void Server::onSignal(evutil_socket_t sig, short, void* arg) {
  auto* self = static_cast<Server*>(arg);
  if (sig == SIGHUP) {
    self->reload();
    return;
  }
  if (sig == SIGUSR1) {
    log::main().info("SIGUSR1: reopening log files");
    log::reopen();
    return;
  }
  if (self->draining_) {
    log::main().warn("second signal: exiting now");
    self->exit_code_ = 0;
    event_base_loopbreak(self->loop_.base());
    return;
  }
  log::main().info("signal {}: draining", sig);
  self->beginDrain();
}

void Server::reload() {
  notify::reloading();
  log::main().info("SIGHUP: reloading {}", config_path_);
  auto loaded = config::loadFile(config_path_);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) log::main().error("reload rejected: {}", e);
    log::main().error("reload failed; the running configuration is unchanged");
    metrics_.configReload(false);
    notify::ready();
    return;
  }
  auto cfg = std::make_shared<const config::Config>(std::move(*loaded.config));
  if (Status st = apply(cfg); !st.ok()) {
    log::main().error("reload rejected: {}; the running configuration is unchanged", st.error());
    metrics_.configReload(false);
  } else {
    if (cfg->workers != 0 && cfg->workers != workers_.size()) {
      log::main().warn("workers changed to {}: takes effect on restart", cfg->workers);
    }
    // Applies the level, and opens the access log anew (a changed target, or
    // the same path after rotation).
    log::init(log_level_override_.empty() ? cfg->logging.level : log_level_override_,
              cfg->logging.access_log);
    metrics_.configReload(true);
    log::main().info("reload complete (generation {})", generation_);
  }
  notify::ready();
}

Status Server::apply(std::shared_ptr<const config::Config> cfg) {
  // 1. Everything that can fail, before anything changes.
  auto prepared = prepareConfig(*cfg);  // the same step --check-config runs
  if (!prepared.ok()) return Error{prepared.error()};
  const tls::MaterialPtr& material = prepared->tls;
  std::map<std::string, ListenerSockets> opened;
  for (const auto& l : cfg->listeners) {
    auto it = listeners_.find(l.name);
    if (it != listeners_.end() && it->second.address == l.address) continue;
    auto socks = openListenerSockets(l.address, workers_.size(), holdsPort(l.address));
    if (!socks.ok()) {
      for (auto& [name, s] : opened) {
        for (int fd : s.fds) ::close(fd);
      }
      return Error{cfg->path + ":" + std::to_string(l.mark.line) + ":" +
                   std::to_string(l.mark.col) + ": listener " + l.name + ": " + socks.error()};
    }
    opened[l.name] = std::move(*socks);
  }

  // 2. Commit: routes and clusters first, so new listeners route with the new config.
  {
    std::lock_guard<std::mutex> g(mu_);
    config_ = cfg;
    tls_ = material;
    schema_ = prepared->schema;
    transcoding_ = prepared->transcoding;
  }
  publishCertificates(*cfg, *material);
  routes_ = prepared->routes;
  policies_ = prepared->policies;
  registry_.configure(cfg);
  publish();
  if (dns_) dns_->setTargets(*cfg);

  std::map<std::string, ListenerState> next;
  for (const auto& l : cfg->listeners) {
    proxy::ListenerInfo info;
    info.name = l.name;
    info.tls = l.tls.has_value();
    info.h2 = toSettings(l.http2);
    info.idle_timeout = l.idle_timeout;
    info.request_headers_timeout = l.request_headers_timeout;
    info.stream_idle_timeout = l.stream_idle_timeout;
    info.max_connections = l.max_connections;
    if (l.grpc_web) {
      info.grpc_web = true;
      if (l.grpc_web->cors) info.cors = std::make_shared<const routing::CorsPolicy>(*l.grpc_web->cors);
    }
    info.max_connection_age = l.max_connection_age;
    info.max_connection_age_grace = l.max_connection_age_grace;
    info.merged_reflection = l.reflection == config::ReflectionMode::Merged;
    info.exact_balance = l.connection_balance == config::ConnectionBalance::Exact;
    info.http1_max_request_body_bytes = l.http1.max_request_body_bytes;
    if (l.tls) {
      info.handshake_timeout = l.tls->handshake_timeout;
      info.forward_client_cert = l.tls->forward_client_cert;
    }
    auto found = material->listeners.find(l.name);
    auto ctx = found != material->listeners.end() ? found->second.ctx : nullptr;
    if (auto o = opened.find(l.name); o != opened.end()) {
      if (listeners_.count(l.name)) {
        for (auto& w : workers_) w->removeListener(l.name);
      }
      for (size_t i = 0; i < workers_.size(); ++i) {
        workers_[i]->addListener(o->second.fds[i], info, ctx);
      }
      next[l.name] = ListenerState{l.address, o->second.bound, info.tls};
      // Startup logs every listener once it is ready; a reload logs the ones it opened.
      if (registry_.started()) log::main().info("listener {} on {} ({})", l.name, o->second.bound.toString(),
                                     info.tls ? "TLS, ALPN h2" : "h2c");
    } else {
      for (auto& w : workers_) w->updateListener(info, ctx);
      next[l.name] = listeners_[l.name];
      next[l.name].tls = info.tls;
    }
  }
  for (const auto& [name, state] : listeners_) {
    if (!next.count(name)) {
      for (auto& w : workers_) w->removeListener(name);
      log::main().info("listener {} removed", name);
    }
  }
  listeners_ = std::move(next);
  return {};
}

bool Server::holdsPort(const std::string& address) const {
  auto want = event::parseIpPort(address);
  if (!want || want->port() == 0) return false;
  for (const auto& [name, l] : listeners_) {
    if (l.bound.family() == want->family() && l.bound.port() == want->port()) return true;
  }
  return false;
}

void Server::publish() {
  std::shared_ptr<const config::Config> cfg;
  {
    std::lock_guard<std::mutex> g(mu_);
    cfg = config_;
  }
  registry_.resolveNew();
  auto rt = buildRuntime(
      cfg, routes_, policies_, registry_.resolved(),
      [this](const std::string& c, const std::string& a) { return registry_.healthOf(c, a); },
      generation_ + 1, tls_, schema_, transcoding_);
  auto targets = registry_.adopt(*rt);
  if (checker_) checker_->setTargets(std::move(targets));
  {
    std::lock_guard<std::mutex> g(mu_);
    runtime_ = rt;
    ++generation_;
  }
  for (auto& w : workers_) w->setRuntime(rt);
}

void Server::onCheckResult(const upstream::health::CheckResult& r) {
  if (registry_.onCheckResult(r)) publish();
}

void Server::onOutlier(const std::string& cluster, const std::string& address) {
  if (!runtime_) return;
  size_t size = 0;
  for (const auto& c : runtime_->clusters) {
    if (c->name() == cluster) size = c->endpoints.size();
  }
  if (!registry_.onFailureBurst(upstream::EndpointKey{cluster, address}, size)) return;
  publish();
  if (!ejection_timer_->armed()) ejection_timer_->arm(std::chrono::seconds(1));
}

void Server::onEjectionTimer() {
  bool pending = false;
  if (registry_.expireEjections(&pending)) publish();
  if (pending) ejection_timer_->arm(std::chrono::milliseconds(250));
}

void Server::onDnsResult(const upstream::EndpointKey& key,
                         std::vector<event::SocketAddress> addresses) {
  if (registry_.onDnsResult(key, std::move(addresses)) && !draining_) publish();
}

void Server::beginDrain() {
  notify::stopping();
  {
    std::lock_guard<std::mutex> g(mu_);
    draining_ = true;
  }
  for (auto& w : workers_) w->drain();
  drain_deadline_ = std::chrono::steady_clock::now() + config_->drain_timeout;
  drain_timer_ = std::make_unique<event::Timer>(loop_.base(), [this] { checkDrained(); });
  drain_timer_->arm(kDrainPoll);
}

void Server::checkDrained() {
  size_t open = 0;
  for (auto& w : workers_) open += w->connectionCount();
  if (open == 0) {
    log::main().info("drained; exiting");
    event_base_loopbreak(loop_.base());
    return;
  }
  if (std::chrono::steady_clock::now() >= drain_deadline_) {
    log::main().warn("drain_timeout passed with {} connections open; closing them", open);
    for (auto& w : workers_) w->forceClose();
    // Give the GOAWAYs a moment to go out, then stop.
    drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    drain_timer_ = std::make_unique<event::Timer>(loop_.base(),
                                                  [this] { event_base_loopbreak(loop_.base()); });
    drain_timer_->arm(std::chrono::seconds(1));
    return;
  }
  drain_timer_->arm(kDrainPoll);
}

void Server::finish() {
  dns_.reset();
  if (checker_) checker_->stop();
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  if (admin_) admin_->stop();
}

bool Server::ready(std::string* why) const {
  std::lock_guard<std::mutex> g(mu_);
  if (draining_) {
    *why = "draining";
    return false;
  }
  if (!runtime_) {
    *why = "starting";
    return false;
  }
  for (const auto& c : runtime_->clusters) {
    if (c->healthyCount() == 0) {
      *why = "cluster " + c->name() + " has no healthy endpoint";
      return false;
    }
  }
  return true;
}

void Server::setupAdmin() {
  if (config_->admin.address.empty()) return;
  admin_ = std::make_unique<admin::AdminServer>(config_->admin.address);
  admin_->handle("/healthz", [] { return admin::Response{200, "text/plain", "ok\n"}; });
  admin_->handle("/ready", [this] {
    std::string why;
    if (ready(&why)) return admin::Response{200, "text/plain", "ready\n"};
    return admin::Response{503, "text/plain", "not ready: " + why + "\n"};
  });
  admin_->handle("/metrics", [this] {
    return admin::Response{200, metrics::Metrics::kContentType, metrics_.serialize()};
  });
  admin_->handle("/clusters", [this] {
    return admin::Response{200, "application/json", clustersJson()};
  });
  admin_->handle("/config", [this] {
    return admin::Response{200, "application/json", configJson()};
  });
}

std::string Server::clustersJson() const {
  proxy::RuntimePtr rt;
  {
    std::lock_guard<std::mutex> g(mu_);
    rt = runtime_;
  }
  return admin::clustersJson(rt.get());
}

std::string Server::configJson() const {
  std::shared_ptr<const config::Config> cfg;
  {
    std::lock_guard<std::mutex> g(mu_);
    cfg = config_;
  }
  return admin::configJson(*cfg, workers_.size());
}

}  // namespace switchyard::server
