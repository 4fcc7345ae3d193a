// workers: auto: cpu.max parsing and rounding, /proc/self/cgroup parsing, and
// the tightest quota along a cgroup path, on fixture directory trees.
#include "server/cpu_budget.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace switchyard::server {
namespace {

namespace fs = std::filesystem;

class CgroupTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sy-cgroup-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  fs::path root_;
};

TEST(CpuMax, NoLimitAndMalformedGiveNothing) {
  EXPECT_FALSE(parseCpuMax("max 100000\n"));
  EXPECT_FALSE(parseCpuMax(""));
  EXPECT_FALSE(parseCpuMax("50000"));
  EXPECT_FALSE(parseCpuMax("50000 0"));
  EXPECT_FALSE(parseCpuMax("-5 100000"));
  EXPECT_FALSE(parseCpuMax("50000 100000 7"));
}

TEST(CpuMax, QuotaRoundsUpToWholeCpus) {
  auto half = parseCpuMax("50000 100000\n");
  ASSERT_TRUE(half);
  EXPECT_EQ(half->quota_us, 50000u);
  EXPECT_EQ(half->period_us, 100000u);
  EXPECT_EQ(half->cpus(), 1u);
  EXPECT_EQ(parseCpuMax("150000 100000")->cpus(), 2u);
  EXPECT_EQ(parseCpuMax("200000 100000")->cpus(), 2u);
  EXPECT_EQ(parseCpuMax("200001 100000")->cpus(), 3u);
  EXPECT_EQ(parseCpuMax("1000 100000")->cpus(), 1u);  // at least one
}

TEST(ProcSelfCgroup, FindsTheV2Entry) {
  EXPECT_EQ(parseCgroupV2Path("0::/kubepods/pod1/c1\n"), "/kubepods/pod1/c1");
  EXPECT_EQ(parseCgroupV2Path("12:cpu,cpuacct:/x\n0::/system.slice/sy.service\n"),
            "/system.slice/sy.service");
  EXPECT_EQ(parseCgroupV2Path("0::/\n"), "/");
  EXPECT_FALSE(parseCgroupV2Path("4:cpu:/docker/abc\n"));  // cgroup v1 only
  EXPECT_FALSE(parseCgroupV2Path(""));
}

TEST(AutoWorkers, AffinityCappedByQuotaAtLeastOne) {
  EXPECT_EQ(autoWorkers(64, std::nullopt), 64u);
  EXPECT_EQ(autoWorkers(64, CpuQuota{50000, 100000}), 1u);  // a 500m pod on a 64-core node
  EXPECT_EQ(autoWorkers(64, CpuQuota{250000, 100000}), 3u);
  EXPECT_EQ(autoWorkers(2, CpuQuota{800000, 100000}), 2u);  // quota above the mask
  EXPECT_EQ(autoWorkers(0, std::nullopt), 1u);
}

TEST_F(CgroupTree, TightestQuotaAlongThePathWins) {
  Write("kubepods/cpu.max", "400000 100000\n");
  Write("kubepods/pod1/cpu.max", "150000 100000\n");
  Write("kubepods/pod1/c1/cpu.max", "max 100000\n");
  auto q = cgroupCpuQuota(root_, "/kubepods/pod1/c1");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->quota_us, 150000u);
  EXPECT_EQ(q->cpus(), 2u);
}

TEST_F(CgroupTree, ComparesQuotasWithDifferentPeriods) {
  Write("a/cpu.max", "30000 50000\n");    // 0.6 CPU
  Write("a/b/cpu.max", "80000 100000\n");  // 0.8 CPU
  auto q = cgroupCpuQuota(root_, "/a/b");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->quota_us, 30000u);
}

TEST_F(CgroupTree, NamespaceRootCountsAndNoFilesMeansNoLimit) {
  EXPECT_FALSE(cgroupCpuQuota(root_, "/"));
  EXPECT_FALSE(cgroupCpuQuota(root_, "/no/such/group"));
  Write("cpu.max", "300000 100000\n");  // a container's own cgroup seen as "/"
  auto q = cgroupCpuQuota(root_, "/");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->cpus(), 3u);
}

}  // namespace
}  // namespace switchyard::server
