// workers: auto: cpu.max and cfs quota parsing and rounding, /proc/self/cgroup
// and /proc/self/mountinfo parsing, and the tightest quota along a cgroup path
// (v2, v1 and hybrid hosts), on fixture directory trees.
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

// ------------------------------------------------------------- cgroup v1

TEST(CfsQuota, MinusOneAndMalformedGiveNothing) {
  EXPECT_FALSE(parseCfsQuota("-1\n", "100000\n"));
  EXPECT_FALSE(parseCfsQuota("", "100000"));
  EXPECT_FALSE(parseCfsQuota("50000", ""));
  EXPECT_FALSE(parseCfsQuota("50000", "0"));
  EXPECT_FALSE(parseCfsQuota("5e4", "100000"));
  auto q = parseCfsQuota("50000\n", "100000\n");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->quota_us, 50000u);
  EXPECT_EQ(q->period_us, 100000u);
  EXPECT_EQ(q->cpus(), 1u);
  EXPECT_STREQ(q->source, "cgroup v1 cpu.cfs_quota_us");
  EXPECT_EQ(parseCfsQuota("250000", "100000")->cpus(), 3u);
}

TEST(ProcSelfCgroup, FindsTheV1HierarchyOfAController) {
  const char* docker = "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n3:cpuset:/docker/abc\n";
  EXPECT_EQ(parseCgroupV1Path(docker, "cpu"), "/docker/abc");
  EXPECT_EQ(parseCgroupV1Path("3:cpuacct:/a\n2:cpu:/b\n", "cpu"), "/b");  // not cpuacct
  EXPECT_EQ(parseCgroupV1Path("2:cpu:/x:y\n", "cpu"), "/x:y");
  EXPECT_FALSE(parseCgroupV1Path("0::/system.slice/sy.service\n", "cpu"));  // v2 only
  EXPECT_FALSE(parseCgroupV1Path("4:cpuacct:/x\n", "cpu"));
  EXPECT_FALSE(parseCgroupV1Path("", "cpu"));
}

TEST(MountInfo, FindsTheCgroupMounts) {
  const char* hybrid =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup "
      "rw,cpu,cpuacct\n"
      "33 31 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  auto cpu = findCgroupMount(hybrid, "cpu");
  ASSERT_TRUE(cpu);
  EXPECT_EQ(cpu->mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(cpu->root, "/docker/abc");
  auto v2 = findCgroupMount(hybrid, "");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->mount_point, "/sys/fs/cgroup/unified");
  EXPECT_FALSE(findCgroupMount(hybrid, "memory"));
  // Blanks in a mount point are octal escapes.
  auto escaped = findCgroupMount("40 1 0:3 / /mnt/my\\040cg rw - cgroup cgroup rw,cpu\n", "cpu");
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->mount_point, "/mnt/my cg");
  EXPECT_FALSE(findCgroupMount("garbage\n- -\n", "cpu"));
}

TEST_F(CgroupTree, V1TightestCfsQuotaAlongThePathWins) {
  Write("kubepods/cpu.cfs_quota_us", "-1\n");
  Write("kubepods/cpu.cfs_period_us", "100000\n");
  Write("kubepods/pod1/cpu.cfs_quota_us", "50000\n");
  Write("kubepods/pod1/cpu.cfs_period_us", "100000\n");
  Write("kubepods/pod1/c1/cpu.cfs_quota_us", "400000\n");
  Write("kubepods/pod1/c1/cpu.cfs_period_us", "100000\n");
  auto q = cgroupV1CpuQuota(root_, "/kubepods/pod1/c1");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->quota_us, 50000u);
  EXPECT_EQ(autoWorkers(64, q), 1u);  // a 500m pod on a 64-core cgroup v1 node
  EXPECT_FALSE(cgroupV1CpuQuota(root_, "/kubepods"));
}

// The whole lookup as the daemon does it, with mountinfo pointing into the fixture tree.
TEST_F(CgroupTree, ProcessQuotaOnACgroupV1ContainerSeesItsOwnCgroupAtTheMountRoot) {
  Write("cpu/cpu.cfs_quota_us", "150000\n");  // the container's cgroup, mounted as "/"
  Write("cpu/cpu.cfs_period_us", "100000\n");
  std::string mountinfo = "32 31 0:29 /docker/abc " + (root_ / "cpu").string() +
                          " rw,relatime - cgroup cgroup rw,cpu,cpuacct\n";
  auto q = processCpuQuota("4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n", mountinfo);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->quota_us, 150000u);
  EXPECT_EQ(q->cpus(), 2u);
  // A cgroup outside what the mount shows is not guessed at.
  EXPECT_FALSE(processCpuQuota("4:cpu,cpuacct:/other\n", mountinfo));
}

TEST_F(CgroupTree, ProcessQuotaOnAHybridHostTakesTheTighterOfV1AndV2) {
  Write("cpu/sy/cpu.cfs_quota_us", "300000\n");
  Write("cpu/sy/cpu.cfs_period_us", "100000\n");
  Write("unified/sy/cpu.max", "200000 100000\n");
  std::string mountinfo =
      "32 31 0:29 / " + (root_ / "cpu").string() + " rw - cgroup cgroup rw,cpu\n" +
      "41 31 0:38 / " + (root_ / "unified").string() + " rw - cgroup2 cgroup2 rw\n";
  const char* cgroup = "2:cpu:/sy\n0::/sy\n";
  auto q = processCpuQuota(cgroup, mountinfo);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->cpus(), 2u);
  EXPECT_STREQ(q->source, "cgroup cpu.max");
  Write("cpu/sy/cpu.cfs_quota_us", "100000\n");
  q = processCpuQuota(cgroup, mountinfo);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->cpus(), 1u);
  EXPECT_STREQ(q->source, "cgroup v1 cpu.cfs_quota_us");
}

TEST_F(CgroupTree, ProcessQuotaOnAV2HostUsesTheCgroup2Mount) {
  Write("v2/a/cpu.max", "50000 100000\n");
  std::string mountinfo = "30 1 0:26 / " + (root_ / "v2").string() +
                          " rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
  auto q = processCpuQuota("0::/a\n", mountinfo);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->cpus(), 1u);
  EXPECT_FALSE(processCpuQuota("0::/b\n", mountinfo));
}

}  // namespace
}  // namespace switchyard::server
