#!/usr/bin/env bash
# Proxy benchmark: Switchyard against nginx, HAProxy, nghttpx and an L4 floor,
# all on loopback, all with one worker, in the same run. See docs/performance.md.
#
#   scripts/bench.sh [--duration 10] [--repeat 3] [--warmup 1]
#                    [--cases unary16,unary64k,stream,bidi,tls,tlsup,mtls,latency,...]
#                    [--targets direct,sy-1,sy-1-nolog,sy-auto,sy-2,sy-2-exact,nginx,haproxy,nghttpx,l4]
#                    [--pin]
#                    [--idle-conns 5000] [--big-mib 1024] [--slow-rate 64]
#                    [--out bench/results/latest.md] [--no-install] [--no-build]
#
# Cases (default: all of them, in this order):
#   unary16   unary, 16 B each way, 4 connections x 16 streams
#   unary64k  unary, 64 KiB each way, 4 x 4
#   stream    server streaming, 1 KiB messages, 1000 per RPC, 4 x 4
#   bidi      ping-pong round trips, 16 B, 4 x 16 long-lived streams
#   tls       unary16 with TLS from the client to the proxy (cleartext h2 behind it)
#   tlsup     unary16 with TLS on both legs: client to proxy, and proxy to the
#             backend's TLS port (the backend certificate verified against the CA)
#   mtls      tlsup plus a client certificate the proxy requires and verifies
#   ratelimit16  unary16 through a route with a rate_limit keyed by client_ip that
#             is never hit (Switchyard targets only): the cost of the limit step
#   jwtrl16   unary16 through a route with JWT auth (RS256, key and JWKS made at
#             run time, require_claims) and a rate_limit keyed by jwt:sub that is
#             never hit; every RPC sends the same bearer token (Switchyard targets
#             only; not in the default list): the cost of the edge policy steps
#   latency   one 16 B unary RPC at a time on one connection
#   openloop  latency under load: unary 16 B on 4 connections at a fixed arrival
#             rate (sy_bench_load --rate, open loop, latency from each RPC's
#             scheduled start) at 50 % and at 90 % of the target's saturating rate,
#             which is the median rate of its closed-loop unary16 runs (run here
#             once first if unary16 is not in --cases before it); reported as
#             open50 / open90 with p50, p99 and p999
#   h2load16  unary 16 B driven by h2load -c 16 -m 32 (verified by backend counts)
#   h2load-web16   h2load16 as gRPC-Web (application/grpc-web+proto), Switchyard only
#   h2load-json16  h2load16 as JSON transcoding (POST /v1/bench/unary, a JSON body,
#             google.api.http rule from bench/proto/bench_http.proto), Switchyard only;
#             compare proxy_cpu_us_per_unit with h2load16 on the same target
#   conc10 conc1k conc10k   unary 16 B at 10, 1,000 and 10,000 concurrent streams
#   idle      --idle-conns idle HTTP/2 client connections; proxy RSS per connection
#   bigstream one --big-mib MiB server stream read at --slow-rate MiB/s; proxy RSS growth
#   callgrind-ratelimit  callgrind on sy-1 with the ratelimit16 route (not in the default list)
#   callgrind-jwtrl  callgrind on sy-1 with the jwtrl16 route, once with the
#             verified-token cache (default) and once with token_cache_size: 0,
#             so every RPC checks the signature (not in the default list)
#   callgrind-64k  callgrind on sy-1, unary 64 KiB each way, 1 x 8 (not in the
#             default list): instructions per large RPC, where copies dominate
#   callgrind-stream  callgrind on sy-1, server streaming like the stream case
#             (1 KiB messages, 1000 per RPC), 1 x 4 (not in the default list):
#             instructions per streamed message
#   callgrind-tls  callgrind on sy-1 with TLS from the client (the tls case's
#             listener), 1 x 8 unary 16 B (not in the default list)
#   callgrind-tlsup  callgrind-tls with TLS on both legs, like the tlsup case:
#             client to proxy, and proxy to the backend's TLS port (not in the
#             default list)
#   callgrind-json  callgrind on sy-1 with the h2load-json16 route: instructions
#             per JSON-transcoded unary RPC, driven by h2load (not in the default list)
#   callgrind-h2floor  nghttp2's own floor (not in the default list; targets do not
#             matter): sy_bench_h2_floor under callgrind, one gRPC unary 16 B exchange
#             through four in-memory nghttp2 sessions (client, the proxy's two, the
#             backend), no I/O; instructions per exchange of the proxy's two
#             sessions (split into nghttp2, libc and the rest), the client's and
#             the backend's
#   callgrind Switchyard (workers: 1) under callgrind: instructions per unary RPC,
#             with the default text access log written to a file (sy-1) and
#             with access_log: off (sy-1-nolog)
#
# Targets: every Switchyard target runs with the shipped defaults that matter on
# the data path: the default access log (text, to a file in the work dir) and
# the admin endpoint (metrics) listening. sy-1-nolog is sy-1 with access_log:
# off, to show the access log's cost. sy-2-exact is workers: 2 (with the
# default connection_balance: exact) and sy-2 the same with
# connection_balance: kernel (the kernel's SO_REUSEPORT spread);
# they run only in unary16 and openloop, for the multi-core comparison. --pin puts
# every proxy on CPUs 0-1 and the backend and load generator on the others
# (taskset), when the machine has at least 4 CPUs; otherwise it is ignored.
#
# Each (case, repeat, target) starts a fresh proxy, so peak RSS is per case.
# Every RPC's status is checked by the client, and the backend's own counts of
# completed RPCs/messages must match the client's; a run that fails either
# check is marked FAIL in the table. Only loopback addresses are used; every
# process started here is stopped by PID on exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
duration=10
repeat=3
warmup=1
cases=unary16,unary64k,stream,bidi,tls,tlsup,mtls,latency,h2load16,h2load-web16,h2load-json16,conc10,conc1k,conc10k,idle,bigstream,openloop,callgrind
targets=direct,sy-1,sy-1-nolog,sy-auto,sy-2,sy-2-exact,nginx,haproxy,nghttpx,l4
idle_conns=5000
big_mib=1024
slow_rate=64
out=$root/bench/results/latest.md
install=1
build=1
build_dir=${BUILD_DIR:-$root/build-bench}
pin=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --idle-conns) idle_conns=$2; shift 2 ;;
    --big-mib) big_mib=$2; shift 2 ;;
    --slow-rate) slow_rate=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-install) install=0; shift ;;
    --no-build) build=0; shift ;;
    --pin) pin=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- packages -------------------------------------------------------------
if ((install)); then
  "$root/scripts/install-deps.sh"
  need=()
  for p in nginx haproxy nghttp2-proxy nghttp2-client openssl valgrind python3 iproute2; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if ((${#need[@]})); then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
fi

# --- build ----------------------------------------------------------------
jobs=$(( $(nproc) < 2 ? $(nproc) : 2 ))
tools_dir=$build_dir/bench
if ((build)); then
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSY_TESTS=OFF -DSY_BENCH=ON >/dev/null
  cmake --build "$build_dir" -j"$jobs" --target switchyard sy_bench_backend sy_bench_load sy_bench_h2_floor
fi
SY=$build_dir/switchyard
BACKEND=$tools_dir/sy_bench_backend
LOAD=$tools_dir/sy_bench_load
H2FLOOR=$tools_dir/sy_bench_h2_floor
for b in "$SY" "$BACKEND" "$LOAD"; do [ -x "$b" ] || { echo "bench: missing $b (build first)" >&2; exit 1; }; done

# --- workspace, cleanup ---------------------------------------------------
# Many sockets for the idle and 10,000-stream cases (each proxy gets the same limit).
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
nofile=$(ulimit -n)
work=$(mktemp -d /tmp/sy-bench.XXXXXX)
raw=$work/raw.txt
: >"$raw"
started=()
stop_pid() {  # stop_pid PID: TERM, bounded wait, then KILL
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${started[@]}"; do stop_pid "$pid"; done
  if [ -n "${KEEP_WORK:-}" ]; then log "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

used_ports=" "
free_port() {  # a loopback TCP port nobody listens on or connects from
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    [[ $used_ports == *" $p "* ]] && continue
    [ -n "$(ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null)" ] && continue
    used_ports+="$p "
    echo "$p"
    return 0
  done
  echo "bench: no free port found" >&2
  return 1
}
wait_listen() {  # wait_listen PORT PID
  local i
  for ((i = 0; i < 150; i++)); do
    kill -0 "$2" 2>/dev/null || return 1
    [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  return 1
}

# --- TLS material (generated per run) ---------------------------------------
tls=$work/tls
mkdir -p "$tls"
(
  cd "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=switchyard bench CA" \
    -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >ext.cnf
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile ext.cnf -out server.crt 2>/dev/null
  cat server.crt server.key >server.pem
  openssl req -newkey rsa:2048 -nodes -subj "/CN=bench client" -keyout client.key -out client.csr 2>/dev/null
  printf 'subjectAltName=URI:spiffe://bench/client\nextendedKeyUsage=clientAuth\n' >client-ext.cnf
  openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile client-ext.cnf -out client.crt 2>/dev/null
)

# --- JWT material for jwtrl16 / callgrind-jwtrl (generated per run) ----------
# An RSA key, its public JWKS and one RS256 token signed with it, made with the
# openssl CLI; python3 only turns the modulus from hex into bytes.
jwt=$work/jwt
jwt_token=""
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
make_jwt_material() {
  mkdir -p "$jwt"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$jwt/key.pem" 2>/dev/null
  local n header payload signing_input sig
  n=$(openssl rsa -in "$jwt/key.pem" -noout -modulus | sed 's/^Modulus=//' |
    python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' | b64url)
  printf '{"keys":[{"kty":"RSA","kid":"bench","use":"sig","alg":"RS256","n":"%s","e":"AQAB"}]}\n' "$n" >"$jwt/jwks.json"
  header=$(printf '{"alg":"RS256","typ":"JWT","kid":"bench"}' | b64url)
  payload=$(printf '{"iss":"https://issuer.bench.invalid","aud":"switchyard","sub":"bench-client","scope":"bench.read bench.write","iat":%d,"exp":%d}' \
    "$(date +%s)" "$(($(date +%s) + 86400))" | b64url)
  signing_input=$header.$payload
  sig=$(printf '%s' "$signing_input" | openssl dgst -sha256 -sign "$jwt/key.pem" -binary | b64url)
  jwt_token=$signing_input.$sig
}
# jwt_top_yaml AUTH: the top-level auth section (AUTH: jwt or jwt-nocache).
jwt_top_yaml() {
  echo "auth:"
  echo "  jwt_providers:"
  echo "    - name: bench"
  echo "      issuer: https://issuer.bench.invalid"
  echo "      audiences: [switchyard]"
  echo "      jwks_file: $jwt/jwks.json"
  [ "$1" = jwt-nocache ] && echo "      token_cache_size: 0"
  return 0
}
# jwt_route_yaml: the route's auth and a rate limit per subject that is never hit.
jwt_route_yaml() {
  echo "    auth: { jwt: bench, require_claims: { scope: bench.write } }"
  echo "    rate_limit: { rps: 10000000, burst: 10000000, key: \"jwt:sub\" }"
}
if [[ ,$cases, == *,jwtrl16,* || ,$cases, == *,callgrind-jwtrl,* ]]; then make_jwt_material; fi

# --- CPU pinning (--pin) -------------------------------------------------------
# Proxies on CPUs 0-1, backend and load generator on the rest, so a proxy's
# workers do not compete with the load for cores. Needs 4 CPUs at least.
proxy_cpus=() load_cpus=()
if ((pin)); then
  if (($(nproc) >= 4)) && command -v taskset >/dev/null; then
    proxy_cpus=(taskset -c 0-1)
    load_cpus=(taskset -c "2-$(($(nproc) - 1))")
    log "pinning: proxies on CPUs 0-1, backend and load on 2-$(($(nproc) - 1))"
  else
    log "--pin ignored: $(nproc) CPUs (needs 4 and taskset)"
  fi
fi

# --- backend ----------------------------------------------------------------
be_port=$(free_port)
be_tls_port=$(free_port)
be_log=$work/backend.log
"${load_cpus[@]}" "$BACKEND" --address "127.0.0.1:$be_port" --tls-address "127.0.0.1:$be_tls_port" \
  --cert "$tls/server.crt" --key "$tls/server.key" >"$be_log" 2>&1 &
be_pid=$!
started+=("$be_pid")
wait_listen "$be_port" "$be_pid" && wait_listen "$be_tls_port" "$be_pid" || {
  echo "bench: backend did not start" >&2; cat "$be_log" >&2; exit 1; }

# backend_counts: asks the backend for its counters (SIGUSR1) and prints the
# newest "counts ..." line.
backend_counts() {
  local before i
  before=$(grep -c '^counts ' "$be_log" || true)
  kill -USR1 "$be_pid"
  for ((i = 0; i < 100; i++)); do
    (($(grep -c '^counts ' "$be_log" || true) > before)) && break
    sleep 0.02
  done
  grep '^counts ' "$be_log" | tail -1
}
count_of() {  # count_of "COUNTS-LINE" KEY
  local kv
  for kv in $1; do [[ $kv == "$2="* ]] && { echo "${kv#*=}"; return; }; done
  echo 0
}

# --- proxies ----------------------------------------------------------------
# start_target TARGET TLS [RATE_LIMIT(0|1)] [AUTH(none|jwt|jwt-nocache)]: starts a
# fresh proxy; sets tgt_port, tgt_pid. AUTH other than none puts the route behind
# JWT auth with a rate limit per subject (jwtrl16), in place of RATE_LIMIT.
# TLS: 0 cleartext, 1 TLS from the client, 2 TLS on both legs (the backend's
# TLS port, verified), 3 as 2 with a required, verified client certificate.
start_target() {
  local target=$1 use_tls=$2 rate_limit=${3:-0} auth=${4:-none} dir=$work/$1
  local up_tls=$((use_tls >= 2)) client_auth=$((use_tls == 3))
  local up_port=$be_port
  ((up_tls)) && up_port=$be_tls_port
  mkdir -p "$dir"
  tgt_pid=""
  if [ "$target" = direct ]; then
    tgt_port=$be_port; ((use_tls)) && tgt_port=$be_tls_port
    return 0
  fi
  tgt_port=$(free_port)
  case $target in
    sy-1|sy-1-nolog|sy-auto|sy-2|sy-2-exact)
      local workers=1 access_log=$dir/access.log
      [ "$target" = sy-auto ] && workers=auto
      [[ $target == sy-2* ]] && workers=2
      [ "$target" = sy-1-nolog ] && access_log=off
      {
        echo "workers: $workers"
        echo "admin: { address: 127.0.0.1:$(free_port) }"
        echo "drain_timeout: 0s"
        echo "logging: { level: warn, access_log: \"$access_log\" }"
        [ "$auth" != none ] && jwt_top_yaml "$auth"
        echo "listeners:"
        echo "  - name: bench"
        echo "    address: 127.0.0.1:$tgt_port"
        echo "    idle_timeout: 0s"
        [ "$target" = sy-2 ] && echo "    connection_balance: kernel"
        if ((client_auth)); then
          echo "    tls: { cert: $tls/server.crt, key: $tls/server.key, client_ca: $tls/ca.crt, client_auth: require }"
        elif ((use_tls)); then
          echo "    tls: { cert: $tls/server.crt, key: $tls/server.key }"
        fi
        ((sy_edge)) && echo "    grpc_web: {}"
        echo "routes:"
        echo "  - match: { service: switchyard.bench.Bench }"
        echo "    cluster: bench"
        if [ "$auth" != none ]; then
          jwt_route_yaml
        elif ((rate_limit)); then
          echo "    rate_limit: { rps: 10000000, burst: 10000000, key: client_ip }"
        fi
        ((sy_edge)) && echo "    json_transcoding: true"
        ((sy_edge)) && echo "descriptor_sets: [\"$work/bench_http.pb\"]"
        echo "clusters:"
        echo "  - name: bench"
        echo "    endpoints: [127.0.0.1:$up_port]"
        ((up_tls)) && echo "    tls: { ca: $tls/ca.crt, server_name: localhost }"
      } >"$dir/switchyard.yaml"
      "${proxy_cpus[@]}" ${SY_WRAPPER:-} "$SY" --config "$dir/switchyard.yaml" >"$dir/out.log" 2>&1 &
      ;;
    nginx)
      mkdir -p "$dir/tmp"
      local listen="listen 127.0.0.1:$tgt_port http2;"
      ((use_tls)) && listen="listen 127.0.0.1:$tgt_port ssl http2;
        ssl_certificate $tls/server.crt; ssl_certificate_key $tls/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;"
      ((client_auth)) && listen+="
        ssl_client_certificate $tls/ca.crt; ssl_verify_client on;"
      local pass="grpc_pass grpc://backend;"
      ((up_tls)) && pass="grpc_pass grpcs://backend;
      grpc_ssl_trusted_certificate $tls/ca.crt; grpc_ssl_verify on;
      grpc_ssl_name localhost; grpc_ssl_server_name on; grpc_ssl_session_reuse on;"
      cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile $nofile;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $nofile; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  upstream backend {
    server 127.0.0.1:$up_port;
    keepalive 20000;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  server {
    $listen
    http2_max_concurrent_streams 1024;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    http2_idle_timeout 300s;
    client_max_body_size 0;
    location / {
      $pass
      grpc_read_timeout 300s;
      grpc_send_timeout 300s;
    }
  }
}
EOF
      "${proxy_cpus[@]}" nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/out.log" 2>&1 &
      ;;
    haproxy)
      local bind="bind 127.0.0.1:$tgt_port proto h2"
      ((use_tls)) && bind="bind 127.0.0.1:$tgt_port ssl crt $tls/server.pem alpn h2"
      ((client_auth)) && bind+=" ca-file $tls/ca.crt verify required"
      local server="server s1 127.0.0.1:$be_port proto h2"
      ((up_tls)) && server="server s1 127.0.0.1:$be_tls_port proto h2 ssl alpn h2 verify required ca-file $tls/ca.crt sni str(localhost) verifyhost localhost"
      cat >"$dir/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn $(( (nofile - 200) / 2 ))
  tune.h2.max-concurrent-streams 1024
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
frontend fe
  $bind
  default_backend be
backend be
  http-reuse always
  $server
EOF
      "${proxy_cpus[@]}" haproxy -db -f "$dir/haproxy.cfg" >"$dir/out.log" 2>&1 &
      ;;
    l4)
      local upstream=$be_port; ((use_tls)) && upstream=$be_tls_port
      cat >"$dir/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn $(( (nofile - 200) / 2 ))
defaults
  mode tcp
  timeout connect 5s
  timeout client 300s
  timeout server 300s
listen l4
  bind 127.0.0.1:$tgt_port
  server s1 127.0.0.1:$upstream
EOF
      "${proxy_cpus[@]}" haproxy -db -f "$dir/haproxy.cfg" >"$dir/out.log" 2>&1 &
      ;;
    nghttpx)
      : >"$dir/empty.conf"
      local fe="127.0.0.1,$tgt_port;no-tls" keycert=() be="127.0.0.1,$be_port;;proto=h2" tlsopts=()
      ((use_tls)) && { fe="127.0.0.1,$tgt_port"; keycert=("$tls/server.key" "$tls/server.crt"); }
      ((up_tls)) && { be="127.0.0.1,$be_tls_port;;proto=h2;tls;sni=localhost"; tlsopts+=(--cacert="$tls/ca.crt"); }
      ((client_auth)) && tlsopts+=(--verify-client --verify-client-cacert="$tls/ca.crt")
      "${proxy_cpus[@]}" nghttpx --conf="$dir/empty.conf" --single-process --workers=1 \
        --frontend="$fe" --backend="$be" "${tlsopts[@]}" \
        --frontend-http2-max-concurrent-streams=1024 --backend-http2-max-concurrent-streams=1024 \
        --frontend-http2-read-timeout=300s --frontend-keep-alive-timeout=300s \
        --backend-read-timeout=300s --backend-write-timeout=300s --backend-keep-alive-timeout=300s \
        --rlimit-nofile="$nofile" --no-via --no-server-push --no-ocsp \
        --errorlog-file="$dir/error.log" --log-level=WARN "${keycert[@]}" >"$dir/out.log" 2>&1 &
      ;;
    *) echo "bench: unknown target $target" >&2; return 1 ;;
  esac
  tgt_pid=$!
  started+=("$tgt_pid")
  if ! wait_listen "$tgt_port" "$tgt_pid"; then
    echo "bench: $target did not start:" >&2
    cat "$dir/out.log" "$dir/error.log" 2>/dev/null | tail -20 >&2
    return 1
  fi
}
stop_target() { [ -n "$tgt_pid" ] && stop_pid "$tgt_pid"; tgt_pid=""; }

# --- one measured run ----------------------------------------------------------
# Case table: mode conns streams size [extra load flags]
case_spec() {
  case $1 in
    unary16|tls|tlsup|mtls|ratelimit16|jwtrl16) echo "unary 4 16 16" ;;
    open50|open90) echo "unary 4 16 16 --rate $open_rate" ;;
    unary64k) echo "unary 4 4 65536" ;;
    stream) echo "stream 4 4 1024 --stream-count 1000" ;;
    bidi) echo "bidi 4 16 16" ;;
    latency) echo "latency 1 1 16" ;;
    conc10) echo "unary 1 10 16" ;;
    conc1k) echo "unary 10 100 16" ;;
    conc10k) echo "unary 100 100 16" ;;
    idle) echo "idle $idle_conns 1 16" ;;
    bigstream) echo "slowread 1 1 65536 --total $((big_mib * 1048576)) --rate $slow_rate" ;;
    *) return 1 ;;
  esac
}

# openloop: the saturating rate of a target is the median rate of its
# closed-loop unary16 runs so far.
open_rate=0
saturating_rate() {  # saturating_rate TARGET
  awk -v t="$1" '$1 == "case=unary16" && $2 == "target=" t && $4 == "verify=ok" {
      for (i = 5; i <= NF; i++) if ($i ~ /^rate=/) { sub(/^rate=/, "", $i); print $i + 0 }
    }' "$raw" | sort -n | awk '{ v[++n] = $1 } END {
      if (n == 0) { print 0; exit }
      printf "%.0f", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }'
}
openloop_runs() {  # openloop_runs TARGET REP: open50 and open90 for one target
  local t=$1 rep=$2 sat pct
  sat=$(saturating_rate "$t")
  if ((sat <= 0)); then
    echo "case=open50 target=$t rep=$rep verify=FAIL:no_saturating_rate" >>"$raw"
    echo "case=open90 target=$t rep=$rep verify=FAIL:no_saturating_rate" >>"$raw"
    return 0
  fi
  for pct in 50 90; do
    open_rate=$((sat * pct / 100))
    measure "open$pct" "$t" "$rep"
    # Remember what the rate was a share of.
    sed -i '$ s/$/ saturating_rps='"$sat"'/' "$raw"
  done
}

# h2load16: h2load drives prior-knowledge h2c (or h2 over TLS) with a pre-framed
# gRPC request; it checks only HTTP status, so the backend's count of OK
# unary RPCs must equal the requests h2load completed.
h2load_run() {  # h2load_run CASE TARGET REP
  local c=$1 target=$2 rep=$3 n frame=$work/h2load.req
  local ctype=application/grpc url_path=/switchyard.bench.Bench/Unary
  # gRPC frame: flag 0, length 18, Payload{data: 16 x 'x'}
  printf '\x00\x00\x00\x00\x12\x0a\x10xxxxxxxxxxxxxxxx' >"$frame"
  edge_request "$c"
  n=$(awk -v d="$duration" 'BEGIN { printf "%d", d * 20000 }')
  local before after c0 c1 t0 t1 outf=$work/h2load.out rc=0 pid=${tgt_pid:-}
  before=$(backend_counts)
  [ -n "$pid" ] && c0=$(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$pid/stat")
  t0=$(date +%s.%N)
  timeout $((60 + ${duration%.*} * 10)) h2load -n "$n" -c 16 -m 32 -t 1 -d "$frame" \
    -H "content-type: $ctype" -H 'te: trailers' \
    "http://127.0.0.1:$tgt_port$url_path" >"$outf" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  [ -n "$pid" ] && c1=$(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$pid/stat")
  local succeeded status2xx i
  succeeded=$(awk '/^requests:/ { for (i = 1; i <= NF; i++) if ($(i + 1) ~ /succeeded/) { print $i + 0; exit } }' "$outf")
  status2xx=$(awk '/^status codes:/ { print $3 + 0; exit }' "$outf")
  succeeded=${succeeded:-0}; status2xx=${status2xx:-0}
  for ((i = 0; i < 50; i++)); do
    after=$(backend_counts)
    (($(count_of "$after" unary) - $(count_of "$before" unary) >= succeeded)) && break
    sleep 0.05
  done
  local be_delta=$(($(count_of "$after" unary) - $(count_of "$before" unary)))
  local verify=ok failed=$((n - succeeded))
  ((rc != 0)) && verify="FAIL:h2load_exit_$rc"
  ((succeeded != n)) && verify="FAIL:h2load_${succeeded}_of_$n"
  ((status2xx != succeeded)) && verify="FAIL:http_2xx_${status2xx}_of_$succeeded"
  ((be_delta != succeeded)) && verify="FAIL:backend_counted_${be_delta}_of_$succeeded"
  local line
  line=$(awk -v n="$succeeded" -v t0="$t0" -v t1="$t1" -v c0="${c0:-}" -v c1="${c1:-}" -v tck="$(getconf CLK_TCK)" \
    -v pid="$pid" -v failed="$failed" 'BEGIN {
      secs = t1 - t0; printf "mode=h2load units=%d secs=%.3f rate=%.3f p50_us=-1 p99_us=-1 ok=%d failed=%d msgs=0", n, secs, n / secs, n, failed
      if (pid != "") { us = (c1 - c0) * 1e6 / tck; printf " proxy_cpu_us=%.0f proxy_cpu_us_per_unit=%.3f", us, (n ? us / n : 0) }
    }')
  if [ -n "$pid" ]; then
    line+=" proxy_rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status") proxy_hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")"
  fi
  echo "case=$c target=$target rep=$rep verify=$verify backend=$be_delta $line" >>"$raw"
  log "$c $target #$rep: $verify $(grep -o 'rate=[^ ]*' <<<"$line")"
}

# --- gRPC-Web and JSON transcoding cases (h2load-web16, h2load-json16) --------
# The same unary 16 B call as h2load16, sent the way a browser (gRPC-Web) or a
# REST client (JSON, through the google.api.http rule of bench_http.proto)
# sends it. Switchyard targets only; start_target adds grpc_web, the
# descriptor set and json_transcoding while sy_edge=1.
sy_edge=0
edge_cases="h2load-web16 h2load-json16"
is_edge_case() { [[ " $edge_cases " == *" $1 "* ]]; }
edge_descriptor() {  # the descriptor set json_transcoding reads
  [ -f "$work/bench_http.pb" ] && return 0
  protoc -I"$root/bench/proto" -I"$root/tests/proto" --include_imports \
    --descriptor_set_out="$work/bench_http.pb" "$root/bench/proto/bench_http.proto"
}
edge_request() {  # edge_request CASE: sets ctype, url_path and the body in $frame for h2load_run
  case $1 in
    h2load-web16) ctype=application/grpc-web+proto ;;  # the same framed message
    h2load-json16)
      ctype=application/json url_path=/v1/bench/unary
      printf '{"data":"eHh4eHh4eHh4eHh4eHh4eA=="}' >"$frame" ;;  # 16 x 'x', base64
  esac
}

measure() {  # measure CASE TARGET REP
  local c=$1 target=$2 rep=$3 use_tls=0 rate_limit=0 auth=none spec mode conns streams size rest="" want extra=()
  case $c in tls) use_tls=1 ;; tlsup) use_tls=2 ;; mtls) use_tls=3 ;; ratelimit16) rate_limit=1 ;; jwtrl16) auth=jwt ;; esac
  sy_edge=0
  if is_edge_case "$c"; then edge_descriptor; sy_edge=1; fi
  if ! start_target "$target" "$use_tls" "$rate_limit" "$auth"; then
    echo "case=$c target=$target rep=$rep verify=FAIL:proxy_did_not_start" >>"$raw"
    return 0
  fi
  if [ "$c" = h2load16 ] || is_edge_case "$c"; then
    h2load_run "$c" "$target" "$rep"
    stop_target
    return 0
  fi
  spec=$(case_spec "$c")
  read -r mode conns streams size rest <<<"$spec"
  [ -n "${rest:-}" ] && read -r -a extra <<<"$rest"
  local args=(--target "127.0.0.1:$tgt_port" --mode "$mode" --conns "$conns" --streams "$streams"
              --size "$size" --duration "$duration" --warmup "$warmup" --backend-pid "$be_pid")
  [ -n "$tgt_pid" ] && args+=(--proxy-pid "$tgt_pid")
  ((use_tls)) && args+=(--ca "$tls/ca.crt" --authority localhost)
  ((use_tls == 3)) && args+=(--cert "$tls/client.crt" --key "$tls/client.key")
  [ "$auth" != none ] && args+=(--metadata "authorization=Bearer $jwt_token")
  local before after result rc=0 outf=$work/load.out
  before=$(backend_counts)
  timeout $((120 + ${duration%.*} * 3 + big_mib / (slow_rate > 0 ? slow_rate : 1) * 2)) \
    "${load_cpus[@]}" "$LOAD" "${args[@]}" "${extra[@]}" >"$outf" 2>"$work/load.err" || rc=$?
  result=$(grep '^RESULT ' "$outf" | tail -1 | sed 's/^RESULT //')
  local ok msgs key verify=ok be_delta=0 i
  ok=$(count_of "$result" ok); msgs=$(count_of "$result" msgs)
  # What the backend must have completed for this client's view to be true.
  case $mode in
    unary|latency) key=unary; want=$ok ;;
    stream|slowread) key=stream_msgs; want=$msgs ;;
    bidi) key=bidi_msgs; want=$msgs ;;
    *) key=""; want=0 ;;
  esac
  if [ -n "$key" ]; then
    for ((i = 0; i < 50; i++)); do
      after=$(backend_counts)
      be_delta=$(($(count_of "$after" "$key") - $(count_of "$before" "$key")))
      ((be_delta >= want)) && break
      sleep 0.05
    done
    ((be_delta != want)) && verify="FAIL:backend_${key}_${be_delta}_client_$want"
  fi
  [ -z "$result" ] && verify="FAIL:no_result_rc_$rc"
  (($(count_of "$result" failed) > 0)) && verify="FAIL:$(count_of "$result" failed)_failed"
  ((rc != 0)) && [[ $verify == ok ]] && verify="FAIL:load_exit_$rc"
  if [[ $verify != ok ]]; then
    sed 's/^/  load: /' "$work/load.err" | sort -u | awk 'NR <= 5' >&2
  fi
  echo "case=$c target=$target rep=$rep verify=$verify backend=$be_delta $result" >>"$raw"
  log "$c $target #$rep: $verify $(grep -o 'rate=[^ ]*' <<<"$result") $(grep -o 'proxy_cpu_us_per_unit=[^ ]*' <<<"$result")"
  stop_target
}

# callgrind: Switchyard (workers: 1) under valgrind; instrumentation is
# switched on only around the load, so start-up is not counted.
callgrind_run() {  # callgrind_run TARGET (sy-1 or sy-1-nolog) [RATE_LIMIT(0|1)] [AUTH]
  local target=$1 rate_limit=${2:-0} auth=${3:-none} cg_case=callgrind meta=() json=0 cg_tls=0 cg_size=16
  local cg_load=(--mode unary --conns 1 --streams 8) cg_key=unary
  sy_edge=0  # the callgrind cases measure native gRPC, but for callgrind-json
  ((rate_limit)) && cg_case=callgrind-ratelimit
  case $auth in
    jwt) cg_case=callgrind-jwtrl ;;
    jwt-nocache) cg_case=callgrind-jwtrl-nocache ;;
    json) cg_case=callgrind-json json=1 auth=none sy_edge=1; edge_descriptor ;;
    tls) cg_case=callgrind-tls cg_tls=1 auth=none ;;
    tlsup) cg_case=callgrind-tlsup cg_tls=2 auth=none ;;
    64k) cg_case=callgrind-64k cg_size=65536 auth=none ;;
    stream) cg_case=callgrind-stream cg_size=1024 auth=none cg_key=stream_msgs
            cg_load=(--mode stream --conns 1 --streams 4 --stream-count 1000) ;;
  esac
  ((cg_tls)) && meta=(--ca "$tls/ca.crt" --authority localhost)
  [ "$auth" != none ] && meta=(--metadata "authorization=Bearer $jwt_token")
  if ! command -v valgrind >/dev/null; then
    echo "case=$cg_case target=$target rep=1 verify=FAIL:valgrind_missing" >>"$raw"; return 0
  fi
  local dir=$work/$cg_case-$target
  mkdir -p "$dir"
  SY_WRAPPER="valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$dir/callgrind.out" \
    start_target "$target" "$cg_tls" "$rate_limit" "$auth" || { echo "case=$cg_case target=$target rep=1 verify=FAIL:did_not_start" >>"$raw"; return 0; }
  local vg_pid=$tgt_pid before after rc=0 result f ir=0
  callgrind_control -i on "$vg_pid" >/dev/null 2>&1 || true
  before=$(backend_counts)
  if ((json)); then
    # The h2load-json16 request, a fixed number of times; "RESULT ok=N" like the load tool's.
    local frame=$work/callgrind-json.req ok=0
    printf '{"data":"eHh4eHh4eHh4eHh4eHh4eA=="}' >"$frame"
    timeout 180 h2load -n 3000 -c 1 -m 8 -t 1 -d "$frame" -H 'content-type: application/json' \
      "http://127.0.0.1:$tgt_port/v1/bench/unary" >"$work/load.err" 2>&1 || rc=$?
    ok=$(awk '/^status codes:/ { print $3 + 0; exit }' "$work/load.err")
    echo "RESULT ok=${ok:-0}" >"$work/load.out"
  else
    timeout 180 "$LOAD" --target "127.0.0.1:$tgt_port" "${cg_load[@]}" --size "$cg_size" \
      --duration 3 --warmup 0.5 "${meta[@]}" >"$work/load.out" 2>"$work/load.err" || rc=$?
  fi
  after=$(backend_counts)
  # Dump the counters of the instrumented stretch before stopping the daemon.
  callgrind_control -d "$vg_pid" >/dev/null 2>&1 || true
  callgrind_control -i off "$vg_pid" >/dev/null 2>&1 || true
  stop_target
  result=$(grep '^RESULT ' "$work/load.out" | tail -1 | sed 's/^RESULT //')
  # Units: RPCs, or streamed messages for callgrind-stream.
  local rpcs=$(($(count_of "$after" $cg_key) - $(count_of "$before" $cg_key)))
  local client_units=$(count_of "$result" ok)
  [ "$cg_key" = stream_msgs ] && client_units=$(count_of "$result" msgs)
  # Sum the "totals:" line of every dump ("summary:" can be garbage in an
  # empty final dump).
  ir=$(cat "$dir"/callgrind.out* 2>/dev/null | awk '/^totals:/ { s += $2 } END { printf "%d", s }')
  local verify=ok
  ((rc != 0)) && verify="FAIL:load_exit_$rc"
  ((ir == 0)) && verify="FAIL:no_callgrind_output"
  ((rpcs != client_units)) && verify="FAIL:backend_${rpcs}_client_$client_units"
  local extra=""
  if [ "$target" = sy-1 ] && [ "$cg_key" = unary ]; then
    local lines=$(cat "$work/$target"/access.log 2>/dev/null | wc -l)
    ((lines < rpcs)) && verify="FAIL:access_log_${lines}_lines_for_${rpcs}_rpcs"
    # The access log's own cost, independent of how busy the machine was:
    # instructions inside Rpc::logAccess (record, format, buffer) plus the
    # batch writes (AccessLogBuffer::flush), inclusive of what they call.
    local log_ir
    log_ir=$(for f in "$dir"/callgrind.out.[0-9]*; do
      [ -s "$f" ] && callgrind_annotate --inclusive=yes --auto=no --threshold=100 "$f" 2>/dev/null
    done | awk '/Rpc::logAccess\(\)|AccessLogBuffer::flush\(\)/ { gsub(",", "", $1); s += $1 } END { printf "%d", s }')
    extra="log_instructions=$log_ir log_ir_per_rpc=$(( rpcs > 0 ? log_ir / rpcs : 0 ))"
  fi
  echo "case=$cg_case target=$target rep=1 verify=$verify backend=$rpcs rpcs=$rpcs instructions=$ir ir_per_rpc=$(( rpcs > 0 ? ir / rpcs : 0 )) $extra $result" >>"$raw"
  log "callgrind $target: $ir instructions over $rpcs RPCs"
  # Keep the top functions for docs/performance.md.
  for f in "$dir"/callgrind.out.[0-9]*; do
    if [ -s "$f" ]; then
      echo "== $target" >>"$work/callgrind.top"
      callgrind_annotate --auto=no "$f" 2>/dev/null | awk 'NR <= 60' >>"$work/callgrind.top" || true
    fi
  done
  true
}

# callgrind-h2floor: nghttp2's own cost for one unary exchange through a proxy
# (bench/h2_floor.cc). One run gives each party's inclusive instructions; a
# second counts only the proxy's two sessions, grouped by library.
h2floor_run() {
  local iters=5000 dir=$work/callgrind-h2floor verify=ok
  mkdir -p "$dir"
  if ! command -v valgrind >/dev/null; then
    echo "case=callgrind-h2floor target=h2floor rep=1 verify=FAIL:valgrind_missing" >>"$raw"; return 0
  fi
  if [ ! -x "$H2FLOOR" ]; then
    echo "case=callgrind-h2floor target=h2floor rep=1 verify=FAIL:missing_sy_bench_h2_floor" >>"$raw"; return 0
  fi
  valgrind --tool=callgrind --callgrind-out-file="$dir/all.out" "$H2FLOOR" --iterations "$iters" \
    >"$dir/all.txt" 2>"$dir/all.err" || verify=FAIL:h2floor_exit
  grep -q "^RESULT iterations=$iters ok=$iters " "$dir/all.txt" || verify=FAIL:exchanges_incomplete
  # Inclusive instructions of each party's functions (see h2_floor.cc).
  local party
  party=$(callgrind_annotate --inclusive=yes --auto=no --threshold=100 "$dir/all.out" 2>/dev/null | awk '
    { gsub(",", "", $1) }
    /ProxySide::work\(/ { p += $1 } /ClientSide::(work|start)\(/ { c += $1 } /BackendSide::work\(/ { b += $1 }
    END { printf "%d %d %d", p, c, b }')
  local proxy_ir client_ir backend_ir
  read -r proxy_ir client_ir backend_ir <<<"$party"
  valgrind --tool=callgrind --toggle-collect='*ProxySide::work*' --callgrind-out-file="$dir/proxy.out" \
    "$H2FLOOR" --iterations "$iters" >/dev/null 2>&1 || verify=FAIL:h2floor_exit
  local libs
  libs=$(callgrind_annotate --auto=no --threshold=100 "$dir/proxy.out" 2>/dev/null | awk '
    /PROGRAM TOTALS/ { gsub(",", "", $1); t = $1; next }
    /^ *[0-9,]+ / { gsub(",", "", $1); if ($NF ~ /libnghttp2/) n += $1; else if ($NF ~ /libc\.so/) c += $1 }
    END { printf "%d %d %d", n, c, t - n - c }')
  local p_ng p_libc p_other
  read -r p_ng p_libc p_other <<<"$libs"
  ((proxy_ir > 0)) || verify=FAIL:no_callgrind_output
  echo "case=callgrind-h2floor target=h2floor rep=1 verify=$verify exchanges=$iters" \
    "proxy_ir_per_exchange=$((proxy_ir / iters)) client_ir_per_exchange=$((client_ir / iters))" \
    "backend_ir_per_exchange=$((backend_ir / iters)) proxy_nghttp2_ir=$((p_ng / iters))" \
    "proxy_libc_ir=$((p_libc / iters)) proxy_other_ir=$((p_other / iters))" >>"$raw"
  log "callgrind-h2floor: proxy sessions $((proxy_ir / iters)) instructions per exchange (nghttp2 $((p_ng / iters)))"
  {
    echo "== h2floor (proxy sessions only)"
    callgrind_annotate --auto=no "$dir/proxy.out" 2>/dev/null | awk 'NR <= 60'
  } >>"$work/callgrind.top" || true
}

# --- run ------------------------------------------------------------------------
IFS=, read -r -a case_list <<<"$cases"
IFS=, read -r -a target_list <<<"$targets"
log "work dir $work; backend pid $be_pid on :$be_port (tls :$be_tls_port)"
log "cases: ${case_list[*]}; targets: ${target_list[*]}; duration ${duration}s, warmup ${warmup}s, repeat $repeat"
for c in "${case_list[@]}"; do
  if [ "$c" = callgrind-h2floor ]; then h2floor_run; continue; fi
  if [ "$c" = callgrind ]; then
    for t in "${target_list[@]}"; do
      if [[ $t == sy-1 || $t == sy-1-nolog ]]; then callgrind_run "$t"; fi
    done
    continue
  fi
  if [ "$c" = callgrind-ratelimit ]; then
    for t in "${target_list[@]}"; do
      if [ "$t" = sy-1 ]; then callgrind_run "$t" 1; fi
    done
    continue
  fi
  if [ "$c" = callgrind-json ]; then
    for t in "${target_list[@]}"; do
      if [ "$t" = sy-1 ]; then callgrind_run "$t" 0 json; fi
    done
    continue
  fi
  if [ "$c" = callgrind-tls ]; then
    for t in "${target_list[@]}"; do
      if [ "$t" = sy-1 ]; then callgrind_run "$t" 0 tls; fi
    done
    continue
  fi
  if [ "$c" = callgrind-tlsup ]; then
    for t in "${target_list[@]}"; do
      if [ "$t" = sy-1 ]; then callgrind_run "$t" 0 tlsup; fi
    done
    continue
  fi
  if [ "$c" = callgrind-64k ]; then
    for t in "${target_list[@]}"; do
      if [ "$t" = sy-1 ]; then callgrind_run "$t" 0 64k; fi
    done
    continue
  fi
  if [ "$c" = callgrind-stream ]; then
    for t in "${target_list[@]}"; do
      if [ "$t" = sy-1 ]; then callgrind_run "$t" 0 stream; fi
    done
    continue
  fi
  if [ "$c" = callgrind-jwtrl ]; then
    for t in "${target_list[@]}"; do
      if [ "$t" = sy-1 ]; then callgrind_run "$t" 0 jwt; callgrind_run "$t" 0 jwt-nocache; fi
    done
    continue
  fi
  if [ "$c" = openloop ]; then
    for t in "${target_list[@]}"; do
      # Closed-loop unary16 once first where this run has not measured it.
      [ "$(saturating_rate "$t")" = 0 ] && measure unary16 "$t" 1
    done
    for ((rep = 1; rep <= repeat; rep++)); do
      for t in "${target_list[@]}"; do openloop_runs "$t" "$rep"; done
    done
    continue
  fi
  [ "$c" = h2load16 ] || is_edge_case "$c" || case_spec "$c" >/dev/null || { echo "bench: unknown case $c" >&2; exit 2; }
  for ((rep = 1; rep <= repeat; rep++)); do
    for t in "${target_list[@]}"; do
      # Nothing to measure without a proxy in these cases.
      if [ "$t" = direct ] && [[ $c == idle || $c == bigstream ]]; then continue; fi
      # Two workers are for the multi-core comparison: unary16 (and openloop) only.
      if [[ $t == sy-2* && $c != unary16 ]]; then continue; fi
      # The rate limit is Switchyard's own: other targets would repeat unary16.
      if [[ $c == ratelimit16 || $c == jwtrl16 ]] && [[ $t != sy-* ]]; then continue; fi
      # gRPC-Web and JSON transcoding are Switchyard's own.
      if is_edge_case "$c" && [[ $t != sy-* ]]; then continue; fi
      measure "$c" "$t" "$rep"
    done
  done
done

versions=$work/versions.txt
{
  echo "switchyard=$("$SY" --version | awk '{print $2}')"
  echo "nginx=$(nginx -v 2>&1 | sed 's|.*nginx/||')"
  echo "haproxy=$(haproxy -v | awk 'NR == 1 {print $3}')"
  echo "nghttpx=$(nghttpx --version | awk '{print $2}' | sed 's|nghttp2/||')"
  echo "h2load=$(h2load --version | awk '{print $2}' | sed 's|nghttp2/||')"
  echo "grpc=$(dpkg-query -W -f='${Version}' libgrpc++-dev 2>/dev/null)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  echo "nproc=$(nproc)"
  echo "pinned=$( ((${#proxy_cpus[@]})) && echo "yes (${proxy_cpus[*]} / ${load_cpus[*]})" || echo no)"
  echo "kernel=$(uname -r)"
  echo "duration=$duration"
  echo "warmup=$warmup"
  echo "repeat=$repeat"
  echo "commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$versions"
mkdir -p "$(dirname "$out")"
python3 "$root/bench/report.py" "$raw" "$versions" >"$out"
cp "$raw" "${out%.md}.raw.txt"
[ -f "$work/callgrind.top" ] && cp "$work/callgrind.top" "${out%.md}.callgrind.txt"
cat "$out"
if grep -q 'verify=FAIL' "$raw"; then
  log "some runs FAILED verification (see the table)"
  exit 1
fi
