// HealthTracker: the per-endpoint state machine of active health checking.
// It only counts results; it does no I/O and has no clock. One instance per
// (cluster, endpoint), owned by whoever consumes HealthChecker results.
#pragma once

#include <cstdint>

namespace switchyard::upstream::health {

enum class CheckState { Unknown, Healthy, Unhealthy };
const char* toString(CheckState s);

class HealthTracker {
 public:
  // A threshold of 0 is treated as 1.
  HealthTracker(uint32_t healthy_threshold, uint32_t unhealthy_threshold, bool start_optimistic);

  // Records a check result; returns true if the state changed. The first result
  // after Unknown decides at once (one pass -> Healthy, one failure -> Unhealthy);
  // after that `healthy_threshold` consecutive passes turn Unhealthy into Healthy
  // and `unhealthy_threshold` consecutive failures turn Healthy into Unhealthy.
  // A result that goes the other way resets the opposite streak.
  bool record(bool passed);

  CheckState state() const { return state_; }

  // Whether the endpoint may take traffic. Healthy: yes. Unhealthy: no.
  // Unknown: only if the tracker was made with start_optimistic (endpoints present
  // at process start); endpoints added later must pass a check first.
  bool eligible() const;

  // For an immediate NOT_SERVING from Watch: go Unhealthy now regardless of the
  // thresholds. Returns true if the state changed. Either way the pass streak is
  // reset, so `healthy_threshold` passes are needed to come back.
  bool forceUnhealthy();

  // For a SERVING message from Watch: the server reports itself ready, and a
  // Watch stream sends no repeats to count, so go Healthy now. Returns true if
  // the state changed; streaks are reset.
  bool forceHealthy();

  // Current streaks, for the admin view.
  uint32_t consecutivePasses() const { return passes_; }
  uint32_t consecutiveFailures() const { return failures_; }

 private:
  uint32_t healthy_threshold_;
  uint32_t unhealthy_threshold_;
  bool start_optimistic_;
  CheckState state_ = CheckState::Unknown;
  uint32_t passes_ = 0;    // consecutive passes while Unhealthy
  uint32_t failures_ = 0;  // consecutive failures while Healthy
};

}  // namespace switchyard::upstream::health
