"""The rounds of benches/peers/loadgen.sh: each tool in each configuration,
alternated, with wall-clock, CPU and peak memory from the kernel's rusage."""
import json, math, os, statistics, subprocess

URL, BIN = os.environ["URL"], os.environ["BIN"]
ROUNDS, SECONDS, RATE = (int(os.environ[k]) for k in ("ROUNDS", "EACH", "RATE"))


def measure(cmd):
    """Runs cmd; returns (stdout, its CPU seconds, its peak RSS in MiB)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, _, usage = os.wait4(proc.pid, 0)
    return out, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def last_json(text):
    return json.loads(text[: text.rindex("}") + 1])


def wrk(threads):
    def run():
        out, cpu, _ = measure(["wrk", f"-t{threads}", "-c50", f"-d{SECONDS}s", URL])
        n = int(next(l for l in out.splitlines() if "requests in" in l).split()[0])
        return n, cpu
    return run


def oha(threads, extra=()):
    def run():
        out, cpu, _ = measure(["oha", "--no-tui", "-c", "50", "-z", f"{SECONDS}s",
                            "--worker-threads", str(threads), "--output-format", "json",
                            *extra, URL])
        d = last_json(out)
        return sum(d["statusCodeDistribution"].values()), cpu, d
    return run


def archbench(threads, extra=()):
    def run():
        cmd = [BIN, "load", URL, "--duration", f"{SECONDS}s", "--format", "json", *extra]
        if threads:
            cmd += ["--threads", str(threads)]
        out, cpu, _ = measure(cmd)
        d = last_json(out)
        return d["requests"], cpu, d
    return run


def rounds(tools):
    results = {name: [] for name in tools}
    for r in range(ROUNDS):
        order = list(tools) if r % 2 == 0 else list(reversed(tools))
        for name in order:
            results[name].append(tools[name]())
    return results


print(f"\n1. closed loop, 50 connections, {ROUNDS} rounds of {SECONDS} s, alternated")
closed = rounds({
    "wrk -t1": wrk(1),
    "wrk -t2": wrk(2),
    "oha, 1 thread": oha(1),
    "oha, 2 threads": oha(2),
    "archbench --threads 1": archbench(1, ["--users", "50"]),
    "archbench --threads 2": archbench(2, ["--users", "50"]),
})
# The default: half the cores beside a local server (see LoadPlan::threads).
default = f"archbench --threads {max(1, os.cpu_count() // 2)}"
print(f"{'tool':24} {'median req/s':>13} {'CPU us/req':>11}  runs (req/s)")
medians = {}
for name, runs in closed.items():
    rps = [r[0] / SECONDS for r in runs]
    cpu = [r[1] * 1e6 / r[0] for r in runs]
    medians[name] = statistics.median(rps)
    print(f"{name:24} {medians[name]:13.0f} {statistics.median(cpu):11.2f}  {[round(x) for x in rps]}")
peers = {k: v for k, v in medians.items() if not k.startswith("archbench")}
best = max(peers, key=peers.get)
print(f"archbench's default here ({default}) / best peer ({best}): "
      f"{medians[default] / peers[best]:.2f}")

print(f"\n2. open loop at {RATE} req/s, 50 connections, {ROUNDS} rounds of {SECONDS} s")
open_ = rounds({
    "oha -q --latency-correction": oha(1, ["-q", str(RATE), "--latency-correction"]),
    "archbench --rate": archbench(None, ["--rate", str(RATE), "--connections", "50"]),
})
print(f"{'tool':30} {'achieved req/s':>15} {'p99 ms':>8} {'CPU us/req':>11}")
for name, runs in open_.items():
    rps = statistics.median(r[0] / SECONDS for r in runs)
    cpu = statistics.median(r[1] * 1e6 / r[0] for r in runs)
    if name.startswith("oha"):
        p99 = statistics.median(r[2]["latencyPercentiles"]["p99"] * 1e3 for r in runs)
    else:
        p99 = statistics.median(r[2]["latency_ms"]["p99"] for r in runs)
    print(f"{name:30} {rps:15.0f} {p99:8.3f} {cpu:11.2f}")

if os.environ.get("SKIP_MEMORY") == "1":
    raise SystemExit
print("\n3. peak memory of a 10,000,000-request run, 50 connections")
seconds = math.ceil(10_000_000 / medians[default]) + 1
for name, cmd in [
    ("oha", ["oha", "--no-tui", "-c", "50", "-n", "10000000", "--output-format", "json", URL]),
    ("archbench", [BIN, "load", URL, "--users", "50", "--duration", f"{seconds}s",
                   "--format", "json"]),
]:
    out, _, rss = measure(cmd)
    d = last_json(out)
    n = d["requests"] if "requests" in d else sum(d["statusCodeDistribution"].values())
    print(f"  {name:10} peak RSS {rss:7.1f} MiB  ({n} requests)")
