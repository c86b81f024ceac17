#!/usr/bin/env bash
# archbench against SimPy on the same M/M/1 (rho = 0.9), in one run on one
# machine, printed as a ratio. Also: peak memory of archbench as the request
# count grows tenfold twice.
#
#   bash benches/peers/simpy.sh [REQUESTS]    (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}
venv=benches/peers/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet simpy
fi
cargo build --release --quiet
bin=target/release/archbench

# Runs a command and prints its wall seconds and peak RSS (MiB) after its output.
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.perf_counter()
out = subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True).stdout
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(out.strip().replace("\n", " "), f"{wall:.3f} {rss:.1f}")
PY
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "simpy: $("$venv/bin/python" -c 'import simpy; print(simpy.__version__)'), python $("$venv/bin/python" -V | cut -d' ' -f2)"

read -r s_n s_secs s_rps s_mean < <("$venv/bin/python" benches/peers/mm1_simpy.py "$n")
read -r a_mean a_secs a_rss < <(measure "$bin" simulate benches/peers/mm1.ron --requests "$n" --format csv \
  | awk '{print}' | python3 -c '
import sys
line = sys.stdin.read().split()
# CSV rows then wall and rss: the overall row is the second CSV line.
rows, wall, rss = line[:-2], line[-2], line[-1]
overall = rows[1].split(",")
print(overall[6], wall, rss)')
a_rps=$(python3 -c "print(round($n / $a_secs))")
printf '%-10s %12s %10s %14s %14s\n' tool requests seconds "requests/s" "mean ms (10)"
printf '%-10s %12s %10s %14s %14s\n' simpy "$s_n" "$s_secs" "$s_rps" "$s_mean"
printf '%-10s %12s %10s %14s %14.3f\n' archbench "$n" "$a_secs" "$a_rps" "$a_mean"
python3 -c "print(f'ratio: archbench is {$a_rps / $s_rps:.0f}x SimPy in simulated requests per second')"

echo
echo "archbench peak memory as the request count grows:"
for m in 1000000 10000000 100000000; do
  read -r _ secs rss < <(measure "$bin" simulate benches/peers/mm1.ron --requests "$m" --format json \
    | python3 -c 'import sys; w = sys.stdin.read().split(); print("x", w[-2], w[-1])')
  printf '  %11d requests: %7.2f s, peak RSS %6.1f MiB\n' "$m" "$secs" "$rss"
done
