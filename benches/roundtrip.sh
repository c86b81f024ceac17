#!/usr/bin/env bash
# The round trip of docs/traces.md with a known truth: each example is
# emulated with traces written, driven at half its maximum sustainable
# throughput for SECONDS, and the traces imported; then the original
# project (at the traced rate) and the imported one are simulated with the
# same seed and length, and their p50 and p99 compared.
#
#   bash benches/roundtrip.sh [SECONDS] [ROUNDS]   (default 60 1)
#
# Prints, per example and round: the host's steal time during the load,
# the measured p50/p99, both projects' simulated p50/p99 and the imported
# project's difference from the original's.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
rounds=${2:-1}
bin=target/release/archbench
[ -x "$bin" ] || cargo build --release --quiet
dir=${ROUNDTRIP_DIR:-$(mktemp -d)}

# Half of `archbench sweep FILE --rate auto`'s maximum sustainable
# throughput (1,143 and 2,361 req/s).
examples=("ml-inference.ron 571" "three-tier.ron 1180")

quantiles() { # FILE [simulate options...] -> "p50 p99" in ms
  "$bin" simulate "$@" --seed 1 --duration 120s --format json |
    python3 -c 'import json,sys; l=json.load(sys.stdin)["scenarios"][0]["latency_ms"]; print(l["p50"], l["p99"])'
}

for round in $(seq "$rounds"); do
  for example in "${examples[@]}"; do
    read -r file rate <<< "$example"
    traces="$dir/$file.jsonl"
    rm -f "$traces"
    "$bin" emulate "projects/$file" --traces "$traces" --duration "$((seconds + 6))s" > "$dir/emulate.out" 2>&1 &
    emulator=$!
    sleep 2
    url=$(grep "enters at" "$dir/emulate.out" | head -1 | sed 's/.*: //')
    "$bin" load "$url" --rate "$rate" --duration "${seconds}s" --format json > "$dir/load.json"
    wait "$emulator"
    "$bin" import "$traces" -o "$dir/imported.ron" 2> "$dir/import.err"
    read -r o50 o99 <<< "$(quantiles "projects/$file" --rate "$rate")"
    read -r i50 i99 <<< "$(quantiles "$dir/imported.ron")"
    python3 - "$dir/load.json" "$round" "$file" "$o50" "$o99" "$i50" "$i99" <<'PY'
import json, sys
load = json.load(open(sys.argv[1]))
rnd, name = sys.argv[2], sys.argv[3]
o50, o99, i50, i99 = map(float, sys.argv[4:8])
lat = load["latency_ms"]
steal = load.get("steal_ms")
steal = "?" if steal is None else f"{steal / 1000:.1f} s"
print(f"round {rnd}  {name:17} steal {steal:>6}  measured p50 {lat['p50']:6.2f} p99 {lat['p99']:6.2f}  "
      f"simulated: original p50 {o50:6.2f} p99 {o99:6.2f}, imported p50 {i50:6.2f} p99 {i99:6.2f} "
      f"({(i50 / o50 - 1) * 100:+.1f}%, {(i99 / o99 - 1) * 100:+.1f}%)")
PY
  done
done
