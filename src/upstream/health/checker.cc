#include "upstream/health/checker.h"

#include <grpcpp/grpcpp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

#include "common/log.h"
#include "event/socket_address.h"
#include "grpc/status_code.h"
#include "health.grpc.pb.h"
#include "health.pb.h"

namespace switchyard::upstream::health {
namespace {

using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ServingStatus = HealthCheckResponse::ServingStatus;

constexpr Duration kMinInterval = std::chrono::milliseconds(10);
constexpr Duration kMinTimeout = std::chrono::milliseconds(1);
// How long the destructor waits for gRPC to finish cancelled calls.
constexpr auto kShutdownWait = std::chrono::seconds(10);

Duration intervalOf(const config::HealthCheckSpec& spec) {
  return std::max(spec.interval, kMinInterval);
}
Duration timeoutOf(const config::HealthCheckSpec& spec) {
  return std::max(spec.timeout, kMinTimeout);
}

int64_t toMillis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// "ipv4:1.2.3.4:80" / "ipv6:[::1]:80"; nullopt for anything but an IP literal.
std::optional<std::string> grpcTarget(const std::string& address) {
  auto sa = event::parseIpPort(address);
  if (!sa) return std::nullopt;
  if (sa->family() == AF_INET6) return "ipv6:" + sa->toString();
  if (sa->family() == AF_INET) return "ipv4:" + sa->toString();
  return std::nullopt;
}

bool sameProbe(const Target& a, const Target& b) {
  return a.spec.service == b.spec.service && a.spec.mode == b.spec.mode &&
         a.spec.interval == b.spec.interval && a.spec.timeout == b.spec.timeout &&
         a.spec.jitter == b.spec.jitter && a.authority == b.authority;
}

std::string servingName(int status) {
  if (!HealthCheckResponse::ServingStatus_IsValid(status)) {
    return "status " + std::to_string(status);
  }
  return HealthCheckResponse::ServingStatus_Name(static_cast<ServingStatus>(status));
}

bool containsNoCase(const std::string& text, std::string_view word) {
  auto it = std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
  return it != text.end();
}

// A short reason for a failed call.
std::string describe(const ::grpc::Status& st) {
  const int code = static_cast<int>(st.error_code());
  const std::string& msg = st.error_message();
  if (st.error_code() == ::grpc::StatusCode::DEADLINE_EXCEEDED) return "timeout";
  if (st.error_code() == ::grpc::StatusCode::UNAVAILABLE && containsNoCase(msg, "connect")) {
    return "connect failed: " + msg;
  }
  std::string name =
      (code >= 0 && code <= switchyard::grpc::kMaxStatusCode)
          ? switchyard::grpc::statusName(static_cast<switchyard::grpc::StatusCode>(code))
          : "status " + std::to_string(code);
  return msg.empty() ? name : name + ": " + msg;
}

::grpc::ChannelArguments channelArgs(const Target& t) {
  ::grpc::ChannelArguments args;
  // Our own connection per target, not shared with other channels in the process.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Reconnect quickly so that a recovered backend is seen within about an interval.
  const int64_t interval_ms = toMillis(intervalOf(t.spec));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(std::clamp<int64_t>(interval_ms, 100, 120000)));
  // This is also the connect (and HTTP/2 handshake) timeout; gRPC's default is 20 s.
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(std::clamp<int64_t>(toMillis(timeoutOf(t.spec)), 1000, 20000)));
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  args.SetInt(GRPC_ARG_SERVICE_CONFIG_DISABLE_RESOLUTION, 1);
  args.SetString(GRPC_ARG_PRIMARY_USER_AGENT_STRING, "switchyard-health/" SY_VERSION);
  if (!t.authority.empty()) args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, t.authority);
  if (t.spec.mode == "watch") {
    // A Watch stream may be quiet for hours; find a dead peer without upsetting
    // servers' default ping policy (no more often than every 5 minutes).
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 300000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  }
  return args;
}

}  // namespace

// State shared with gRPC's threads. Callbacks post through it, so that once the
// checker is gone (loop == nullptr) nothing reaches the loop any more, and the
// destructor can wait for the calls still owned by gRPC.
//
// A finished call's objects (its ClientContext holds a reference to the channel)
// are always released on the loop's thread, never on one of gRPC's: dropping the
// last grpc::Channel there would make gRPC join the very thread it runs on.
struct HealthChecker::Shared {
  std::mutex mu;
  std::condition_variable cv;
  event::EventLoop* loop;
  size_t inflight = 0;
  std::vector<std::shared_ptr<void>> graveyard;  // calls finished after the loop was detached

  explicit Shared(event::EventLoop* l) : loop(l) {}

  void begin() {
    std::lock_guard<std::mutex> g(mu);
    ++inflight;
  }
  void post(std::function<void()> fn) {
    std::lock_guard<std::mutex> g(mu);
    if (loop != nullptr) loop->post(std::move(fn));
  }
  // The last word of a call: runs fn on the loop, hands `call` over for release
  // there, and marks the call as no longer in flight.
  void finish(std::function<void()> fn, std::shared_ptr<void> call) {
    std::lock_guard<std::mutex> g(mu);
    if (loop != nullptr) {
      loop->post([fn = std::move(fn), call = std::move(call)] { fn(); });
    } else {
      graveyard.push_back(std::move(call));
    }
    if (--inflight == 0) cv.notify_all();
  }
};

namespace {

// One unary Check. Owned jointly by its probe (to cancel it) and by gRPC's
// completion callback.
struct CheckCall {
  ::grpc::ClientContext ctx;
  HealthCheckRequest req;
  HealthCheckResponse resp;
};

}  // namespace

// All of a target's checking; lives on the loop's thread.
class HealthChecker::Probe : public std::enable_shared_from_this<Probe> {
 public:
  Probe(HealthChecker* owner, Target target, std::string grpc_target)
      : owner_(owner),
        target_(std::move(target)),
        watch_mode_(target_.spec.mode == "watch"),
        timer_(owner->base_, [this] { onTimer(); }),
        watch_timer_(owner->base_, [this] { onWatchTimeout(); }) {
    channel_ = ::grpc::CreateCustomChannel(grpc_target, ::grpc::InsecureChannelCredentials(),
                                           channelArgs(target_));
    stub_ = Health::NewStub(channel_);
  }

  const Target& target() const { return target_; }

  void start() {
    if (watch_mode_) {
      startWatch();
    } else {
      startCheck();
    }
  }

  void stop();

  // Called on the loop thread by closures posted from gRPC's threads.
  void onCheckDone(uint64_t gen, CheckResult r);
  void onWatchMessage(uint64_t gen, int status);
  void onWatchDone(uint64_t gen, const ::grpc::Status& st);

 private:
  void onTimer() {
    if (stopped_) return;
    start();
  }
  void startCheck();
  void startWatch();
  void onWatchTimeout();
  void deliver(CheckResult r, const char* mode);
  void scheduleNext();

  HealthChecker* owner_;
  Target target_;
  bool watch_mode_;
  bool stopped_ = false;
  uint64_t gen_ = 0;  // identifies the current call; stale completions are ignored
  std::shared_ptr<::grpc::Channel> channel_;
  std::unique_ptr<Health::Stub> stub_;
  event::Timer timer_;        // next Check / reopening of the Watch stream
  event::Timer watch_timer_;  // deadline for the first Watch message
  std::shared_ptr<CheckCall> check_;
  std::shared_ptr<WatchCall> watch_;
  bool watch_got_message_ = false;
  bool watch_timed_out_ = false;
};

// One Watch stream. Keeps itself alive until OnDone; the probe holds another
// reference so it can cancel the stream at any time.
class HealthChecker::WatchCall : public ::grpc::ClientReadReactor<HealthCheckResponse> {
 public:
  WatchCall(std::shared_ptr<Shared> shared, std::weak_ptr<Probe> probe, uint64_t gen)
      : shared_(std::move(shared)), probe_(std::move(probe)), gen_(gen) {}

  void start(Health::Stub* stub, const std::string& service, std::shared_ptr<WatchCall> self) {
    self_ = std::move(self);
    req_.set_service(service);
    ctx_.set_wait_for_ready(false);
    stub->async()->Watch(&ctx_, &req_, this);
    StartRead(&resp_);
    StartCall();
  }

  void cancel() { ctx_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream is over; OnDone follows
    int status = resp_.status();
    shared_->post([probe = probe_, gen = gen_, status] {
      if (auto p = probe.lock()) p->onWatchMessage(gen, status);
    });
    StartRead(&resp_);
  }

  void OnDone(const ::grpc::Status& st) override {
    // After finish() *this may be gone at any moment; it must be the last use.
    std::shared_ptr<Shared> shared = shared_;
    shared->finish(
        [probe = probe_, gen = gen_, st] {
          if (auto p = probe.lock()) p->onWatchDone(gen, st);
        },
        std::move(self_));
  }

 private:
  std::shared_ptr<Shared> shared_;
  std::weak_ptr<Probe> probe_;
  uint64_t gen_;
  std::shared_ptr<WatchCall> self_;
  ::grpc::ClientContext ctx_;
  HealthCheckRequest req_;
  HealthCheckResponse resp_;
};

void HealthChecker::Probe::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  watch_timer_.cancel();
  // Cancelling may complete the calls on gRPC's threads at once; their results
  // are dropped because the probe is stopped (or gone).
  if (check_) check_->ctx.TryCancel();
  if (watch_) watch_->cancel();
  check_.reset();
  watch_.reset();
}

void HealthChecker::Probe::deliver(CheckResult r, const char* mode) {
  r.cluster = target_.cluster;
  r.address = target_.address;
  r.mode = mode;
  if (!r.passed) {
    log::main().debug("health check {} {} ({}): {}", target_.cluster, target_.address, mode,
                      r.reason);
  }
  owner_->on_result_(r);
}

void HealthChecker::Probe::scheduleNext() {
  if (stopped_) return;
  Duration delay = intervalOf(target_.spec);
  if (target_.spec.jitter > Duration::zero()) {
    std::uniform_int_distribution<Duration::rep> dist(0, target_.spec.jitter.count());
    delay += Duration(dist(owner_->rng_));
  }
  timer_.arm(delay);
}

void HealthChecker::Probe::startCheck() {
  auto call = std::make_shared<CheckCall>();
  call->req.set_service(target_.spec.service);
  call->ctx.set_wait_for_ready(false);
  call->ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             timeoutOf(target_.spec)));
  check_ = call;
  const uint64_t gen = ++gen_;
  std::shared_ptr<Shared> shared = owner_->shared_;
  std::weak_ptr<Probe> weak = weak_from_this();
  shared->begin();
  stub_->async()->Check(
      &call->ctx, &call->req, &call->resp,
      [call, shared, weak, gen](::grpc::Status st) mutable {
        CheckResult r;
        if (!st.ok()) {
          r.reason = describe(st);
        } else {
          r.passed = call->resp.status() == HealthCheckResponse::SERVING;
          r.reason = servingName(call->resp.status());
        }
        shared->finish(
            [weak, gen, r = std::move(r)]() mutable {
              if (auto p = weak.lock()) p->onCheckDone(gen, std::move(r));
            },
            std::move(call));
      });
}

void HealthChecker::Probe::onCheckDone(uint64_t gen, CheckResult r) {
  if (stopped_ || gen != gen_ || watch_mode_) return;
  check_.reset();
  auto self = shared_from_this();  // on_result may drop this probe
  deliver(std::move(r), "check");
  scheduleNext();
}

void HealthChecker::Probe::startWatch() {
  const uint64_t gen = ++gen_;
  watch_got_message_ = false;
  watch_timed_out_ = false;
  auto call = std::make_shared<WatchCall>(owner_->shared_, weak_from_this(), gen);
  watch_ = call;
  owner_->shared_->begin();
  call->start(stub_.get(), target_.spec.service, call);
  watch_timer_.arm(timeoutOf(target_.spec));
}

void HealthChecker::Probe::onWatchTimeout() {
  if (stopped_ || !watch_ || watch_got_message_) return;
  watch_timed_out_ = true;
  auto self = shared_from_this();
  watch_->cancel();  // OnDone follows and reopens the stream later
  CheckResult r;
  r.reason = "timeout";
  deliver(std::move(r), "watch");
}

void HealthChecker::Probe::onWatchMessage(uint64_t gen, int status) {
  // After our own timeout the stream is being cancelled; late messages are moot.
  if (stopped_ || gen != gen_ || !watch_mode_ || watch_timed_out_) return;
  watch_got_message_ = true;
  watch_timer_.cancel();
  CheckResult r;
  r.passed = status == HealthCheckResponse::SERVING;
  r.force_unhealthy = status == HealthCheckResponse::NOT_SERVING;
  r.force_healthy = r.passed;
  r.reason = servingName(status);
  auto self = shared_from_this();
  deliver(std::move(r), "watch");
}

void HealthChecker::Probe::onWatchDone(uint64_t gen, const ::grpc::Status& st) {
  if (stopped_ || gen != gen_ || !watch_mode_) return;
  watch_timer_.cancel();
  watch_.reset();
  auto self = shared_from_this();
  if (!watch_got_message_ && st.error_code() == ::grpc::StatusCode::UNIMPLEMENTED) {
    log::main().info("health check {} {}: Watch is not implemented, using Check",
                     target_.cluster, target_.address);
    watch_mode_ = false;
    startCheck();
    return;
  }
  if (!watch_timed_out_) {
    CheckResult r;
    r.reason = watch_got_message_ ? "stream ended: " + describe(st) : describe(st);
    deliver(std::move(r), "watch");
  }
  scheduleNext();
}

HealthChecker::HealthChecker(event::EventLoop& loop,
                             std::function<void(const CheckResult&)> on_result)
    : on_result_(std::move(on_result)),
      shared_(std::make_shared<Shared>(&loop)),
      base_(loop.base()),
      rng_(std::random_device{}()) {}

HealthChecker::~HealthChecker() {
  stop();
  std::vector<std::shared_ptr<void>> dead;
  {
    std::unique_lock<std::mutex> lock(shared_->mu);
    shared_->loop = nullptr;
    if (!shared_->cv.wait_for(lock, kShutdownWait, [&] { return shared_->inflight == 0; })) {
      log::main().warn("health checker: {} calls still in flight at shutdown", shared_->inflight);
    }
    dead.swap(shared_->graveyard);
  }
  // Released outside the lock: destroying a channel may wait for gRPC's threads.
  dead.clear();
}

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
    auto grpc_target = grpcTarget(t.address);
    if (!grpc_target) {
      log::main().warn("health check {}: '{}' is not an IP address and port; not checked",
                       t.cluster, t.address);
      continue;
    }
    auto probe = std::make_shared<Probe>(this, std::move(t), std::move(*grpc_target));
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
