#include "server/cpu_budget.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

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
  return CpuQuota{*quota, *period, "cgroup cpu.max"};
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

namespace {

// The tightest quota `read` finds in cgroup_root + cgroup_path and its ancestors.
template <typename ReadQuota>
std::optional<CpuQuota> tightestAlongPath(const std::filesystem::path& cgroup_root,
                                          const std::string& cgroup_path, ReadQuota read) {
  std::optional<CpuQuota> tightest;
  std::filesystem::path rel = std::filesystem::path(cgroup_path).relative_path();
  // At most one step per path component, the root included.
  for (size_t steps = 0; steps <= 256; ++steps) {
    std::optional<CpuQuota> q = read(cgroup_root / rel);
    if (q && (!tightest || ratio(*q) < ratio(*tightest))) tightest = q;
    if (rel.empty()) break;
    rel = rel.has_parent_path() ? rel.parent_path() : std::filesystem::path();
  }
  return tightest;
}

// mountinfo escapes blanks and backslashes in paths as \ooo (octal).
std::string unescapeMountField(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') octal = false;
        v = v * 8 + (c - '0');
      }
      if (octal) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    auto space = line.find(' ');
    if (space != 0) fields.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return fields;
}

bool listContains(std::string_view list, std::string_view item) {
  while (true) {
    auto comma = list.find(',');
    if (list.substr(0, comma) == item) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

// The cgroup path as seen below a mount whose root is `root`; nullopt when
// the cgroup is outside what the mount shows.
std::optional<std::string> belowMountRoot(const std::string& path, const std::string& root) {
  if (root.empty() || root == "/") return path;
  if (path == root) return std::string("/");
  if (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
      path[root.size()] == '/') {
    return path.substr(root.size());
  }
  return std::nullopt;
}

}  // namespace

std::optional<CpuQuota> cgroupCpuQuota(const std::filesystem::path& cgroup_root,
                                       const std::string& cgroup_path) {
  return tightestAlongPath(cgroup_root, cgroup_path, [](const std::filesystem::path& dir) {
    return parseCpuMax(readSmallFile(dir / "cpu.max"));
  });
}

std::optional<std::string> parseCgroupV1Path(std::string_view proc_self_cgroup,
                                             std::string_view controller) {
  while (!proc_self_cgroup.empty()) {
    auto nl = proc_self_cgroup.find('\n');
    std::string_view line = proc_self_cgroup.substr(0, nl);
    // "<id>:<controllers>:<path>"; the path may itself hold ':'.
    auto first = line.find(':');
    auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second != std::string_view::npos && second > first + 1 &&
        listContains(line.substr(first + 1, second - first - 1), controller) &&
        second + 1 < line.size()) {
      return std::string(line.substr(second + 1));
    }
    if (nl == std::string_view::npos) break;
    proc_self_cgroup.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

std::optional<CpuQuota> parseCfsQuota(std::string_view quota_text, std::string_view period_text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
    return s;
  };
  auto quota = parseUint(trim(quota_text));  // "-1" fails here: no limit
  auto period = parseUint(trim(period_text));
  if (!quota || !period || *quota == 0 || *period == 0) return std::nullopt;
  return CpuQuota{*quota, *period, "cgroup v1 cpu.cfs_quota_us"};
}

std::optional<CpuQuota> cgroupV1CpuQuota(const std::filesystem::path& cgroup_root,
                                         const std::string& cgroup_path) {
  return tightestAlongPath(cgroup_root, cgroup_path, [](const std::filesystem::path& dir) {
    return parseCfsQuota(readSmallFile(dir / "cpu.cfs_quota_us"),
                         readSmallFile(dir / "cpu.cfs_period_us"));
  });
}

std::optional<CgroupMount> findCgroupMount(std::string_view mountinfo,
                                           std::string_view controller) {
  while (!mountinfo.empty()) {
    auto nl = mountinfo.find('\n');
    auto fields = splitFields(mountinfo.substr(0, nl));
    // id parent major:minor root mount_point options [optional...] - fstype source super_options
    auto dash = std::find(fields.begin(), fields.end(), std::string_view("-"));
    if (fields.size() >= 5 && dash != fields.end() && fields.end() - dash >= 4 &&
        dash - fields.begin() >= 6) {
      std::string_view fstype = dash[1];
      std::string_view super_options = dash[3];
      bool match = controller.empty()
                       ? fstype == "cgroup2"
                       : fstype == "cgroup" && listContains(super_options, controller);
      if (match) return CgroupMount{unescapeMountField(fields[4]), unescapeMountField(fields[3])};
    }
    if (nl == std::string_view::npos) break;
    mountinfo.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

std::optional<CpuQuota> processCpuQuota(std::string_view proc_self_cgroup,
                                        std::string_view mountinfo) {
  std::optional<CpuQuota> tightest;
  auto consider = [&](const std::optional<CpuQuota>& q) {
    if (q && (!tightest || ratio(*q) < ratio(*tightest))) tightest = q;
  };
  if (auto path = parseCgroupV2Path(proc_self_cgroup)) {
    auto mount = findCgroupMount(mountinfo, "");
    if (!mount) mount = CgroupMount{"/sys/fs/cgroup", "/"};  // no mountinfo: the usual place
    if (auto rel = belowMountRoot(*path, mount->root)) {
      consider(cgroupCpuQuota(mount->mount_point, *rel));
    }
  }
  if (auto path = parseCgroupV1Path(proc_self_cgroup, "cpu")) {
    if (auto mount = findCgroupMount(mountinfo, "cpu")) {
      if (auto rel = belowMountRoot(*path, mount->root)) {
        consider(cgroupV1CpuQuota(mount->mount_point, *rel));
      }
    }
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
  b.quota = processCpuQuota(readSmallFile("/proc/self/cgroup"),
                            readSmallFile("/proc/self/mountinfo"));
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
    s += std::string(b.quota->source) + " " + std::to_string(b.quota->quota_us) + "/" +
         std::to_string(b.quota->period_us) + ")";
  } else {
    s += "no cgroup CPU quota)";
  }
  return s;
}

}  // namespace switchyard::server
