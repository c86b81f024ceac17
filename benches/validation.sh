#!/usr/bin/env bash
# The accuracy table of docs/validation.md: `archbench validate` on the
# examples (three-tier, ml-inference, both scenarios of
# monolith-vs-microservices) at 30%, 60% and 85% of each one's maximum
# sustainable throughput, DURATION seconds each (default 60), one after
# another with nothing else running. Writes each JSON report to OUT
# (default target/validation) and the Markdown tables to stdout.
#
# A point measured while the machine's host took more than STEAL_LIMIT ms
# of CPU (steal time, default 1% of two cores over the run) says more about
# the host than about archbench: it is run again, up to TRIES times in all
# (default 3), and the run with the least steal is kept, its steal shown in
# the table. Nothing else about a run decides whether it is kept.
#
#   bash benches/validation.sh > /tmp/table.md     (about 15 minutes)
#   DURATION=20 LOADS="0.6" bash benches/validation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60}
LOADS=${LOADS:-"0.3 0.6 0.85"}
TRIES=${TRIES:-3}
# 1% of two cores over the run and its warm-up (at most a tenth more), ms.
STEAL_LIMIT=${STEAL_LIMIT:-$(( DURATION * 22 ))}
OUT=${OUT:-target/validation}
mkdir -p "$OUT"
cargo build --release --quiet
bin=target/release/archbench
runs=(
  "projects/three-tier.ron baseline"
  "projects/ml-inference.ron cached"
  "projects/monolith-vs-microservices.ron monolith"
  "projects/monolith-vs-microservices.ron microservices"
)
for run in "${runs[@]}"; do
  read -r file scenario <<<"$run"
  for load in $LOADS; do
    name="$(basename "$file" .ron)-$scenario-$load"
    best=""
    for try in $(seq 1 "$TRIES"); do
      echo "validating $name (run $try)" >&2
      # Exit 3 (a tolerance exceeded) still writes the report.
      "$bin" validate "$file" --scenario "$scenario" --load "$load" \
        --duration "${DURATION}s" --format json \
        --tolerance 'throughput=2%,p50=10%,p99=20%' \
        --output "$OUT/$name.try$try.json" || [ $? -eq 3 ]
      steal=$(python3 -c "import json,sys; print(int(json.load(open(sys.argv[1]))['steal_ms'] or 0))" "$OUT/$name.try$try.json")
      echo "  steal $steal ms (limit $STEAL_LIMIT)" >&2
      if [ -z "$best" ] || [ "$steal" -lt "$best_steal" ]; then
        best="$OUT/$name.try$try.json" best_steal=$steal
      fi
      [ "$steal" -le "$STEAL_LIMIT" ] && break
    done
    cp "$best" "$OUT/$name.json"
  done
done
python3 benches/validation_table.py $(ls "$OUT"/*.json | grep -v '\.try[0-9]*\.json$')
