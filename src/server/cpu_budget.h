// How many workers `workers: auto` starts: the CPUs in this process's
// affinity mask (sched_getaffinity, so taskset and cpusets count), capped by
// the cgroup v2 cpu.max quota of its cgroup and of every ancestor (quota /
// period, rounded up), and never fewer than 1. cgroup v1 quotas are not read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::server {

// One cpu.max line: "<quota> <period>" in microseconds.
struct CpuQuota {
  uint64_t quota_us = 0;
  uint64_t period_us = 0;
  unsigned cpus() const;  // quota / period rounded up, at least 1
};

// "max 100000" (no limit) and malformed text give nullopt.
std::optional<CpuQuota> parseCpuMax(std::string_view text);
// The cgroup v2 entry of /proc/self/cgroup ("0::/a/b" gives "/a/b").
std::optional<std::string> parseCgroupV2Path(std::string_view proc_self_cgroup);
// The tightest cpu.max in cgroup_root + cgroup_path and its ancestors.
std::optional<CpuQuota> cgroupCpuQuota(const std::filesystem::path& cgroup_root,
                                       const std::string& cgroup_path);
unsigned autoWorkers(unsigned affinity_cpus, const std::optional<CpuQuota>& quota);

struct CpuBudget {
  unsigned affinity_cpus = 1;
  std::optional<CpuQuota> quota;
  unsigned workers = 1;
};
// For this process: its affinity mask, /proc/self/cgroup and /sys/fs/cgroup.
CpuBudget currentCpuBudget();

// `configured` is the workers key (0 = auto).
size_t workerCount(uint32_t configured);
// "workers: 4 (configured)" or "workers: auto = 1 (1 CPU in the affinity
// mask, cgroup cpu.max 50000/100000)".
std::string describeWorkers(uint32_t configured);

}  // namespace switchyard::server
