// Probe: the active health checking of one target (cluster + endpoint) for
// HealthChecker: its connection, the call in progress (Check or Watch), the
// per-call deadline and the timer for the next call. See checker.h for the
// rules it follows. Lives on the loop's thread; reports through on_result
// from the top of a loop callback only.
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "event/loop.h"
#include "event/socket_address.h"
#include "upstream/health/checker.h"
#include "upstream/health/health_call.h"
#include "upstream/upstream_connection.h"

namespace switchyard::upstream::health {

class Probe : public std::enable_shared_from_this<Probe> {
 public:
  using ResultFn = std::function<void(const CheckResult&)>;

  // `rng` and `on_result` belong to the checker, which outlives its probes.
  Probe(event_base* base, Target target, event::SocketAddress address, std::mt19937_64& rng,
        const ResultFn& on_result);
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  const Target& target() const { return target_; }
  // Sends the first Check or opens the Watch stream. Never reports synchronously.
  void start();
  // Drops the call and the connection; nothing is reported afterwards.
  void stop();

 private:
  void startCall();
  UpstreamConnection* connection();
  void onConnectionClosed(UpstreamConnection* conn);
  void onCallEvent();
  void onDeadline();
  void finishCheck(const CallOutcome& outcome, const std::vector<int32_t>& statuses);
  void finishWatch(const CallOutcome& outcome);
  void onWatchMessage(int32_t status);
  void deliver(CheckResult r, const char* mode);
  void scheduleNext();

  event_base* base_;
  Target target_;
  event::SocketAddress address_;
  std::mt19937_64& rng_;
  const ResultFn& on_result_;
  bool watch_mode_;
  bool stopped_ = false;
  bool watch_got_message_ = false;
  std::vector<int32_t> check_statuses_;  // messages of the Check in progress
  // Declared before call_: a call is always gone before its connection.
  std::unique_ptr<UpstreamConnection> conn_;
  std::vector<std::unique_ptr<UpstreamConnection>> retired_;  // draining; closed on their own
  std::unique_ptr<HealthCall> call_;
  event::Timer next_;      // the next Check / reopening of the Watch stream
  event::Timer deadline_;  // the Check's deadline / the first Watch message's
  event::Deferred events_;  // the call has news, looked at from the top of the loop
};

}  // namespace switchyard::upstream::health
