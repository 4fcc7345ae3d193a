#include "server/cpu_budget.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>

namespace switchyard::server {
namespace {

std::optional<uint64_t> parseUint(std::string_view s) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string readSmallFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

long double ratio(const CpuQuota& q) {
  return static_cast<long double>(q.quota_us) / static_cast<long double>(q.period_us);
}

unsigned affinityCpus() {
  // Masks grow until they hold every CPU the kernel knows of.
  for (int n = 1024; n <= (1 << 20); n *= 2) {
    cpu_set_t* set = CPU_ALLOC(n);
    if (set == nullptr) break;
    size_t size = CPU_ALLOC_SIZE(n);
    CPU_ZERO_S(size, set);
    int rc = sched_getaffinity(0, size, set);
    int count = rc == 0 ? CPU_COUNT_S(size, set) : 0;
    CPU_FREE(set);
    if (rc == 0) return count > 0 ? static_cast<unsigned>(count) : 1;
    if (errno != EINVAL) break;
  }
  return 1;
}

}  // namespace

unsigned CpuQuota::cpus() const {
  if (period_us == 0) return 1;
  uint64_t n = (quota_us + period_us - 1) / period_us;
  return static_cast<unsigned>(std::clamp<uint64_t>(n, 1, 1u << 20));
}

std::optional<CpuQuota> parseCpuMax(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto quota = parseUint(text.substr(0, space));  // "max" fails here: no limit
  auto period = parseUint(text.substr(space + 1));
  if (!quota || !period || *quota == 0 || *period == 0) return std::nullopt;
  return CpuQuota{*quota, *period};
}

std::optional<std::string> parseCgroupV2Path(std::string_view proc_self_cgroup) {
  while (!proc_self_cgroup.empty()) {
    auto nl = proc_self_cgroup.find('\n');
    std::string_view line = proc_self_cgroup.substr(0, nl);
    if (line.rfind("0::", 0) == 0 && line.size() > 3) return std::string(line.substr(3));
    if (nl == std::string_view::npos) break;
    proc_self_cgroup.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

std::optional<CpuQuota> cgroupCpuQuota(const std::filesystem::path& cgroup_root,
                                       const std::string& cgroup_path) {
  std::optional<CpuQuota> tightest;
  std::filesystem::path rel = std::filesystem::path(cgroup_path).relative_path();
  // At most one step per path component, the root included.
  for (size_t steps = 0; steps <= 256; ++steps) {
    auto q = parseCpuMax(readSmallFile(cgroup_root / rel / "cpu.max"));
    if (q && (!tightest || ratio(*q) < ratio(*tightest))) {
      tightest = q;
    }
    if (rel.empty()) break;
    rel = rel.has_parent_path() ? rel.parent_path() : std::filesystem::path();
  }
  return tightest;
}

unsigned autoWorkers(unsigned affinity_cpus, const std::optional<CpuQuota>& quota) {
  unsigned n = std::max(affinity_cpus, 1u);
  if (quota) n = std::min(n, quota->cpus());
  return n;
}

CpuBudget currentCpuBudget() {
  CpuBudget b;
  b.affinity_cpus = affinityCpus();
  if (auto path = parseCgroupV2Path(readSmallFile("/proc/self/cgroup"))) {
    b.quota = cgroupCpuQuota("/sys/fs/cgroup", *path);
  }
  b.workers = autoWorkers(b.affinity_cpus, b.quota);
  return b;
}

size_t workerCount(uint32_t configured) {
  return configured > 0 ? configured : currentCpuBudget().workers;
}

std::string describeWorkers(uint32_t configured) {
  if (configured > 0) return "workers: " + std::to_string(configured) + " (configured)";
  CpuBudget b = currentCpuBudget();
  std::string s = "workers: auto = " + std::to_string(b.workers) + " (" +
                  std::to_string(b.affinity_cpus) + " CPU" + (b.affinity_cpus == 1 ? "" : "s") +
                  " in the affinity mask, ";
  if (b.quota) {
    s += "cgroup cpu.max " + std::to_string(b.quota->quota_us) + "/" +
         std::to_string(b.quota->period_us) + ")";
  } else {
    s += "no cgroup CPU quota)";
  }
  return s;
}

}  // namespace switchyard::server
