#!/usr/bin/env bash
# archbench load against wrk and oha, each at its best on this machine, on
# the same loopback nginx (one worker process, returning 200 "ok"):
#  1. closed loop: 50 connections as fast as they go. Every configuration
#     each tool offers (wrk -t1 and -t2, oha with 1 and 2 runtime threads,
#     archbench with 1 and 2 threads and its default), alternated over
#     ROUNDS rounds of EACH seconds; each one's median requests/s and CPU
#     per request, and archbench's default against the best peer.
#  2. open loop at a fixed high rate (RATE req/s, 50 connections): achieved
#     rate, p99 corrected for coordinated omission, CPU per request, against
#     oha's --latency-correction -q (wrk2 is not packaged here).
#  3. memory: peak RSS of a 10-million-request run, archbench against oha.
#
#   bash benches/peers/loadgen.sh                 (ROUNDS=5 EACH=5 RATE=50000: seconds per run)
#   SKIP_MEMORY=1 bash benches/peers/loadgen.sh   (only 1 and 2)
# Installs wrk and nginx-light (apt) and oha (cargo install, ~6 min) if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
export ROUNDS=${ROUNDS:-5} EACH=${EACH:-5} RATE=${RATE:-50000}
port=18090
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk nginx-light >/dev/null
fi
command -v oha >/dev/null || cargo install oha --locked
cargo build --release --quiet
export BIN=$PWD/target/release/archbench

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
export URL=http://127.0.0.1:$port/

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); oha: $(oha --version); nginx: $(nginx -v 2>&1 | cut -d/ -f2)"
python3 benches/peers/loadgen_rounds.py
