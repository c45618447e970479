#!/usr/bin/env bash
# Runs the start, session-IO and proxy benches for two checkouts in turns
# (A B B A), so background load hits both alike, and keeps each report:
#   bash bench/side-by-side.sh /path/to/other/checkout [out-dir]
# Both checkouts must be built (`npm run build`). "A" is the other checkout
# (usually the code before a change), "B" this one. Compare each bench's
# ratio lines (they are against a reference measured in the same run) and
# absolute figures between A and B.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
other=$(cd "${1:?usage: side-by-side.sh OTHER_CHECKOUT [OUT_DIR]}" && pwd)
out=${2:-$(mktemp -d /tmp/nimbus-side-by-side-XXXXXX)}
mkdir -p "$out"
benches=(
  "sandbox-start/api.mjs --runs 20 --rounds 2 --idle 5"
  "session-io/run.mjs --rtts 1000 --mib 256 --opens 50"
  "service-proxy/run.mjs --requests 300 --rounds 3"
)
for b in "${benches[@]}"; do
  name=${b%%/*}
  for turn in A B B A; do
    dir=$([ "$turn" = A ] && echo "$other" || echo "$here")
    n=$(ls "$out" | grep -c "^$name-$turn" || true)
    log="$out/$name-$turn$((n + 1)).log"
    echo "== $name ($turn: $dir) → $log"
    (cd "$dir" && node bench/$b) >"$log" 2>&1 || echo "   (exit $?; see the log)"
  done
done
echo "reports in $out"
