#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: unit, integration and
# deployment checks (the container image is built and run), then the same unit
# and integration tests again built with AddressSanitizer and
# UndefinedBehaviorSanitizer, then each fuzz target for SY_FUZZ_SECONDS
# (default 60) under ASan+UBSan (scripts/fuzz.sh). The main build is Release
# and the sanitizer build Debug, both with warnings as errors, so CI compiles
# both ends of the optimisation range (BUILD_TYPE overrides the first).
# This is the command the README names and CI runs.
#
#   scripts/test.sh                    everything
#   SY_SANITIZERS=0 scripts/test.sh    skip the sanitizer pass
#   SY_FUZZ_SECONDS=0 scripts/test.sh  skip the fuzzing pass
#   scripts/test.sh --tsan             only the unit and integration tests under
#   (or SY_TSAN=1 scripts/test.sh)     ThreadSanitizer (build-tsan/; not run by CI)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"

if [[ ${1:-} == --tsan || ${SY_TSAN:-0} != 0 ]]; then
  exec "$root/scripts/tsan.sh"
fi

build=${BUILD_DIR:-$root/build}
BUILD_DIR=$build BUILD_TYPE=${BUILD_TYPE:-Release} "$root/scripts/build.sh"
(cd "$build" && ctest --output-on-failure --timeout 300)

if [[ ${SY_SANITIZERS:-1} != 0 ]]; then
  asan=${ASAN_BUILD_DIR:-$root/build-asan}
  BUILD_DIR=$asan BUILD_TYPE=Debug "$root/scripts/build.sh" -DSY_SANITIZE=address,undefined -DSY_BENCH=OFF
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  (cd "$asan" && ctest --output-on-failure --timeout 300 -L 'unit|integration')
fi

if [[ ${SY_FUZZ_SECONDS:-60} != 0 ]]; then
  "$root/scripts/fuzz.sh" "${SY_FUZZ_SECONDS:-60}"
fi
