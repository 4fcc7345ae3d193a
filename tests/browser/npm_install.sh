#!/usr/bin/env bash
# Installs the browser test's npm packages (tests/browser/package.json) into
# DEST/node_modules, a folder of the build directory, once: a second run with
# an unchanged package.json does nothing. Exit 77 if node or npm is missing.
set -euo pipefail
src=$1
dest=$2
command -v node >/dev/null && command -v npm >/dev/null || { echo "node/npm not installed"; exit 77; }
mkdir -p "$dest"
if [[ -d $dest/node_modules ]] && cmp -s "$src/package.json" "$dest/package.json"; then
  echo "browser test packages already installed in $dest"
  exit 0
fi
cp "$src/package.json" "$dest/package.json"
cd "$dest"
npm install --no-audit --no-fund --loglevel=error
