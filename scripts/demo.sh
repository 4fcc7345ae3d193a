#!/usr/bin/env bash
# Demo: two test backends behind switchyard, with RPCs alternating between them.
#
#   scripts/demo.sh [BUILD_DIR]        (default: ./build; build it with scripts/build.sh)
#
# Starts sy_test_backend "backend-a" on 127.0.0.1:50051 and "backend-b" on [::1]:50052,
# starts switchyard with config/switchyard.yaml (listener 0.0.0.0:8080, cluster "greeter"
# = those two backends), sends a few helloworld RPCs with sy_demo_client to show the
# round robin, then keeps the proxy running in the foreground until Ctrl-C.
# Every process it started is stopped when it exits.
#
# DEMO_BACKEND_A, DEMO_BACKEND_B, DEMO_TARGET and SWITCHYARD_CONFIG override the
# addresses and the config file (they must agree with each other).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" 2>/dev/null && pwd) || { echo "demo: build dir ${1:-$root/build} not found (run scripts/build.sh)" >&2; exit 1; }
config=${SWITCHYARD_CONFIG:-$root/config/switchyard.yaml}
proxy=$build/switchyard
backend=$build/tests/sy_test_backend
client=$build/tests/sy_demo_client

for f in "$proxy" "$backend" "$client"; do
  [[ -x $f ]] || { echo "demo: $f is missing; build with scripts/build.sh" >&2; exit 1; }
done
[[ -r $config ]] || { echo "demo: config $config not found" >&2; exit 1; }

logs=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-demo.XXXXXX")
pids=()

cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Give them a moment to drain, then make sure they are gone.
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo: stopped (logs in $logs)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_backend NAME ADDRESS: starts a backend and waits (up to 10 s) for its "ready" line.
start_backend() {
  local name=$1 address=$2 log=$logs/$1.log
  "$backend" --address "$address" --name "$name" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    grep -q '^ready ' "$log" && { echo "demo: $name listening on $address"; return 0; }
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "demo: backend $name failed to start on $address:" >&2
  cat "$log" >&2
  exit 1
}

backend_a=${DEMO_BACKEND_A:-127.0.0.1:50051}
backend_b=${DEMO_BACKEND_B:-[::1]:50052}
target=${DEMO_TARGET:-127.0.0.1:8080}
target_host=${target%:*}
target_port=${target##*:}

start_backend backend-a "$backend_a"
start_backend backend-b "$backend_b"

echo "demo: starting switchyard with $config"
"$proxy" --config "$config" &
proxy_pid=$!
pids+=($proxy_pid)

# Wait (up to 10 s) for the listener.
for i in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/$target_host/$target_port") 2>/dev/null; then break; fi
  kill -0 "$proxy_pid" 2>/dev/null || { echo "demo: switchyard exited" >&2; exit 1; }
  ((i < 100)) || { echo "demo: switchyard is not listening on $target" >&2; exit 1; }
  sleep 0.1
done

echo "demo: sending 6 RPCs through $target"
"$client" --target "$target" --count 6 --name demo

echo "demo: switchyard is running on $target; press Ctrl-C to stop"
wait "$proxy_pid"
