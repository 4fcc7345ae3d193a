#!/usr/bin/env bash
# Configures and builds Switchyard and its tests into BUILD_DIR (default ./build).
# Extra arguments are passed to cmake's configure step (e.g. -DSY_SANITIZE=address,undefined).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@"
cmake --build "$build" -j"$(nproc)"
