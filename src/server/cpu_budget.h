// How many workers `workers: auto` starts: the CPUs in this process's
// affinity mask (sched_getaffinity, so taskset and cpusets count), capped by
// the CPU quota of its cgroup and of every ancestor (quota / period, rounded
// up), and never fewer than 1. The quota is cgroup v2's cpu.max, or on a
// cgroup v1 (or hybrid) host the cpu controller's cpu.cfs_quota_us /
// cpu.cfs_period_us; the hierarchies are found through /proc/self/mountinfo,
// so a container's own view (mount root /docker/<id>) is handled.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::server {

// A CPU quota: `quota_us` of CPU time every `period_us`.
struct CpuQuota {
  uint64_t quota_us = 0;
  uint64_t period_us = 0;
  const char* source = "cgroup cpu.max";  // where it was read, for the startup log
  unsigned cpus() const;  // quota / period rounded up, at least 1
};

// "max 100000" (no limit) and malformed text give nullopt.
std::optional<CpuQuota> parseCpuMax(std::string_view text);
// The cgroup v2 entry of /proc/self/cgroup ("0::/a/b" gives "/a/b").
std::optional<std::string> parseCgroupV2Path(std::string_view proc_self_cgroup);
// The tightest cpu.max in cgroup_root + cgroup_path and its ancestors.
std::optional<CpuQuota> cgroupCpuQuota(const std::filesystem::path& cgroup_root,
                                       const std::string& cgroup_path);

// cgroup v1: the path of the hierarchy whose controller list holds `controller`
// ("4:cpu,cpuacct:/docker/abc" gives "/docker/abc" for "cpu").
std::optional<std::string> parseCgroupV1Path(std::string_view proc_self_cgroup,
                                             std::string_view controller);
// cpu.cfs_quota_us and cpu.cfs_period_us; a quota of -1 (no limit) or malformed text give nullopt.
std::optional<CpuQuota> parseCfsQuota(std::string_view quota_text, std::string_view period_text);
// The tightest cfs quota in cgroup_root + cgroup_path and its ancestors.
std::optional<CpuQuota> cgroupV1CpuQuota(const std::filesystem::path& cgroup_root,
                                         const std::string& cgroup_path);

// A cgroup hierarchy as /proc/self/mountinfo shows it: where it is mounted,
// and which cgroup is at that mount point (a container sees "/docker/<id>").
struct CgroupMount {
  std::filesystem::path mount_point;
  std::string root;
};
// The cgroup2 mount (`controller` empty), or the cgroup v1 mount carrying `controller`.
std::optional<CgroupMount> findCgroupMount(std::string_view mountinfo, std::string_view controller);

// The tightest CPU quota of this process's cgroups, v2 and v1, given the text
// of /proc/self/cgroup and /proc/self/mountinfo; the files are read below the
// mount points mountinfo names.
std::optional<CpuQuota> processCpuQuota(std::string_view proc_self_cgroup,
                                        std::string_view mountinfo);

unsigned autoWorkers(unsigned affinity_cpus, const std::optional<CpuQuota>& quota);

struct CpuBudget {
  unsigned affinity_cpus = 1;
  std::optional<CpuQuota> quota;
  unsigned workers = 1;
};
// For this process: its affinity mask, /proc/self/cgroup and /proc/self/mountinfo.
CpuBudget currentCpuBudget();

// `configured` is the workers key (0 = auto).
size_t workerCount(uint32_t configured);
// "workers: 4 (configured)" or "workers: auto = 1 (1 CPU in the affinity
// mask, cgroup cpu.max 50000/100000)" (or "cgroup v1 cpu.cfs_quota_us 50000/100000").
std::string describeWorkers(uint32_t configured);

}  // namespace switchyard::server
