// process_* metrics as the Prometheus client libraries' process collector
// defines them (CPU seconds, resident and virtual memory, open and maximum file
// descriptors, start time), read from /proc/self when /metrics is scraped.
// Linux only; a value that cannot be read is left out.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace switchyard::metrics {

// The families for the calling process.
std::vector<prometheus::MetricFamily> collectProcessMetrics();

// Parsing, split out for tests. `stat` is /proc/self/stat, `limits` is
// /proc/self/limits; `boot_time` is btime from /proc/stat (seconds since the
// epoch), `ticks` sysconf(_SC_CLK_TCK), `page` the page size.
struct ProcessSample {
  double cpu_seconds = -1;
  double resident_bytes = -1;
  double virtual_bytes = -1;
  double start_time_seconds = -1;
  double max_fds = -1;
};
ProcessSample parseProcessStat(const std::string& stat, double boot_time, long ticks, long page);
double parseMaxOpenFiles(const std::string& limits);

}  // namespace switchyard::metrics
