// DnsRefresher: re-resolves the clusters' DNS-named endpoints every
// dns_refresh on its own thread (getaddrinfo blocks) and hands each answer to
// the main loop. All A/AAAA records of a name become endpoints, as with a
// Kubernetes headless Service.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/spec.h"
#include "event/loop.h"
#include "event/socket_address.h"
#include "upstream/endpoint_key.h"

namespace switchyard::server {

class DnsRefresher {
 public:
  // on_result(key, addresses) runs on `loop`'s thread; key.address is the configured "host:port".
  using ResultFn = std::function<void(const upstream::EndpointKey& key,
                                      std::vector<event::SocketAddress> addresses)>;

  DnsRefresher(event::EventLoop& loop, ResultFn on_result);
  ~DnsRefresher();

  // The names to watch (IP literals are skipped). Thread-safe.
  void setTargets(const config::Config& config);

 private:
  struct Target {
    config::EndpointSpec endpoint;
    Duration refresh;
    std::chrono::steady_clock::time_point next;
  };
  void run();

  event::EventLoop& loop_;
  ResultFn on_result_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<upstream::EndpointKey, Target> targets_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace switchyard::server
