#include "upstream/health/outlier.h"

#include <algorithm>

namespace switchyard::upstream::health {

OutlierTracker::OutlierTracker(const config::OutlierSpec& spec) : spec_(spec) {
  spec_.max_ejection_percent = std::min<uint32_t>(spec_.max_ejection_percent, 100);
  if (spec_.base_ejection_time < Duration::zero()) spec_.base_ejection_time = Duration::zero();
}

Duration OutlierTracker::ejectionTime(uint32_t times) const {
  const Duration base = spec_.base_ejection_time;
  const Duration cap = std::max(base, spec_.max_ejection_time);
  if (base <= Duration::zero() || times == 0) return base;
  // base * times, without overflowing.
  if (times > static_cast<uint64_t>(cap.count() / base.count())) return cap;
  return std::min(cap, base * times);
}

std::optional<Duration> OutlierTracker::onFailureBurst(const std::string& address,
                                                       size_t cluster_size, TimePoint now) {
  if (!spec_.enabled) return std::nullopt;
  auto it = entries_.find(address);
  if (it != entries_.end() && it->second.until) return std::nullopt;  // already ejected
  const uint64_t after = static_cast<uint64_t>(ejected_count_) + 1;
  if (after * 100 > static_cast<uint64_t>(spec_.max_ejection_percent) * cluster_size) {
    return std::nullopt;
  }
  Entry& e = entries_[address];
  ++e.times;
  Duration d = ejectionTime(e.times);
  e.until = now + std::chrono::duration_cast<TimePoint::duration>(d);
  ++ejected_count_;
  return d;
}

std::vector<std::string> OutlierTracker::expire(TimePoint now) {
  std::vector<std::string> back;
  for (auto& [address, e] : entries_) {
    if (e.until && *e.until <= now) {
      e.until.reset();
      --ejected_count_;
      back.push_back(address);
    }
  }
  return back;
}

std::optional<OutlierTracker::TimePoint> OutlierTracker::nextExpiry() const {
  std::optional<TimePoint> next;
  for (const auto& [address, e] : entries_) {
    if (e.until && (!next || *e.until < *next)) next = e.until;
  }
  return next;
}

bool OutlierTracker::ejected(const std::string& address) const {
  auto it = entries_.find(address);
  return it != entries_.end() && it->second.until.has_value();
}

uint32_t OutlierTracker::ejectionCount(const std::string& address) const {
  auto it = entries_.find(address);
  return it == entries_.end() ? 0 : it->second.times;
}

void OutlierTracker::forget(const std::string& address) {
  auto it = entries_.find(address);
  if (it == entries_.end()) return;
  if (it->second.until) --ejected_count_;
  entries_.erase(it);
}

}  // namespace switchyard::upstream::health
