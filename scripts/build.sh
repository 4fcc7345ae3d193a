#!/usr/bin/env bash
# Configures and builds Switchyard and its tests into BUILD_DIR (default ./build).
# Extra arguments are passed to cmake's configure step (e.g. -DSY_SANITIZE=address,undefined).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
# Rebuilds on a machine that built before are much faster through ccache, where it is installed.
launcher=()
command -v ccache > /dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "${launcher[@]}" "$@"
cmake --build "$build" -j"$(nproc)"
