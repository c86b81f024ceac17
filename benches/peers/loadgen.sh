#!/usr/bin/env bash
# archbench load against wrk and oha, side by side in one run, on the same
# loopback nginx (one worker process, returning 200 "ok"):
#  1. closed-loop ceiling: 50 connections as fast as they go, 10 s each;
#     requests per second and CPU time per request of each tool.
#  2. memory: peak RSS of a 10-million-request run, archbench against oha.
#
#   bash benches/peers/loadgen.sh [SECONDS]     (default 10)
#   SKIP_MEMORY=1 bash benches/peers/loadgen.sh  (only the ceiling)
# Installs wrk and nginx-light (apt) and oha (cargo install, ~6 min) if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
port=18090
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk nginx-light >/dev/null
fi
command -v oha >/dev/null || cargo install oha --locked
cargo build --release --quiet
bin=$PWD/target/release/archbench

dir=$(mktemp -d)
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$port;
    location / { return 200 "ok"; }
  }
}
CONF
nginx -c "$dir/nginx.conf" -p "$dir"
trap 'nginx -c "$dir/nginx.conf" -p "$dir" -s stop 2>/dev/null || true; rm -rf "$dir"' EXIT
sleep 0.5
url=http://127.0.0.1:$port/

# Runs a command; prints its output, then "cpu_seconds peak_rss_mib wall_seconds".
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.perf_counter()
out = subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True).stdout
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(out)
print(f"@@ {usage.ru_utime + usage.ru_stime:.3f} {usage.ru_maxrss / 1024:.1f} {wall:.3f}")
PY
}
stats() { grep '^@@' | cut -d' ' -f2-; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); oha: $(oha --version); nginx: $(nginx -v 2>&1 | cut -d/ -f2)"
echo
printf '%-10s %12s %12s %14s %10s\n' tool requests "req/s" "CPU us/req" "RSS MiB"

out=$(measure wrk -t2 -c50 -d"${seconds}s" "$url")
requests=$(echo "$out" | awk '/requests in/ {print $1}')
read -r cpu rss _ < <(echo "$out" | stats)
printf '%-10s %12s %12.0f %14.2f %10s\n' wrk "$requests" "$(echo "$requests / $seconds" | bc -l)" "$(echo "$cpu * 1000000 / $requests" | bc -l)" "$rss"

out=$(measure oha --no-tui -c 50 -z "${seconds}s" --output-format json "$url")
requests=$(echo "$out" | python3 -c 'import json,sys; t=sys.stdin.read(); d=json.loads(t[:t.rindex("}")+1]); print(sum(d["statusCodeDistribution"].values()))')
read -r cpu rss _ < <(echo "$out" | stats)
printf '%-10s %12s %12.0f %14.2f %10s\n' oha "$requests" "$(echo "$requests / $seconds" | bc -l)" "$(echo "$cpu * 1000000 / $requests" | bc -l)" "$rss"

out=$(measure "$bin" load "$url" --users 50 --duration "${seconds}s" --format json)
requests=$(echo "$out" | python3 -c 'import json,sys; t=sys.stdin.read(); print(json.loads(t[:t.rindex("}")+1])["requests"])')
read -r cpu rss _ < <(echo "$out" | stats)
archbench_rps=$(echo "$requests / $seconds" | bc -l)
printf '%-10s %12s %12.0f %14.2f %10s\n' archbench "$requests" "$archbench_rps" "$(echo "$cpu * 1000000 / $requests" | bc -l)" "$rss"

[ "${SKIP_MEMORY:-}" = 1 ] && exit 0
echo
echo "memory for a 10,000,000-request run (50 connections):"
read -r _ rss wall < <(measure oha --no-tui -c 50 -n 10000000 --output-format json "$url" | stats)
printf '  %-10s peak RSS %8s MiB  (%s s)\n' oha "$rss" "$wall"
duration=$(python3 -c "import math; print(math.ceil(10_000_000 / $archbench_rps) + 1)")
out=$(measure "$bin" load "$url" --users 50 --duration "${duration}s" --format json)
requests=$(echo "$out" | python3 -c 'import json,sys; t=sys.stdin.read(); print(json.loads(t[:t.rindex("}")+1])["requests"])')
read -r _ rss wall < <(echo "$out" | stats)
printf '  %-10s peak RSS %8s MiB  (%s requests in %s s)\n' archbench "$rss" "$requests" "$wall"
