#!/usr/bin/env bash
# The daemon links no gRPC C++, gRPC core, abseil or c-ares library: those
# serve only the tests, the demo and the benchmark tools, and the runtime image
# does not carry them. (RE2 is the daemon's own: route header matching. So is
# libprotobuf, since the daemon reads descriptor sets for merged reflection and
# JSON transcoding: src/schema/; protobuf-lite alone cannot parse descriptors.)
# Prints the daemon's NEEDED list either way.
#
# Usage: tests/deploy/linked_libraries_check.sh [path/to/switchyard]
# Exit status: 0 ok, 1 a forbidden library is linked, 77 skipped (binary or
# readelf missing).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-${BUILD_DIR:-$root/build}/switchyard}
if [ ! -x "$bin" ]; then
  echo "SKIP: switchyard binary not found at $bin (build it first or pass its path)"
  exit 77
fi
if ! command -v readelf > /dev/null; then
  echo "SKIP: readelf not installed (binutils)"
  exit 77
fi

needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "NEEDED by $bin:"
printf '  %s\n' $needed
forbidden=$(printf '%s\n' $needed | grep -E '^lib(grpc|gpr|upb|address_sorting|absl_|cares)' || true)
if [ -n "$forbidden" ]; then
  echo "FAIL: the daemon links libraries meant only for tests and tools:"
  printf '  %s\n' $forbidden
  exit 1
fi
echo "ok"
