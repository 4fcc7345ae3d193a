#!/usr/bin/env bash
# Builds the container image from the Dockerfile with buildah and runs it:
#   * a debian:12 / debian:12-slim base image is made locally with
#     `debootstrap --variant=minbase bookworm` when the test's image store has
#     none (no container registry is needed, only Debian's apt mirror);
#   * `buildah bud --isolation chroot --pull=never` builds the Dockerfile;
#   * the image's own entrypoint and command run inside its root filesystem
#     (`buildah from` + `buildah run --isolation chroot`, host network, the
#     image's non-root user) with a config pointing at two sy_test_backend
#     processes on the host's loopback;
#   * sy_demo_client sends RPCs through it and both backends must answer;
#   * /ready answers 200 and /metrics counts the RPCs;
#   * SIGTERM to the daemon drains it and `buildah run` exits 0.
#
# Usage: tests/deploy/image_test.sh SY_TEST_BACKEND SY_DEMO_CLIENT
# Exit status: 0 ok, 1 failure, 77 skipped (not root, or buildah/debootstrap
# or chroot isolation unavailable: the reason is printed).
#
# State kept between runs on one machine (SY_IMAGE_TEST_DIR, default
# /var/cache/switchyard-image-test): the debootstrap tarball, the image store
# with the base image and buildah's layer cache, and the compiler cache of the
# image's build stage. It is wiped and rebuilt when it grows past
# SY_IMAGE_TEST_MAX_MB (default 12000).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
backend_bin=${1:?usage: image_test.sh SY_TEST_BACKEND SY_DEMO_CLIENT}
client_bin=${2:?usage: image_test.sh SY_TEST_BACKEND SY_DEMO_CLIENT}
state=${SY_IMAGE_TEST_DIR:-/var/cache/switchyard-image-test}
max_mb=${SY_IMAGE_TEST_MAX_MB:-12000}
mirror=${SY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
image=localhost/switchyard-image-test:$$

skip() {
  echo "SKIP: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (buildah with chroot isolation)"
command -v buildah >/dev/null || skip "buildah is not installed (scripts/install-deps.sh installs it)"
[ -x "$backend_bin" ] && [ -x "$client_bin" ] || skip "test binaries missing: $backend_bin $client_bin"

driver=vfs
grep -qw overlay /proc/filesystems && driver=overlay
B=(buildah --root "$state/storage" --runroot "$state/run" --storage-driver "$driver")
export TMPDIR="$state/tmp"  # buildah keeps RUN --mount=type=cache directories here
mkdir -p "$state" "$TMPDIR"

work=$(mktemp -d /tmp/sy-image-test.XXXXXX)
pids=()
ctr=""
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -z "$ctr" ] || "${B[@]}" rm "$ctr" >/dev/null 2>&1 || true
  "${B[@]}" rmi "$image" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do
    [ -f "$f" ] && { echo "--- $(basename "$f") (last 40 lines)"; tail -n 40 "$f"; }
  done
  exit 1
}
step_start=$SECONDS
step() {
  echo "image_test: $* (+$((SECONDS - step_start))s)"
}

# ---- image store: bounded, keeps the base image and the layer cache ------------
used_mb=$(du -sm "$state" 2>/dev/null | cut -f1)
if [ "${used_mb:-0}" -gt "$max_mb" ]; then
  step "image store uses ${used_mb} MB > ${max_mb} MB: starting afresh"
  "${B[@]}" rm --all >/dev/null 2>&1 || true
  "${B[@]}" rmi --all --force >/dev/null 2>&1 || true
  rm -rf "$state/storage" "$state/run" "$TMPDIR"/buildah-cache-*
fi

# ---- base image ------------------------------------------------------------
if ! "${B[@]}" inspect --type image docker.io/library/debian:12 >/dev/null 2>&1; then
  tarball=$state/bookworm-minbase.tar
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || skip "no debian:12 image and no debootstrap to make one"
    step "debootstrap --variant=minbase bookworm from $mirror"
    rootfs=$work/rootfs
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
      fail "debootstrap failed"
    # The suites the official image uses, so security updates install too.
    security=${mirror%/debian}/debian-security
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s bookworm-security main\n' \
      "$mirror" "$mirror" "$security" >"$rootfs/etc/apt/sources.list"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
  fi
  step "importing the base image"
  base=$("${B[@]}" from scratch)
  "${B[@]}" add "$base" "$tarball" / >/dev/null
  "${B[@]}" config --cmd '["bash"]' \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$base"
  "${B[@]}" commit --rm -q "$base" docker.io/library/debian:12 >/dev/null
  "${B[@]}" tag docker.io/library/debian:12 docker.io/library/debian:12-slim
fi

# ---- can buildah run a command in a container here? ----------------------------
probe=$("${B[@]}" from --pull-never docker.io/library/debian:12)
if ! out=$("${B[@]}" run --isolation chroot "$probe" -- true 2>&1); then
  "${B[@]}" rm "$probe" >/dev/null 2>&1 || true
  echo "$out" | tail -n 5
  skip "buildah cannot run a command with chroot isolation here"
fi
"${B[@]}" rm "$probe" >/dev/null

# ---- build -------------------------------------------------------------------
step "buildah bud ($driver storage)"
"${B[@]}" bud --isolation chroot --pull=never --layers --network host --format docker \
  -t "$image" -f "$root/Dockerfile" "$root" >"$work/build.log" 2>&1 || fail "image build failed"
grep '^runtime packages:' "$work/build.log" || true  # absent when the step was cached
step "image built"

# ---- backends on the host ------------------------------------------------------
# NAME VAR: starts it on 127.0.0.1:0 and sets VAR to its address. Runs in this
# shell (not in a $(...) subshell), so its PID reaches `pids` and cleanup stops it.
start_backend() {
  local name=$1 log=$work/$1.log ready=""
  "$backend_bin" --address 127.0.0.1:0 --name "$name" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do
    ready=$(sed -n 's/^ready \([^ ]*\).*/\1/p' "$log" | head -n1)  # "ready HOST:PORT NAME"
    [ -n "$ready" ] && break
    sleep 0.05
  done
  [ -n "$ready" ] || return 1
  printf -v "$2" '%s' "$ready"
}
start_backend image-a a || fail "backend image-a did not start"
start_backend image-b b || fail "backend image-b did not start"

cat >"$work/switchyard.yaml" <<EOF
workers: auto
admin: { address: 127.0.0.1:0 }
drain_timeout: 10s
logging: { level: info, access_log: stdout }
listeners:
  - name: public
    address: 127.0.0.1:0
routes:
  - match: { service: helloworld.Greeter }
    cluster: greeter
clusters:
  - name: greeter
    endpoints: [$a, $b]
    health_check: { interval: 1s }
EOF

# ---- run the image's entrypoint + command in its root filesystem ---------------
ctr=$("${B[@]}" from --pull-never "$image")
"${B[@]}" copy "$ctr" "$work/switchyard.yaml" /etc/switchyard/switchyard.yaml >/dev/null
user=$("${B[@]}" inspect --format '{{.OCIv1.Config.User}}' "$image")
mapfile -t argv < <("${B[@]}" inspect --format \
  '{{range .OCIv1.Config.Entrypoint}}{{println .}}{{end}}{{range .OCIv1.Config.Cmd}}{{println .}}{{end}}' "$image" |
  sed '/^$/d')
[ "${#argv[@]}" -ge 1 ] || fail "image has no entrypoint"
step "running ${argv[*]} as user $user"
"${B[@]}" run --isolation chroot --network host --user "$user" "$ctr" -- "${argv[@]}" \
  >"$work/daemon.out.log" 2>"$work/daemon.log" &
run_pid=$!
pids+=("$run_pid")

listener="" admin_port=""
for _ in $(seq 1 600); do
  kill -0 "$run_pid" 2>/dev/null || fail "the daemon exited during startup"
  if grep -q ' ready: ' "$work/daemon.log"; then
    listener=$(sed -n 's/.*listener public on \([0-9.]*:[0-9]*\).*/\1/p' "$work/daemon.log" | head -n1)
    admin_port=$(sed -n 's/.*admin listening on .*(port \([0-9]*\)).*/\1/p' "$work/daemon.log" | head -n1)
    break
  fi
  sleep 0.1
done
[ -n "$listener" ] && [ -n "$admin_port" ] || fail "no ready line with listener and admin addresses"
grep -o 'workers: auto = .*' "$work/daemon.log" | head -n1 || true

# The daemon inside the image: the process under `buildah run` whose
# executable is /usr/local/bin/switchyard (no PID namespace with chroot).
descendants() {  # PID: prints every descendant PID
  local -A kids=()
  local stat pid ppid rest
  for stat in /proc/[0-9]*/stat; do
    { read -r rest <"$stat"; } 2>/dev/null || continue  # gone meanwhile
    pid=${rest%% *}
    rest=${rest##*) }
    ppid=$(cut -d' ' -f2 <<<"$rest")
    kids[$ppid]+=" $pid"
  done
  local queue=("$1") p c
  while [ "${#queue[@]}" -gt 0 ]; do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    for c in ${kids[$p]:-}; do
      echo "$c"
      queue+=("$c")
    done
  done
}
daemon_pid=""
for p in $(descendants "$run_pid"); do
  if [[ $(readlink "/proc/$p/exe" 2>/dev/null) == */usr/local/bin/switchyard ]]; then
    daemon_pid=$p
    break
  fi
done
[ -n "$daemon_pid" ] || fail "cannot find the daemon under buildah run (pid $run_pid)"

http_get() {  # PATH: prints the status line and body from the admin endpoint
  exec 3<>"/dev/tcp/127.0.0.1/$admin_port" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&3
  timeout 5 cat <&3
  exec 3<&-
}

# /ready: both backends pass their first health check.
ready=""
for _ in $(seq 1 100); do
  ready=$(http_get /ready | head -n1) || true
  [[ $ready == HTTP/1.?' 200 '* ]] && break
  sleep 0.1
done
[[ $ready == HTTP/1.?' 200 '* ]] || fail "/ready never answered 200 (last: $ready)"
step "/ready: $ready"

timeout 30 "$client_bin" --target "$listener" --count 6 --name image-test >"$work/client.log" 2>&1 ||
  fail "sy_demo_client failed"
grep -q image-a "$work/client.log" && grep -q image-b "$work/client.log" ||
  fail "RPCs did not reach both backends"
sed 's/^/  /' "$work/client.log"

http_get /metrics >"$work/metrics.txt" || fail "/metrics did not answer"
head -n1 "$work/metrics.txt" | grep -q ' 200 ' || fail "/metrics status: $(head -n1 "$work/metrics.txt")"
ok=$(awk '/^switchyard_grpc_server_handled_total\{/ && /grpc_code="OK"/ { s += $NF } END { print s + 0 }' "$work/metrics.txt")
[ "${ok%.*}" -ge 6 ] || fail "/metrics counts ${ok} OK RPCs, expected at least 6"
step "/metrics: $ok OK RPCs"

# ---- drain: SIGTERM, exit 0 ----------------------------------------------------
kill -TERM "$daemon_pid"
rc=0
for _ in $(seq 1 300); do
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$run_pid" 2>/dev/null && fail "the daemon did not exit within 30s of SIGTERM"
wait "$run_pid" || rc=$?
remaining=()
for pid in "${pids[@]}"; do [ "$pid" = "$run_pid" ] || remaining+=("$pid"); done
pids=("${remaining[@]}")
[ "$rc" -eq 0 ] || fail "the daemon exited $rc after SIGTERM, expected 0"
step "SIGTERM: drained and exited 0"
echo "image_test: PASS in $((SECONDS - step_start))s"
