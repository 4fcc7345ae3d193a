#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries a binary links
# directly (its ELF NEEDED entries), one per line, sorted. The Dockerfile's
# runtime stage installs exactly these, so the list follows the binary.
#
#   scripts/runtime-packages.sh build/switchyard
set -euo pipefail
bin=${1:?usage: runtime-packages.sh BINARY}
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
[ -n "$needed" ] || { echo "runtime-packages: $bin has no NEEDED entries" >&2; exit 1; }
libs=$(ldd "$bin")
for so in $needed; do
  path=$(awk -v so="$so" '$1 == so && $2 == "=>" {print $3}' <<<"$libs")
  if [ -z "$path" ] || [ ! -e "$path" ]; then
    echo "runtime-packages: $so is not installed here" >&2
    exit 1
  fi
  real=$(readlink -f "$path")
  # dpkg knows each file under one spelling: /lib or /usr/lib (merged /usr),
  # the soname link or the real file.
  owner=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$real" 2>/dev/null ||
          dpkg -S "*/$(basename "$real")" 2>/dev/null) ||
    { echo "runtime-packages: no package holds $path" >&2; exit 1; }
  # "pkg:arch: /path" (or "pkg1, pkg2: /path"): one package is enough.
  head -n1 <<<"$owner" | sed 's/: .*//; s/,.*//; s/:.*//'
done | sort -u
