#!/usr/bin/env bash
# Measures `regforge render` on generated inventories: N Butane targets × 3 registries,
# each target placing a docker-config remotely (sha512 + artifact) and a dockercfg inline.
# Reports wall time and peak RSS per size, and the growth from the smallest to the largest.
# Every measured render runs under `ulimit -n 256` (DESIGN.md: fleets render with 256
# descriptors) and its file count is checked.
# Usage: bench/render.sh [N...]   (default: 1000 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
bin=target/release/regforge
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes=("${@:-1000 10000}")
[ $# -gt 0 ] || sizes=(1000 10000)

generate() {
  local n=$1 dir=$2
  mkdir -p "$dir"
  printf 'pw-quay\n' > "$dir/quay.pw"; printf 'pw-hub\n' > "$dir/hub.pw"; printf 'pw-example\n' > "$dir/ex.pw"
  {
    echo "registries:"
    echo "  - {address: quay.io, username: myapp+deployment, password: {file: quay.pw}}"
    echo "  - {address: docker.io, username: octocat, password: {file: hub.pw}}"
    echo "  - {address: registry.example.com:5000, username: johndoe, password: {file: ex.pw}}"
    echo "targets:"
    for i in $(seq 1 "$n"); do
      cat <<T
  - name: node-$i
    format: butane
    variant: flatcar
    version: 1.0.0
    remote: {url: http://infra.example.com/regforge/}
    files:
      - {document: docker-config, path: /home/core/.docker/config.json, user: core, group: core, delivery: remote}
      - {document: dockercfg, path: /home/core/.dockercfg, user: core, group: core}
T
    done
  } > "$dir/regforge.yaml"
}

printf '%-8s %10s %12s\n' targets wall_s peak_rss_kib
declare -A wall
for n in "${sizes[@]}"; do
  generate "$n" "$work/$n"
  # Warm the page cache once, then measure.
  "$bin" -i "$work/$n/regforge.yaml" render --out-dir "$work/$n/out" 2>/dev/null
  rm -rf "$work/$n/out"
  ( ulimit -n 256
    exec /usr/bin/time -f '%e %M' -o "$work/time" "$bin" -i "$work/$n/regforge.yaml" render --out-dir "$work/$n/out" 2>/dev/null )
  files=$(find "$work/$n/out" -type f | wc -l)
  [ "$files" -eq $((n + 1)) ] || { echo "node count $n: $files files written, expected $((n + 1))" >&2; exit 1; }
  read -r secs rss < "$work/time"
  wall[$n]=$secs
  printf '%-8s %10s %12s\n' "$n" "$secs" "$rss"
done
if [ ${#sizes[@]} -ge 2 ]; then
  first=${sizes[0]}; last=${sizes[-1]}
  awk -v a="${wall[$first]}" -v b="${wall[$last]}" -v na="$first" -v nb="$last" \
    'BEGIN { if (a > 0) printf "time ratio %s→%s targets: %.1f× for %.0f× the work\n", na, nb, b / a, nb / na }'
fi
