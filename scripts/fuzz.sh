#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang with ASan+UBSan) and runs
# each for SECONDS (default 60), starting from its checked-in seed corpus.
#
#   scripts/fuzz.sh                 every target, 60 s each
#   scripts/fuzz.sh 300 fuzz_config one target, 5 minutes
#
# Exits non-zero if any target crashed, leaked, hung or ran out of memory. A
# crashing input is left in $FUZZ_BUILD_DIR/artifacts/<target>/ (default
# build-fuzz/artifacts/<target>/crash-*, leak-*, timeout-*, oom-*); add it to
# tests/fuzz/corpus/<target>/ once fixed, so the regression tests replay it.
# New interesting inputs go to build-fuzz/corpus/<target>/, never into the tree.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(fuzz_downstream fuzz_upstream fuzz_grpc_message fuzz_grpc_timeout fuzz_method_path fuzz_config)
fi
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
cxx=${FUZZ_CXX:-clang++-14}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DSY_FUZZ=ON "${launcher[@]}" >/dev/null
cmake --build "$build" -j"${FUZZ_JOBS:-$(nproc)}" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  seeds=$root/tests/fuzz/corpus/$t
  work=$build/corpus/$t
  artifacts=$build/artifacts/$t
  mkdir -p "$work" "$artifacts"
  log=$build/$t.log
  echo "fuzz.sh: $t for ${seconds}s (log $log)"
  # -timeout: one input taking this long counts as a hang. The seed corpus is
  # read first, so a seed that crashes fails at once.
  if "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "$seeds" >"$log" 2>&1; then
    grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)" "$log" | tr '\n' ' ' || true
    echo
  else
    echo "fuzz.sh: $t FAILED; reproducer(s):" >&2
    ls -1 "$artifacts" >&2 || true
    tail -n 60 "$log" >&2
    failed+=("$t")
  fi
done
if ((${#failed[@]} > 0)); then
  echo "fuzz.sh: failing targets: ${failed[*]} (reproducers under $build/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} target(s) ran ${seconds}s each without a failure"
