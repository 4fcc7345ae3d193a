#include "event/accept_guard.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "common/log.h"

namespace switchyard::event {
namespace {

constexpr auto kFirstPause = std::chrono::milliseconds(50);
constexpr auto kMaxPause = std::chrono::seconds(1);
constexpr auto kLogInterval = std::chrono::seconds(10);

// The error callback receives the listener's own user data (evhttp's, for the
// admin listener), so the guard is found by listener. Touched only when a
// guard is made or destroyed and when accept() fails.
std::mutex registry_mu;
std::map<evconnlistener*, AcceptGuard*>& registry() {
  static std::map<evconnlistener*, AcceptGuard*> guards;
  return guards;
}

}  // namespace

AcceptGuard::AcceptGuard(event_base* base, evconnlistener* lev, std::string name,
                         std::function<void()> on_pause)
    : lev_(lev),
      name_(std::move(name)),
      on_pause_(std::move(on_pause)),
      resume_(base, [this] { evconnlistener_enable(lev_); }) {
  {
    std::lock_guard<std::mutex> g(registry_mu);
    registry()[lev] = this;
  }
  evconnlistener_set_error_cb(lev, &AcceptGuard::onError);
}

AcceptGuard::~AcceptGuard() {
  std::lock_guard<std::mutex> g(registry_mu);
  registry().erase(lev_);
}

void AcceptGuard::onError(evconnlistener* lev, void*) {
  int err = EVUTIL_SOCKET_ERROR();
  AcceptGuard* guard = nullptr;
  {
    std::lock_guard<std::mutex> g(registry_mu);
    auto it = registry().find(lev);
    if (it != registry().end()) guard = it->second;
  }
  if (guard != nullptr) guard->pause(err);
}

void AcceptGuard::pause(int err) {
  Duration d = std::min<Duration>(kFirstPause * (1 << std::min<uint32_t>(consecutive_, 5)), kMaxPause);
  ++consecutive_;
  evconnlistener_disable(lev_);
  resume_.arm(d);
  if (on_pause_) on_pause_();
  ++unlogged_;
  auto now = std::chrono::steady_clock::now();
  if (logged_once_ && now - last_log_ < kLogInterval) return;
  log::main().error("{}: accept() failed: {}; pausing accepts for {}ms ({} more failures since the "
                    "last message)",
                    name_, std::strerror(err),
                    std::chrono::duration_cast<std::chrono::milliseconds>(d).count(), unlogged_ - 1);
  logged_once_ = true;
  last_log_ = now;
  unlogged_ = 0;
}

}  // namespace switchyard::event
