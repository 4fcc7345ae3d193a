// The harness itself: a sanitizer report written by a child process (the
// daemon or a test backend under scripts/tsan.sh) must fail the running test,
// even though the child keeps running and exits as it would without it.
#include <gtest/gtest-spi.h>

#include "harness.h"

namespace sytest {
namespace {

TEST(HarnessTest, ThreadSanitizerReportInChildStderrFailsTheTest) {
  EXPECT_NONFATAL_FAILURE(
      {
        TempDir dir;
        ProcessGuard child({"/bin/sh", "-c", "echo 'WARNING: ThreadSanitizer: data race (pid=1)' >&2; exit 0"},
                           dir / "out", dir / "err");
        child.waitExit(10000ms);
      },
      "WARNING: ThreadSanitizer: data race");
}

TEST(HarnessTest, ChildWithoutReportPasses) {
  TempDir dir;
  ProcessGuard child({"/bin/sh", "-c", "echo 'an ordinary warning' >&2; exit 0"}, dir / "out", dir / "err");
  EXPECT_EQ(child.waitExit(10000ms), 0);
}

}  // namespace
}  // namespace sytest
