"""Markdown tables from `archbench validate --format json` reports: one
row per scenario and load, end to end (throughput, p50, p90, p99, p99.9 of
each class) and per service (utilisation, p99), predicted / measured /
error. Usage: python3 validation_table.py REPORT.json..."""

import json
import sys


def pct(error):
    return "–" if error is None else f"{error * 100:+.1f}%"


def cell(v, fmt="{:.2f}"):
    return f"{fmt.format(v['predicted'])} / {fmt.format(v['measured'])} ({pct(v['error'])})"


def main(paths):
    reports = [json.load(open(p)) for p in paths]
    reports.sort(key=lambda r: (r["scenario"], r["load_fraction"] or 0))
    print("| scenario | load | offered req/s | throughput | p50 ms | p90 ms | p99 ms | p99.9 ms | goal met | steal ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in reports:
        for c in r["classes"]:
            met = (
                abs(c["throughput_rps"]["error"] or 0) <= 0.02
                and abs(c["p50_ms"]["error"] or 0) <= 0.10
                and abs(c["p99_ms"]["error"] or 0) <= 0.20
            )
            print(
                f"| {r['scenario']} | {r['load_fraction'] * 100:.0f}% | {r['offered_rps']:.0f} "
                f"| {cell(c['throughput_rps'], '{:.0f}')} | {cell(c['p50_ms'])} | {cell(c['p90_ms'])} "
                f"| {cell(c['p99_ms'])} | {cell(c['p999_ms'])} | {'yes' if met else 'no'} "
                f"| {r['steal_ms'] if r['steal_ms'] is not None else '–'} |"
            )
    print()
    print("| scenario | load | service | utilisation | p99 ms |")
    print("|---|---|---|---|---|")
    for r in reports:
        for s in r["services"]:
            u = s["utilization"]
            util = f"{u['predicted'] * 100:.1f}% / {u['measured'] * 100:.1f}% ({pct(u['error'])})"
            print(
                f"| {r['scenario']} | {r['load_fraction'] * 100:.0f}% | {s['service']} "
                f"| {util} | {cell(s['p99_ms'])} |"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
