#include "metrics/process_collector.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace switchyard::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string slurp(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double bootTime() {
  std::istringstream in(slurp("/proc/stat"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) return std::strtod(line.c_str() + 6, nullptr);
  }
  return -1;
}

double openFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  double n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the descriptor opendir itself holds
}

void add(std::vector<MetricFamily>& out, const char* name, const char* help, MetricType type,
         double v) {
  if (v < 0) return;
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  ClientMetric m;
  if (type == MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  f.metric.push_back(std::move(m));
  out.push_back(std::move(f));
}

}  // namespace

ProcessSample parseProcessStat(const std::string& stat, double boot_time, long ticks, long page) {
  ProcessSample s;
  // The command name (field 2) is in parentheses and may hold spaces: parse after ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos || ticks <= 0) return s;
  std::istringstream in(stat.substr(close + 1));
  std::string field;
  // Fields after ')' start at field 3 (state). utime=14, stime=15,
  // starttime=22, vsize=23, rss=24 (proc(5), 1-based).
  double utime = 0;
  double stime = 0;
  for (int i = 3; i <= 24 && (in >> field); ++i) {
    if (i == 14) utime = std::strtod(field.c_str(), nullptr);
    if (i == 15) stime = std::strtod(field.c_str(), nullptr);
    if (i == 22 && boot_time >= 0) {
      s.start_time_seconds = boot_time + std::strtod(field.c_str(), nullptr) / static_cast<double>(ticks);
    }
    if (i == 23) s.virtual_bytes = std::strtod(field.c_str(), nullptr);
    if (i == 24) s.resident_bytes = std::strtod(field.c_str(), nullptr) * static_cast<double>(page);
  }
  if (s.resident_bytes >= 0) s.cpu_seconds = (utime + stime) / static_cast<double>(ticks);
  return s;
}

double parseMaxOpenFiles(const std::string& limits) {
  std::istringstream in(limits);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(14));
    std::string soft;
    fields >> soft;
    if (soft == "unlimited") return -1;
    return std::strtod(soft.c_str(), nullptr);
  }
  return -1;
}

std::vector<MetricFamily> collectProcessMetrics() {
  ProcessSample s = parseProcessStat(slurp("/proc/self/stat"), bootTime(), ::sysconf(_SC_CLK_TCK),
                                     ::sysconf(_SC_PAGESIZE));
  std::vector<MetricFamily> out;
  add(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
      MetricType::Counter, s.cpu_seconds);
  add(out, "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
      s.resident_bytes);
  add(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
      s.virtual_bytes);
  add(out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge, openFds());
  add(out, "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
      parseMaxOpenFiles(slurp("/proc/self/limits")));
  add(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
      MetricType::Gauge, s.start_time_seconds);
  return out;
}

}  // namespace switchyard::metrics
