// OutlierTracker: ejection bookkeeping for one cluster (passive health). Workers
// count consecutive failures per endpoint and report a burst here; this class
// decides whether the endpoint is ejected, for how long, and when it returns.
// Pure: no I/O, the caller supplies the clock. Not thread-safe; one owner.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "config/spec.h"

namespace switchyard::upstream::health {

class OutlierTracker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit OutlierTracker(const config::OutlierSpec& spec);

  // A worker saw `consecutive_failures` failures in a row on this endpoint (connect
  // failure, reset, UNAVAILABLE in Trailers-Only or in trailers). Returns the
  // ejection duration if the endpoint is ejected now, nullopt if not: detection is
  // disabled, the endpoint is already ejected, or the ejection limit is reached.
  //
  // Ejection limit (Envoy's rule): the endpoint is ejected only if, counting it,
  //   ejected * 100 <= max_ejection_percent * cluster_size
  // i.e. the ejected share after this ejection stays within max_ejection_percent.
  // So a single-endpoint cluster is never ejected unless the percentage is 100,
  // and with 2 endpoints at 50% one of them may be ejected.
  //
  // Ejection time = base_ejection_time * (number of times this endpoint has been
  // ejected, this one included), capped at max(base_ejection_time, max_ejection_time).
  // The count is kept until forget(); it does not decay.
  std::optional<Duration> onFailureBurst(const std::string& address, size_t cluster_size,
                                         TimePoint now);

  // Returns the addresses whose ejection has expired at `now` (they return to
  // service), in address order.
  std::vector<std::string> expire(TimePoint now);

  // The earliest time an ejection expires, for arming a timer; nullopt if none.
  std::optional<TimePoint> nextExpiry() const;

  bool ejected(const std::string& address) const;
  size_t ejectedCount() const { return ejected_count_; }
  // How many times the endpoint has been ejected (0 if unknown).
  uint32_t ejectionCount(const std::string& address) const;

  // The endpoint was removed from the cluster: drop its state (and its ejection).
  void forget(const std::string& address);

 private:
  struct Entry {
    uint32_t times = 0;  // ejections so far
    std::optional<TimePoint> until;  // set while ejected
  };

  Duration ejectionTime(uint32_t times) const;

  config::OutlierSpec spec_;
  std::map<std::string, Entry> entries_;
  size_t ejected_count_ = 0;
};

}  // namespace switchyard::upstream::health
