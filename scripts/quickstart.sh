#!/usr/bin/env bash
# Quick start: install dependencies, build, and run Switchyard on
# config/switchyard.yaml in front of two demo gRPC backends, sending a few
# RPCs through it so you can watch them alternate between the backends.
# The proxy stays in the foreground until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
exec "$root/scripts/demo.sh" "${BUILD_DIR:-$root/build}"
