#!/usr/bin/env bash
# Checks deploy/systemd/switchyard.service with `systemd-analyze verify` and
# fails on any diagnostic about the unit (verify exits 0 on unknown keys, so
# its output is checked, not just its status). Also checks the sysusers.d
# entry and that TimeoutStopSec leaves room for the configured drain_timeout.
#
# Usage: tests/deploy/systemd_verify.sh [path/to/switchyard]
#   The binary defaults to $BUILD_DIR/switchyard or ./build/switchyard. verify
#   requires every Exec*= binary to exist, so the unit is copied to a temporary
#   directory with /usr/local/bin/switchyard replaced by the built binary.
# Exit status: 0 ok, 1 problems found, 77 skipped (tool or binary missing).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
unit="$root/deploy/systemd/switchyard.service"
sysusers="$root/deploy/systemd/switchyard.sysusers"
bin=${1:-${BUILD_DIR:-$root/build}/switchyard}

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze not installed (apt-get install systemd)"
  exit 77
fi
if [ ! -x "$bin" ]; then
  echo "SKIP: switchyard binary not found at $bin (build it first or pass its path)"
  exit 77
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -E "s|^(Exec[A-Za-z]*=)/usr/local/bin/switchyard |\1$bin |" "$unit" > "$tmp/switchyard.service"
if ! grep -q "^ExecStart=$bin " "$tmp/switchyard.service"; then
  echo "FAIL: ExecStart=/usr/local/bin/switchyard ... not found in $unit"
  exit 1
fi

fail=0
out=$(SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$tmp/switchyard.service" 2>&1) || {
  echo "FAIL: systemd-analyze verify exited non-zero"
  fail=1
}
# Diagnostics about other units on this machine are not ours to fix.
ours=$(printf '%s\n' "$out" | grep -E 'switchyard' || true)
if [ -n "$ours" ]; then
  echo "FAIL: systemd-analyze verify reported:"
  printf '%s\n' "$ours"
  fail=1
fi

# Settings the deployment relies on.
for want in '^Type=notify$' '^ExecReload=/bin/kill -HUP \$MAINPID$' '^User=switchyard$' \
  '^NoNewPrivileges=yes$' '^ProtectSystem=strict$' '^PrivateTmp=yes$' '^ProtectHome=yes$' \
  '^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$' '^AmbientCapabilities=CAP_NET_BIND_SERVICE$' \
  '^LimitNOFILE=1048576$' '^Restart=on-failure$'; do
  if ! grep -Eq "$want" "$unit"; then
    echo "FAIL: $unit lacks a line matching $want"
    fail=1
  fi
done

# TimeoutStopSec must exceed drain_timeout (from the shipped config, default 30s).
to_seconds() {  # "45s", "1m30s", "2m" -> seconds (integers only)
  local v=$1 total=0
  while [[ $v =~ ^([0-9]+)(h|min|m|s)(.*)$ ]]; do
    case ${BASH_REMATCH[2]} in
      h) total=$((total + BASH_REMATCH[1] * 3600)) ;;
      m | min) total=$((total + BASH_REMATCH[1] * 60)) ;;
      s) total=$((total + BASH_REMATCH[1])) ;;
    esac
    v=${BASH_REMATCH[3]}
  done
  [ -z "$v" ] || return 1
  echo "$total"
}
stop=$(sed -n 's/^TimeoutStopSec=//p' "$unit")
drain=30s
if [ -f "$root/config/switchyard.yaml" ]; then
  d=$(sed -n 's/^drain_timeout:[[:space:]]*"\{0,1\}\([0-9a-z]*\)"\{0,1\}.*/\1/p' "$root/config/switchyard.yaml" | head -n1)
  [ -z "$d" ] || drain=$d
fi
if ! stop_s=$(to_seconds "$stop") || ! drain_s=$(to_seconds "$drain"); then
  echo "FAIL: cannot compare TimeoutStopSec=$stop with drain_timeout=$drain"
  fail=1
elif [ "$stop_s" -le "$drain_s" ]; then
  echo "FAIL: TimeoutStopSec=$stop must be longer than drain_timeout=$drain"
  fail=1
fi

# The sysusers.d entry must parse.
if command -v systemd-sysusers >/dev/null 2>&1; then
  if ! sout=$(systemd-sysusers --dry-run --root="$tmp/root" "$sysusers" 2>&1); then
    echo "FAIL: systemd-sysusers rejected $sysusers:"
    printf '%s\n' "$sout"
    fail=1
  fi
fi

if [ "$fail" -eq 0 ]; then
  echo "OK: $unit verified"
fi
exit "$fail"
