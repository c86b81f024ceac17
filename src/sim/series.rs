//! The time series of one replication: per interval, what finished, what
//! failed, the p99, and each service's replicas, queue depth and
//! utilisation, and an LLM server's KV-cache use and preemptions.

use crate::stats::{LatencyHistogram, ServiceSeries, TimeSeries};

use super::time::SimTime;

/// Intervals kept; a longer run's series stops there (and says so).
pub const MAX_POINTS: usize = 10_000;

/// A service's state as the recorder reads it at an interval's end.
pub struct StationReading {
    /// How long the oldest waiting request has waited (the consumer lag).
    pub oldest_wait_ns: u64,
    /// Time integral since the start of calls waiting, in call × ns.
    pub queued_area: f64,
    /// Time integral since the start of workers held, in worker × ns.
    pub busy_area: f64,
    /// Time integral since the start of workers serving, in worker × ns.
    pub capacity_area: f64,
    /// Replicas serving now.
    pub replicas: u32,
    /// An LLM server's cache: its blocks' time integral since the start
    /// (block × ns), the blocks of its serving replicas, and the sequences
    /// preempted since the start.
    pub llm: Option<(f64, f64, u64)>,
}

/// Collects the series as the replication runs.
pub struct Recorder {
    interval_ns: u64,
    start: SimTime,
    ok: u64,
    failed: u64,
    latency: LatencyHistogram,
    /// The integrals at the last interval's end, per station: queued,
    /// busy, capacity, KV blocks, and preemptions so far.
    last: Vec<(f64, f64, f64, f64, u64)>,
    series: TimeSeries,
}

impl Recorder {
    pub fn new(interval_ns: u64, names: impl Iterator<Item = String>) -> Self {
        let services: Vec<ServiceSeries> = names
            .map(|name| ServiceSeries {
                name,
                ..ServiceSeries::default()
            })
            .collect();
        Self {
            interval_ns: interval_ns.max(1),
            start: SimTime::ZERO,
            ok: 0,
            failed: 0,
            latency: LatencyHistogram::coarse(),
            last: vec![(0.0, 0.0, 0.0, 0.0, 0); services.len()],
            series: TimeSeries {
                interval_s: interval_ns as f64 / 1e9,
                services,
                ..TimeSeries::default()
            },
        }
    }

    /// The end of the current interval, if more are kept.
    #[inline]
    pub fn next_boundary(&self) -> Option<SimTime> {
        (self.series.time_s.len() < MAX_POINTS).then(|| self.start.after(self.interval_ns))
    }

    /// A request finished: successfully with this latency, or not.
    #[inline]
    pub fn request_done(&mut self, latency_ns: Option<u64>) {
        match latency_ns {
            Some(ns) => {
                self.ok += 1;
                self.latency.record(ns);
            }
            None => self.failed += 1,
        }
    }

    /// Closes the interval that ends at `end` (the current one, or a last
    /// partial one when the run ends).
    pub fn close(&mut self, end: SimTime, stations: &[StationReading]) {
        let width = end.since(self.start) as f64;
        if width <= 0.0 {
            return;
        }
        if self.series.time_s.len() >= MAX_POINTS {
            self.series.truncated = true;
            return;
        }
        let seconds = width / 1e9;
        let s = &mut self.series;
        s.time_s.push(end.as_secs_f64());
        s.throughput_rps.push(self.ok as f64 / seconds);
        s.errors_per_s.push(self.failed as f64 / seconds);
        s.p99_ms.push(self.latency.quantile_ns(0.99) as f64 / 1e6);
        for ((service, reading), last) in s.services.iter_mut().zip(stations).zip(&mut self.last) {
            let queued = reading.queued_area - last.0;
            let busy = reading.busy_area - last.1;
            let capacity = reading.capacity_area - last.2;
            service.queue_depth.push(queued / width);
            service
                .utilization
                .push(if capacity > 0.0 { busy / capacity } else { 0.0 });
            service.replicas.push(reading.replicas);
            service.lag_s.push(reading.oldest_wait_ns as f64 / 1e9);
            let (kv_area, preempted) = match reading.llm {
                Some((area, blocks, preempted)) => {
                    let used = (area - last.3) / width;
                    service
                        .kv_utilization
                        .get_or_insert_default()
                        .push(if blocks > 0.0 { used / blocks } else { 0.0 });
                    service
                        .preemptions
                        .get_or_insert_default()
                        .push(preempted - last.4);
                    (area, preempted)
                }
                None => (0.0, 0),
            };
            *last = (
                reading.queued_area,
                reading.busy_area,
                reading.capacity_area,
                kv_area,
                preempted,
            );
        }
        self.start = end;
        self.ok = 0;
        self.failed = 0;
        self.latency.clear();
    }

    pub fn finish(self) -> TimeSeries {
        self.series
    }
}
