#!/usr/bin/env bash
# Measures one `regforge terraform` call (process start, parse, render one Butane target with
# 3 registries, print) against the machine's bare process start (/bin/true) and
# `kubectl create secret … --dry-run`: mean CPU time per run (perf stat) and, where valgrind
# is installed, the instructions of one call (callgrind; repeatable whatever the load).
# Usage: bench/terraform.sh [RUNS]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=$PWD/target/release/regforge
runs=${1:-300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'pw\n' > pw
cat > regforge.yaml <<'YAML'
registries:
  - {address: quay.io, username: myapp+deployment, password: {file: pw}}
  - {address: docker.io, username: octocat, password: {file: pw}}
  - {address: registry.example.com:5000, username: johndoe, password: {file: pw}}
targets:
  - name: node
    format: butane
    variant: flatcar
    version: 1.0.0
    files:
      - {document: docker-config, path: /home/core/.docker/config.json, user: core, group: core}
YAML
printf '{"target":"node"}' > query.json
"$bin" terraform < query.json > /dev/null   # fails loudly if the call does

# Each run gets its own stdin through sh -c; the baseline pays the same sh.
mean_ms() {
  perf stat -r "$1" -x, -e task-clock sh -c "$2 < query.json > /dev/null 2>&1" 2>&1 | tail -1 | cut -d, -f1
}
true_ms=$(mean_ms "$runs" /bin/true)
tf_ms=$(mean_ms "$runs" "$bin terraform")
printf '%-28s %8s ms\n' "/bin/true" "$true_ms" "regforge terraform" "$tf_ms"
if command -v kubectl > /dev/null; then
  k_ms=$(mean_ms 20 "kubectl create secret docker-registry x --docker-server=q --docker-username=u --docker-password=p --dry-run=client -o yaml")
  printf '%-28s %8s ms\n' "kubectl create secret" "$k_ms"
  awk -v t="$tf_ms" -v k="$k_ms" 'BEGIN { printf "kubectl / regforge: %.1f×\n", k / t }'
fi
awk -v t="$tf_ms" -v b="$true_ms" 'BEGIN { printf "regforge over /bin/true: %.2f ms\n", t - b }'
if command -v valgrind > /dev/null; then
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" terraform < query.json 2>&1 >/dev/null \
    | sed -n 's/.*Collected : \([0-9]*\)/instructions per call: \1/p'
fi
