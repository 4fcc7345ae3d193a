#!/usr/bin/env bash
# Builds the unit and integration tests (and the daemon they start) with
# ThreadSanitizer into TSAN_BUILD_DIR (default build-tsan/) and runs them.
# The main thread, the admin thread, the health checks and the workers share
# runtime snapshots and metric shards; this is the check that they do so
# without data races. Reports in uninstrumented system libraries are
# suppressed by tests/tsan.supp. Exits non-zero on any race: a unit-test
# program that reported one exits 66 (TSan's exit code), and the integration
# harness fails a test whose daemon or test backend wrote a report to its
# stderr (tests/integration/harness.cc, ProcessGuard::reap). Reports do not
# stop a process (halt_on_error=0), so one run shows every race it meets.
# Covered: ctest labels unit and integration (every test of both; the browser
# and deploy labels are not run here). CI does not run this (time budget).
#
#   scripts/tsan.sh                 (same as scripts/test.sh --tsan)
#   scripts/tsan.sh -R Metrics      extra arguments go to ctest
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TSAN_BUILD_DIR:-$root/build-tsan}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSY_SANITIZE=thread -DSY_BENCH=OFF \
  "${launcher[@]}" >/dev/null
cmake --build "$build" -j"${TSAN_JOBS:-$(nproc)}"
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp}
(cd "$build" && ctest --output-on-failure --timeout 600 -L 'unit|integration' "$@")
