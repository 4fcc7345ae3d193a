#include "upstream/health/checker.h"

#include <utility>

#include "common/log.h"
#include "event/socket_address.h"
#include "upstream/health/probe.h"

namespace switchyard::upstream::health {
namespace {

bool sameProbe(const Target& a, const Target& b) {
  return a.spec.service == b.spec.service && a.spec.mode == b.spec.mode &&
         a.spec.interval == b.spec.interval && a.spec.timeout == b.spec.timeout &&
         a.spec.jitter == b.spec.jitter &&
         a.spec.max_response_bytes == b.spec.max_response_bytes && a.authority == b.authority &&
         a.connection == b.connection;
}

}  // namespace

HealthChecker::HealthChecker(event::EventLoop& loop,
                             std::function<void(const CheckResult&)> on_result)
    : on_result_(std::move(on_result)), base_(loop.base()), rng_(std::random_device{}()) {}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::stop() {
  auto probes = std::move(probes_);
  probes_.clear();
  for (auto& [key, probe] : probes) probe->stop();
}

void HealthChecker::setTargets(std::vector<Target> targets) {
  std::map<std::string, std::shared_ptr<Probe>> next;
  std::vector<std::shared_ptr<Probe>> fresh;
  for (auto& t : targets) {
    if (!t.spec.enabled) continue;
    std::string key = t.cluster + '\0' + t.address;
    if (next.count(key) != 0) continue;  // duplicate: the first one wins
    auto it = probes_.find(key);
    if (it != probes_.end() && sameProbe(it->second->target(), t)) {
      next.emplace(std::move(key), std::move(it->second));
      probes_.erase(it);
      continue;
    }
    auto address = event::parseIpPort(t.address);
    if (!address) {
      log::main().warn("health check {}: '{}' is not an IP address and port; not checked",
                       t.cluster, t.address);
      continue;
    }
    auto probe = std::make_shared<Probe>(base_, std::move(t), *address, rng_, on_result_);
    fresh.push_back(probe);
    next.emplace(std::move(key), std::move(probe));
  }
  // Whatever is left was removed or changed.
  auto old = std::move(probes_);
  probes_ = std::move(next);
  for (auto& [key, probe] : old) probe->stop();
  old.clear();
  // Starting never reports synchronously, so the map cannot change under us.
  for (auto& probe : fresh) probe->start();
}

}  // namespace switchyard::upstream::health
