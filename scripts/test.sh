#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit, integration, deployment checks).
# This is the command the README names and CI runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
build=${BUILD_DIR:-$root/build}
cd "$build"
ctest --output-on-failure --timeout 300 -j1
