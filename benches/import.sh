#!/usr/bin/env bash
# Throughput and peak memory of `archbench import` on large traces files:
# the OTLP JSON Lines of a 60 s emulation of projects/three-tier.ron driven
# at RATE requests/s, and that file repeated COPIES times one minute apart
# (each copy's trace ids made its own) to pass 1 GB. Reading is a stream,
# so the peak memory of the large file should be that of the small one.
#
#   bash benches/import.sh [RATE] [COPIES] [RUNS]   (default 1180 7 3)
#
# Prints, per run and file: wall time, spans/s and peak resident memory.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-1180}
copies=${2:-7}
runs=${3:-3}
bin=target/release/archbench
[ -x "$bin" ] || cargo build --release --quiet
dir=${IMPORT_BENCH_DIR:-$(mktemp -d)}
one="$dir/one.jsonl"
many="$dir/many.jsonl"

if [ ! -s "$one" ]; then
  "$bin" emulate projects/three-tier.ron --traces "$one" --duration 66s > "$dir/emulate.out" 2>&1 &
  emulator=$!
  sleep 2
  url=$(grep "enters at" "$dir/emulate.out" | head -1 | sed 's/.*: //')
  "$bin" load "$url" --rate "$rate" --duration 60s > /dev/null 2>&1
  wait "$emulator"
fi
if [ ! -s "$many" ]; then
  python3 - "$one" "$many" "$copies" <<'PY'
import re, sys
source, target, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
trace = re.compile(rb'"traceId":"(..)')
time = re.compile(rb'TimeUnixNano":"(\d+)"')
with open(target, "wb") as out:
    for copy in range(copies):
        shift = copy * 61_000_000_000
        mark = b"%02x" % copy
        with open(source, "rb") as f:
            for line in f:
                line = trace.sub(lambda m: b'"traceId":"' + mark, line)
                if shift:
                    line = time.sub(lambda m: b'TimeUnixNano":"%d"' % (int(m.group(1)) + shift), line)
                out.write(line)
PY
fi

for run in $(seq "$runs"); do
  for file in "$one" "$many"; do
    bytes=$(stat -c %s "$file")
    /usr/bin/time -f "%e %M" -o "$dir/time" "$bin" import "$file" -o "$dir/out.ron" 2> "$dir/import.err"
    read -r seconds kb < "$dir/time"
    spans=$(sed -n 's/^read \([0-9]*\) spans.*/\1/p' "$dir/import.err")
    python3 -c "print(f'run $run  {$bytes/1e6:7.0f} MB  {$spans:9d} spans  {$seconds:6.2f} s  {$spans/$seconds:9,.0f} spans/s  {$kb/1024:6.0f} MB peak')"
  done
done
