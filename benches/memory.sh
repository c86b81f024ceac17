#!/usr/bin/env bash
# Peak memory and wall time of `archbench simulate` on generated large
# architectures: a chain (each service calls the next) and a fan-out (a
# gateway calls every other service in parallel), of 1,000 and 10,000
# services.
#
#   bash benches/memory.sh [BIN]    (default target/release/archbench)
#
# Each service is exp:1ms with 4 workers; 100 requests/s for 2,000 requests
# (chain) or 200 (fan-out of 10,000), one replication, so every service
# records thousands of response and wait times.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/archbench}
[ -x "$bin" ] || cargo build --release --quiet
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# generate SHAPE N REQUESTS > file
generate() {
  python3 - "$@" <<'PY'
import sys
shape, n, requests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
services = [f'(name: "s{i}", workers: 4, service_time: "exp:1ms", io: Async)' for i in range(n)]
if shape == "chain":
    links = [f'(from: "s{i}", to: "s{i + 1}", latency: "100us")' for i in range(n - 1)]
else:
    # The gateway is one of the n services.
    services = services[: n - 1]
    services.insert(0, '(name: "gateway", workers: 64, service_time: "100us", io: Async)')
    links = [f'(from: "gateway", to: "s{i}", latency: "100us", parallel_group: "all")' for i in range(n - 1)]
entry = "s0" if shape == "chain" else "gateway"
print(f"""(
    format: 1,
    name: "{shape} of {n}",
    workload: (arrivals: Open(process: Poisson, rate_rps: 100.0), classes: [(name: "all", entry: "{entry}")]),
    run: (stop: Requests({requests}), warmup: "0s", seed: 1, replications: 1),
    scenarios: [(name: "{shape}", services: [{", ".join(services)}], links: [{", ".join(links)}])],
)""")
PY
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf '%-8s %8s %9s %10s %12s\n' shape services requests "wall s" "peak MiB"
for spec in "chain 1000 2000" "fanout 1000 2000" "chain 10000 500" "fanout 10000 200"; do
  read -r shape n requests <<<"$spec"
  generate "$shape" "$n" "$requests" > "$dir/p.ron"
  python3 - "$bin" "$dir/p.ron" "$shape" "$n" "$requests" <<'PY'
import resource, subprocess, sys, time
bin, path, shape, n, requests = sys.argv[1:]
start = time.perf_counter()
subprocess.run([bin, "simulate", path, "--format", "csv"], check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"{shape:<8} {int(n):>8} {int(requests):>9} {wall:>10.2f} {rss:>12.1f}")
PY
done
