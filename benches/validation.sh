#!/usr/bin/env bash
# The accuracy table of docs/validation.md: `archbench validate` on the
# examples (three-tier, ml-inference, both scenarios of
# monolith-vs-microservices) at 30%, 60% and 85% of each one's maximum
# sustainable throughput, DURATION seconds each (default 60), one after
# another with nothing else running. Writes each JSON report to OUT
# (default target/validation) and the Markdown tables to stdout.
#
#   bash benches/validation.sh > /tmp/table.md     (about 15 minutes)
#   DURATION=20 LOADS="0.6" bash benches/validation.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60}
LOADS=${LOADS:-"0.3 0.6 0.85"}
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
    echo "validating $name" >&2
    # Exit 3 (a tolerance exceeded) still writes the report.
    "$bin" validate "$file" --scenario "$scenario" --load "$load" \
      --duration "${DURATION}s" --format json \
      --tolerance 'throughput=2%,p50=10%,p99=20%' \
      --output "$OUT/$name.json" || [ $? -eq 3 ]
  done
done
python3 benches/validation_table.py "$OUT"/*.json
