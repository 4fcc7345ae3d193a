#include "proxy/connection_drain.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "common/log.h"
#include "metrics/worker_stats.h"

namespace switchyard::proxy {
namespace {

// Opaque data of the drain's PING, to know its ACK from others.
constexpr uint8_t kDrainPing[8] = {'s', 'y', '-', 'd', 'r', 'a', 'i', 'n'};

// max_connection_age is spread over ±10 %.
constexpr int64_t kAgeJitterPermille = 100;

Duration jittered(Duration age, uint64_t random) {
  int64_t permille = 1000 - kAgeJitterPermille +
                     static_cast<int64_t>(random % (2 * kAgeJitterPermille + 1));
  // Divided first: a value of days times 1,100 would overflow nanoseconds.
  return std::max<Duration>(std::chrono::milliseconds(1), age / 1000 * permille);
}

}  // namespace

ConnectionDrain::ConnectionDrain(event_base* base, http2::Connection& conn,
                                 nghttp2_session* session, const ListenerInfo& listener,
                                 const event::SocketAddress& peer, EndRpcs end_rpcs)
    : conn_(conn),
      session_(session),
      listener_(listener),
      peer_(peer),
      end_rpcs_(std::move(end_rpcs)),
      goaway_timer_(base, [this] { sendFinalGoaway(); }),
      age_timer_(base, [this] { onMaxAge(); }),
      age_grace_timer_(base, [this] { onAgeGraceExpired(); }) {}

void ConnectionDrain::start() {
  if (draining_ || conn_.closed()) return;
  draining_ = true;
  nghttp2_submit_shutdown_notice(session_);
  // The ACK of a PING sent after the notice proves the client has read it.
  nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, kDrainPing);
  conn_.scheduleFlush();
  goaway_timer_.arm(kGoawayGrace);
}

void ConnectionDrain::onPing(const nghttp2_frame& frame) {
  if (draining_ && (frame.hd.flags & NGHTTP2_FLAG_ACK) &&
      std::equal(std::begin(kDrainPing), std::end(kDrainPing), frame.ping.opaque_data)) {
    sendFinalGoaway();
  }
}

void ConnectionDrain::sendFinalGoaway() {
  draining_ = true;
  goaway_timer_.cancel();
  if (conn_.closed() || final_goaway_sent_) return;
  final_goaway_sent_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
  conn_.scheduleFlush();
}

void ConnectionDrain::forceClose() {
  if (conn_.closed()) return;
  // Every RPC still open gets a real status rather than a cut stream.
  end_rpcs_("proxy is shutting down (drain_timeout passed)", true);
  sendFinalGoaway();
}

void ConnectionDrain::armAge(uint64_t random) {
  if (listener_.max_connection_age <= Duration::zero()) return;
  age_timer_.arm(jittered(listener_.max_connection_age, random));
}

void ConnectionDrain::onMaxAge() {
  if (conn_.closed() || draining_) return;
  if (listener_.stats != nullptr) listener_.stats->connectionAged();
  log::main().debug("listener {}: connection from {} reached max_connection_age; sending GOAWAY",
                    listener_.name, peer_.toString());
  // Two-phase GOAWAY: the client stops opening streams here and reconnects;
  // the RPCs already open finish on this connection.
  start();
  if (listener_.max_connection_age_grace > Duration::zero()) {
    age_grace_timer_.arm(listener_.max_connection_age_grace);
  }
}

void ConnectionDrain::onAgeGraceExpired() {
  if (conn_.closed()) return;
  end_rpcs_("connection reached max_connection_age and its max_connection_age_grace passed",
            false);
  sendFinalGoaway();
}

}  // namespace switchyard::proxy
