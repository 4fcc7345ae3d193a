#!/usr/bin/env bash
# Static checks of the deployment files that need no cluster or Docker daemon:
#   * the config embedded in deploy/kubernetes/configmap.yaml passes
#     `switchyard --check-config`;
#   * terminationGracePeriodSeconds > preStop sleep + drain_timeout;
#   * the manifests render with `kubectl kustomize` (when kubectl is installed);
#   * the Grafana dashboard is valid JSON, its PromQL parses (promtool), and
#     every metric it queries is documented in docs/metrics.md;
#   * the Dockerfile exposes the documented ports and has a HEALTHCHECK.
#
# Usage: tests/deploy/manifests_check.sh [path/to/switchyard]
# Exit status: 0 ok, 1 problems found, 77 skipped (binary missing).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-${BUILD_DIR:-$root/build}/switchyard}
k8s="$root/deploy/kubernetes"
dash="$root/deploy/grafana/switchyard-dashboard.json"
if [ ! -x "$bin" ]; then
  echo "SKIP: switchyard binary not found at $bin (build it first or pass its path)"
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
problem() {
  echo "FAIL: $*"
  fail=1
}

# --- configmap: the embedded switchyard.yaml (the block scalar, de-indented) ---
awk '/^  switchyard.yaml: \|/ {on=1; next}
     on && /^[^ ]/ {on=0}
     on {sub(/^    /, ""); print}' "$k8s/configmap.yaml" > "$tmp/switchyard.yaml"
[ -s "$tmp/switchyard.yaml" ] || problem "no switchyard.yaml block in configmap.yaml"
if ! out=$("$bin" --check-config --config "$tmp/switchyard.yaml" 2>&1); then
  problem "configmap.yaml's switchyard.yaml is rejected:"
  printf '%s\n' "$out"
fi

# --- shutdown budget ---
seconds() {  # "25s" / "1m" / "1m30s" -> seconds
  local v=$1 total=0
  while [[ $v =~ ^([0-9]+)(m|s)(.*)$ ]]; do
    if [ "${BASH_REMATCH[2]}" = m ]; then total=$((total + BASH_REMATCH[1] * 60)); else total=$((total + BASH_REMATCH[1])); fi
    v=${BASH_REMATCH[3]}
  done
  [ -z "$v" ] && echo "$total"
}
drain=$(sed -n 's/^drain_timeout:[[:space:]]*\([0-9ms]*\).*/\1/p' "$tmp/switchyard.yaml" | head -n1)
drain_s=$(seconds "${drain:-30s}") || drain_s=
grace=$(sed -n 's/^[[:space:]]*terminationGracePeriodSeconds:[[:space:]]*\([0-9]*\).*/\1/p' "$k8s/deployment.yaml")
prestop=$(grep -A3 'preStop:' "$k8s/deployment.yaml" | sed -n 's/.*"sleep", "\([0-9]*\)".*/\1/p')
if [ -z "$drain_s" ] || [ -z "$grace" ] || [ -z "$prestop" ]; then
  problem "cannot read drain_timeout ($drain), terminationGracePeriodSeconds ($grace) or preStop sleep ($prestop)"
elif [ "$grace" -le $((prestop + drain_s)) ]; then
  problem "terminationGracePeriodSeconds=$grace must exceed preStop sleep $prestop + drain_timeout ${drain_s}s"
fi
for probe in 'path: /ready' 'path: /healthz'; do
  grep -q "$probe" "$k8s/deployment.yaml" || problem "deployment.yaml has no probe with $probe"
done
grep -q 'address: 0.0.0.0:9901' "$tmp/switchyard.yaml" ||
  problem "the in-cluster admin address must bind 0.0.0.0:9901 for kubelet probes"

# --- kustomize render (offline) ---
if command -v kubectl >/dev/null 2>&1; then
  if ! out=$(kubectl kustomize "$k8s" 2>&1); then
    problem "kubectl kustomize failed:"
    printf '%s\n' "$out"
  fi
fi

# --- Grafana dashboard ---
if command -v python3 >/dev/null 2>&1; then
  if ! python3 - "$dash" "$root/docs/metrics.md" "$tmp/rules.yml" <<'PY'; then
import json, re, sys
dash_path, doc_path, rules_path = sys.argv[1:4]
d = json.load(open(dash_path))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
exprs += [a["expr"] for a in d.get("annotations", {}).get("list", []) if "expr" in a]
doc = open(doc_path).read()
bad = False
for name in sorted({m for e in exprs for m in re.findall(r"\bswitchyard_[a-z0-9_]+", e)}):
    base = re.sub(r"_(bucket|sum|count)$", "", name) if name.startswith("switchyard_grpc_server_handling_seconds") else name
    if "`" + base + "`" not in doc:
        print(f"FAIL: dashboard queries {name}, which docs/metrics.md does not document")
        bad = True
with open(rules_path, "w") as f:
    f.write("groups:\n- name: dashboard\n  rules:\n")
    for i, e in enumerate(exprs):
        for var, val in (("$__rate_interval", "5m"), ("$instance", ".*"), ("$cluster", ".*"), ("$service", ".*")):
            e = e.replace(var, val)
        f.write(f"  - record: dashboard:expr{i}\n    expr: {json.dumps(e)}\n")
sys.exit(1 if bad else 0)
PY
    fail=1
  fi
  if command -v promtool >/dev/null 2>&1 && [ -s "$tmp/rules.yml" ]; then
    if ! out=$(promtool check rules "$tmp/rules.yml" 2>&1); then
      problem "dashboard PromQL does not parse:"
      printf '%s\n' "$out"
    fi
  fi
else
  echo "note: python3 not installed; dashboard checks skipped"
fi

# --- Dockerfile ---
grep -q '^EXPOSE 8080 8443 9901$' "$root/Dockerfile" || problem "Dockerfile must EXPOSE 8080 8443 9901"
grep -q '^HEALTHCHECK ' "$root/Dockerfile" || problem "Dockerfile has no HEALTHCHECK"
grep -q '^USER [0-9]' "$root/Dockerfile" || problem "Dockerfile must switch to a numeric non-root USER"

if [ "$fail" -eq 0 ]; then
  echo "OK: deployment files checked"
fi
exit "$fail"
