#!/usr/bin/env bash
# Regenerates the figures of docs/patterns.md from the example projects with
# `archbench FILE --figure PLOT=PATH`. The app needs a display: run this
# under `xvfb-run -s "-screen 0 1400x900x24" bash docs/figures.sh` on a
# machine without one.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
app=target/release/archbench
out=docs/images
"$app" projects/ml-inference.ron \
    --figure latency-histogram=$out/patterns-cache.png
"$app" projects/recommendation.ron \
    --figure over-time:queue-depth=$out/patterns-batching-queue.png
"$app" projects/retry-storm.ron \
    --figure over-time:throughput=$out/patterns-retry-storm.png \
    --figure over-time:errors=$out/patterns-retry-storm-errors.png
"$app" projects/autoscaling.ron \
    --figure over-time:replicas=$out/patterns-autoscaling-replicas.png \
    --figure over-time:p99=$out/patterns-autoscaling-p99.png
"$app" projects/ml-platform.ron \
    --figure over-time:queue-depth=$out/patterns-queue.png \
    --figure over-time:lag=$out/patterns-queue-lag.png
"$app" projects/monolith-vs-microservices.ron \
    --figure latency-vs-load=$out/patterns-microservices-latency.png \
    --figure throughput-vs-load=$out/patterns-microservices-throughput.png
