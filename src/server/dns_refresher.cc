#include "server/dns_refresher.h"

#include "common/log.h"
#include "server/runtime_builder.h"

namespace switchyard::server {

DnsRefresher::DnsRefresher(event::EventLoop& loop, ResultFn on_result)
    : loop_(loop), on_result_(std::move(on_result)), thread_([this] { run(); }) {}

DnsRefresher::~DnsRefresher() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DnsRefresher::setTargets(const config::Config& config) {
  std::map<upstream::EndpointKey, Target> next;
  auto now = std::chrono::steady_clock::now();
  for (const auto& c : config.clusters) {
    for (const auto& ep : c.endpoints) {
      if (event::makeAddress(ep.host, ep.port)) continue;  // IP literal
      next[endpointKey(c.name, ep)] = Target{ep, c.dns_refresh, now + c.dns_refresh};
    }
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& [key, t] : next) {
      if (auto it = targets_.find(key); it != targets_.end()) t.next = it->second.next;
    }
    targets_ = std::move(next);
  }
  cv_.notify_all();
}

void DnsRefresher::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    auto now = std::chrono::steady_clock::now();
    auto wake = now + std::chrono::seconds(60);
    std::vector<std::pair<upstream::EndpointKey, config::EndpointSpec>> due;
    for (auto& [key, t] : targets_) {
      if (t.next <= now) {
        due.emplace_back(key, t.endpoint);
        t.next = now + t.refresh;
      }
      wake = std::min(wake, t.next);
    }
    if (!due.empty()) {
      lock.unlock();
      for (auto& [key, ep] : due) {
        auto r = resolveEndpoint(ep);
        if (!r.ok()) {
          // Keep the last good answer: a DNS outage must not empty a cluster.
          log::main().warn("dns: {}; keeping the previous addresses", r.error());
          continue;
        }
        loop_.post([this, key = key, addrs = std::move(*r)]() mutable {
          on_result_(key, std::move(addrs));
        });
      }
      lock.lock();
      continue;
    }
    cv_.wait_until(lock, wake);
  }
}

}  // namespace switchyard::server
