#!/usr/bin/env bash
# Installs every Debian 12 package Switchyard needs to build, test and run.
# Idempotent: packages already present are left alone.
set -euo pipefail

# SY_DEPS=build installs only what building the daemon needs (the container
# image's build stage); the default adds the test tools.
packages=(
  build-essential cmake pkg-config ca-certificates openssl
  libevent-dev libssl-dev libnghttp2-dev libyaml-cpp-dev libspdlog-dev
  prometheus-cpp-dev libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libsystemd-dev libre2-dev libhttp-parser-dev
)
if [[ ${SY_DEPS:-all} != build ]]; then
  packages+=(
    libgtest-dev libgmock-dev
    # test tools: promtool (metrics format), systemd-analyze (unit file check),
    # buildah and debootstrap (the container image is built and run),
    # logrotate (deploy/logrotate/switchyard is run against the daemon)
    prometheus systemd buildah debootstrap logrotate
    # fuzzing (scripts/fuzz.sh): clang with libFuzzer; seed generation: python3-h2
    clang-14 libclang-rt-14-dev python3-h2
    # gRPC-Web tests: curl as a client; headless Chromium driven by puppeteer-core
    # (npm, installed by the browser test into the build directory);
    # maintained gRPC clients from npm (tests/integration/node: reflection)
    # (npm is added below only where node has none of its own)
    curl chromium nodejs
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's nodejs comes without npm (a separate package); other nodejs builds
# carry their own, which the npm package would conflict with.
if [[ ${SY_DEPS:-all} != build ]] && ! command -v npm > /dev/null; then
  missing+=(npm)
fi
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
