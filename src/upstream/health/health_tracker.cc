#include "upstream/health/health_tracker.h"

#include <algorithm>

namespace switchyard::upstream::health {

const char* toString(CheckState s) {
  switch (s) {
    case CheckState::Unknown:
      return "unknown";
    case CheckState::Healthy:
      return "healthy";
    case CheckState::Unhealthy:
      return "unhealthy";
  }
  return "unknown";
}

HealthTracker::HealthTracker(uint32_t healthy_threshold, uint32_t unhealthy_threshold,
                             bool start_optimistic)
    : healthy_threshold_(std::max<uint32_t>(1, healthy_threshold)),
      unhealthy_threshold_(std::max<uint32_t>(1, unhealthy_threshold)),
      start_optimistic_(start_optimistic) {}

bool HealthTracker::record(bool passed) {
  switch (state_) {
    case CheckState::Unknown:
      state_ = passed ? CheckState::Healthy : CheckState::Unhealthy;
      passes_ = 0;
      failures_ = 0;
      return true;
    case CheckState::Healthy:
      if (passed) {
        failures_ = 0;
        return false;
      }
      if (++failures_ < unhealthy_threshold_) return false;
      state_ = CheckState::Unhealthy;
      failures_ = 0;
      passes_ = 0;
      return true;
    case CheckState::Unhealthy:
      if (!passed) {
        passes_ = 0;
        return false;
      }
      if (++passes_ < healthy_threshold_) return false;
      state_ = CheckState::Healthy;
      failures_ = 0;
      passes_ = 0;
      return true;
  }
  return false;
}

bool HealthTracker::eligible() const {
  switch (state_) {
    case CheckState::Healthy:
      return true;
    case CheckState::Unhealthy:
      return false;
    case CheckState::Unknown:
      return start_optimistic_;
  }
  return false;
}

bool HealthTracker::forceUnhealthy() {
  passes_ = 0;
  failures_ = 0;
  if (state_ == CheckState::Unhealthy) return false;
  state_ = CheckState::Unhealthy;
  return true;
}

bool HealthTracker::forceHealthy() {
  passes_ = 0;
  failures_ = 0;
  if (state_ == CheckState::Healthy) return false;
  state_ = CheckState::Healthy;
  return true;
}

}  // namespace switchyard::upstream::health
