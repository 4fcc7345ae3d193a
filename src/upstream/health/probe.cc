#include "upstream/health/probe.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "grpc/health_message.h"

namespace switchyard::upstream::health {
namespace {

using switchyard::grpc::ServingStatus;
using switchyard::grpc::StatusCode;

constexpr Duration kMinInterval = std::chrono::milliseconds(10);
constexpr Duration kMinTimeout = std::chrono::milliseconds(1);

Duration intervalOf(const config::HealthCheckSpec& spec) {
  return std::max(spec.interval, kMinInterval);
}
Duration timeoutOf(const config::HealthCheckSpec& spec) {
  return std::max(spec.timeout, kMinTimeout);
}

// A short reason for a call that did not end in OK.
std::string describe(const CallOutcome& o) {
  if (o.code == StatusCode::DeadlineExceeded) return "timeout";
  if (o.connect_failed) return o.message;  // "connect failed", "cannot create ..."
  std::string name = switchyard::grpc::statusName(o.code);
  return o.message.empty() ? name : name + ": " + o.message;
}

}  // namespace

Probe::Probe(event_base* base, Target target, event::SocketAddress address, std::mt19937_64& rng,
             const ResultFn& on_result)
    : base_(base),
      target_(std::move(target)),
      address_(address),
      rng_(rng),
      on_result_(on_result),
      watch_mode_(target_.spec.mode == "watch"),
      next_(base, [this] { startCall(); }),
      deadline_(base, [this] { onDeadline(); }),
      events_(base, [this] { onCallEvent(); }) {}

Probe::~Probe() { stop(); }

void Probe::start() { startCall(); }

void Probe::stop() {
  stopped_ = true;
  next_.cancel();
  deadline_.cancel();
  call_.reset();
  conn_.reset();
  retired_.clear();
}

UpstreamConnection* Probe::connection() {
  if (conn_ && (conn_->closed() || conn_->draining())) {
    // A GOAWAY or a failure: it closes by itself (and is then forgotten).
    retired_.push_back(std::move(conn_));
  }
  if (!conn_) {
    conn_ = UpstreamConnection::connect(
        base_, address_, target_.connection,
        [this](UpstreamConnection* c, http2::CloseReason) { onConnectionClosed(c); });
  }
  return conn_.get();
}

// Called from the top of a libevent callback: the connection may be destroyed here.
void Probe::onConnectionClosed(UpstreamConnection* c) {
  if (conn_.get() == c) {
    conn_.reset();
    return;
  }
  std::erase_if(retired_, [c](const auto& p) { return p.get() == c; });
}

void Probe::startCall() {
  if (stopped_) return;
  call_ = std::make_unique<HealthCall>([this] { events_.schedule(); },
                                       static_cast<size_t>(target_.spec.max_response_bytes));
  check_statuses_.clear();
  watch_got_message_ = false;
  HealthCallRequest req{watch_mode_ ? "Watch" : "Check", target_.connection.tls ? "https" : "http",
                        target_.authority.empty() ? target_.address : target_.authority,
                        target_.spec.service};
  if (!watch_mode_) req.timeout = timeoutOf(target_.spec);
  if (UpstreamConnection* conn = connection()) {
    call_->start(*conn, req);
  } else {
    call_->failToStart("connect failed: cannot create a socket");
  }
  deadline_.arm(timeoutOf(target_.spec));
}

void Probe::onCallEvent() {
  if (stopped_ || !call_) return;
  auto self = shared_from_this();  // on_result may drop this probe
  for (int32_t status : call_->takeStatuses()) {
    if (!watch_mode_) {
      check_statuses_.push_back(status);
      continue;
    }
    onWatchMessage(status);
    if (stopped_ || !call_) return;
  }
  if (!call_->outcome()) return;
  const CallOutcome outcome = *call_->outcome();
  deadline_.cancel();
  call_.reset();  // resets the stream if the backend left it open
  if (watch_mode_) {
    finishWatch(outcome);
  } else {
    finishCheck(outcome, check_statuses_);
  }
}

void Probe::onDeadline() {
  if (stopped_ || !call_) return;
  if (watch_mode_ && watch_got_message_) return;
  auto self = shared_from_this();
  call_.reset();
  // The connection did not answer in time: do not trust it with the next call.
  conn_.reset();
  CheckResult r;
  r.reason = "timeout";
  deliver(std::move(r), watch_mode_ ? "watch" : "check");
  scheduleNext();
}

void Probe::finishCheck(const CallOutcome& outcome, const std::vector<int32_t>& statuses) {
  CheckResult r;
  if (outcome.code != StatusCode::Ok) {
    r.reason = describe(outcome);
  } else if (statuses.empty()) {
    r.reason = "INTERNAL: no HealthCheckResponse in an OK response";
  } else {
    r.passed = statuses.front() == static_cast<int32_t>(ServingStatus::Serving);
    r.reason = switchyard::grpc::servingStatusName(statuses.front());
  }
  deliver(std::move(r), "check");
  scheduleNext();
}

void Probe::onWatchMessage(int32_t status) {
  watch_got_message_ = true;
  deadline_.cancel();
  CheckResult r;
  r.passed = status == static_cast<int32_t>(ServingStatus::Serving);
  r.force_unhealthy = status == static_cast<int32_t>(ServingStatus::NotServing);
  r.force_healthy = r.passed;
  r.reason = switchyard::grpc::servingStatusName(status);
  deliver(std::move(r), "watch");
}

void Probe::finishWatch(const CallOutcome& outcome) {
  if (!watch_got_message_ && outcome.code == StatusCode::Unimplemented) {
    log::main().info("health check {} {}: Watch is not implemented, using Check",
                     target_.cluster, target_.address);
    watch_mode_ = false;
    startCall();
    return;
  }
  CheckResult r;
  r.reason = watch_got_message_ ? "stream ended: " + describe(outcome) : describe(outcome);
  deliver(std::move(r), "watch");
  scheduleNext();
}

void Probe::deliver(CheckResult r, const char* mode) {
  r.cluster = target_.cluster;
  r.address = target_.address;
  r.mode = mode;
  if (!r.passed) {
    log::main().debug("health check {} {} ({}): {}", target_.cluster, target_.address, mode,
                      r.reason);
  }
  on_result_(r);
}

void Probe::scheduleNext() {
  if (stopped_) return;
  Duration delay = intervalOf(target_.spec);
  if (target_.spec.jitter > Duration::zero()) {
    std::uniform_int_distribution<Duration::rep> dist(0, target_.spec.jitter.count());
    delay += Duration(dist(rng_));
  }
  next_.arm(delay);
}

}  // namespace switchyard::upstream::health
