#include "proxy/stream_timeouts.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <vector>

#include "metrics/worker_stats.h"

namespace switchyard::proxy {
namespace {

// The idle sweep runs this many times per stream_idle_timeout.
constexpr int kIdleSweepsPerTimeout = 4;
constexpr auto kMinIdleSweep = std::chrono::milliseconds(50);

Duration sweepInterval(Duration timeout) {
  return std::max<Duration>(timeout / kIdleSweepsPerTimeout, kMinIdleSweep);
}

}  // namespace

StreamTimeouts::StreamTimeouts(event_base* base, event::Clock& clock,
                               const ListenerInfo& listener, Actions actions)
    : clock_(clock),
      listener_(listener),
      actions_(std::move(actions)),
      idle_timer_(
          base, [this] { actions_.close(Expired::Idle); }, clock),
      headers_timer_(
          base,
          [this] {
            if (actions_.open()) actions_.close(Expired::RequestHeaders);
          },
          clock),
      sweep_timer_(
          base, [this] { sweep(); }, clock) {}

void StreamTimeouts::connectionIdle() {
  if (listener_.idle_timeout > Duration::zero()) idle_timer_.arm(listener_.idle_timeout);
}

void StreamTimeouts::streamOpened(int32_t stream_id) {
  idle_timer_.cancel();
  if (listener_.stream_idle_timeout <= Duration::zero()) return;
  activity_[stream_id] = StreamActivity{clock_.now(), false};
  if (!sweep_timer_.armed()) sweep_timer_.arm(sweepInterval(listener_.stream_idle_timeout));
}

void StreamTimeouts::touch(int32_t stream_id) {
  if (activity_.empty()) return;  // stream_idle_timeout is off, or no stream is open
  // Only streamOpened adds a stream; frames of streams already forgotten are not.
  if (StreamActivity* a = activity_.find(stream_id)) a->last = clock_.now();
}

void StreamTimeouts::frameBegins(uint8_t type) {
  if (type == NGHTTP2_CONTINUATION) return;
  if (type != NGHTTP2_HEADERS) {
    headers_timer_.cancel();  // any header block before this frame is complete
    return;
  }
  if (listener_.request_headers_timeout > Duration::zero() && !headers_timer_.armed()) {
    headers_timer_.arm(listener_.request_headers_timeout);
  }
}

void StreamTimeouts::sweep() {
  if (activity_.empty() || !actions_.open()) return;
  auto now = clock_.now();
  const Duration timeout = listener_.stream_idle_timeout;
  std::vector<int32_t> idle;
  for (auto& [id, a] : activity_) {
    if (now - a.last >= timeout) idle.push_back(id);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  const std::string why = "stream idle for " + std::to_string(ms) + "ms (stream_idle_timeout)";
  for (int32_t id : idle) {
    StreamActivity* a = activity_.find(id);
    if (a == nullptr) continue;  // closed by an earlier action of this sweep
    if (!a->aborted) {
      // End the RPC with a status; if even that cannot get out, the next sweep resets it.
      a->aborted = true;
      if (actions_.end_rpc(id, why)) {
        if (listener_.stats != nullptr) {
          listener_.stats->limitHit(metrics::ListenerLimit::StreamIdleTimeout);
        }
        continue;
      }
      a = activity_.find(id);
      if (a == nullptr) continue;
    }
    actions_.reset(id);
    a->last = now;  // one reset per sweep at most
  }
  sweep_timer_.arm(sweepInterval(timeout));
}

}  // namespace switchyard::proxy
