//! Inspector rows for the patterns: a link's timeout, retries, breaker,
//! bulkhead and latency fault, and a service's rate limit and batching. Each
//! pattern is a checkbox that turns it on with sensible values, then its
//! fields.

use eframe::egui::Ui;

use crate::model::{
    Autoscale, Batching, Breaker, CallMode, Crash, Jitter, LatencyFault, Link, Place, Problem,
    RateLimit, Retry, RetryBudget, validate::limits,
};

use super::super::fields::{
    self, Buffers, choice, count_row, drag_f64, ms, percent_row, problems_ui, problems_under, row,
    time_row, toggle,
};

/// What the rows of one service's or call's patterns share: its problems,
/// its place, the text being typed and the key of each field.
pub struct Rows<'a> {
    /// The project's validation problems.
    pub problems: &'a [Problem],
    /// The service or call.
    pub here: &'a Place,
    /// Text being typed.
    pub buffers: &'a mut Buffers,
    /// A field's key in `buffers`.
    pub key: &'a FieldKey<'a>,
}

/// A field's key in the text buffers, from its name.
pub type FieldKey<'a> = dyn Fn(&str) -> String + 'a;

impl Rows<'_> {
    /// Its parts, for a section's rows to use by name.
    pub(super) fn parts(&mut self) -> (&[Problem], &Place, &mut Buffers, &FieldKey<'_>) {
        (self.problems, self.here, self.buffers, self.key)
    }
}

/// The rows of a link's latency fault and, when it is sync, its timeout,
/// retry, breaker and bulkhead.
pub fn link_rows(ui: &mut Ui, rows: &mut Rows<'_>, new: &mut Link) {
    if new.mode == CallMode::Sync {
        guard_rows(ui, rows, new);
    } else {
        // Left over from when the call was sync: say so, so it can be fixed.
        for field in ["timeout", "retry", "breaker", "max_concurrent"] {
            problems_ui(ui, rows.problems, &rows.here.field(field));
        }
    }
    fault_rows(ui, rows, new);
}

fn guard_rows(ui: &mut Ui, rows: &mut Rows<'_>, new: &mut Link) {
    let (problems, here, buffers, key) = rows.parts();
    toggle(
        ui,
        "timeout",
        "give up on slow calls",
        &mut new.timeout,
        || ms(1000.0),
    );
    if let Some(timeout) = &mut new.timeout {
        time_row(ui, buffers, &key("timeout"), ("  after", ""), timeout);
    }
    problems_ui(ui, problems, &here.field("timeout"));

    toggle(ui, "retry", "retry failed calls", &mut new.retry, || {
        Retry {
            max_retries: 2,
            backoff: ms(50.0),
            max_backoff: ms(1000.0),
            jitter: Jitter::Full,
            budget: None,
        }
    });
    if let Some(retry) = &mut new.retry {
        retry_rows(ui, retry, buffers, key);
    }
    problems_under(ui, problems, &here.field("retry"));

    toggle(ui, "breaker", "circuit breaker", &mut new.breaker, || {
        Breaker {
            failure_ratio: 0.5,
            window: ms(10_000.0),
            min_calls: 20,
            open_for: ms(5_000.0),
            probes: 1,
        }
    });
    if let Some(breaker) = &mut new.breaker {
        breaker_rows(ui, breaker, buffers, key);
    }
    problems_under(ui, problems, &here.field("breaker"));

    toggle(
        ui,
        "bulkhead",
        "cap calls in flight",
        &mut new.max_concurrent,
        || 10,
    );
    if let Some(max) = &mut new.max_concurrent {
        count_row(
            ui,
            ("  max in flight", "per caller replica"),
            max,
            1..=1_000_000,
        );
    }
    problems_ui(ui, problems, &here.field("max_concurrent"));
}

fn fault_rows(ui: &mut Ui, rows: &mut Rows<'_>, new: &mut Link) {
    let (problems, here, buffers, key) = rows.parts();
    toggle(ui, "fault", "inject latency", &mut new.fault, || {
        LatencyFault {
            extra: "100ms".parse().unwrap_or_default(),
            from: ms(10_000.0),
            until: ms(20_000.0),
        }
    });
    if let Some(fault) = &mut new.fault {
        fields::distribution_row(
            ui,
            buffers,
            &key("fault-extra"),
            ("  extra", "added to each call's round trip"),
            &mut fault.extra,
        );
        time_row(
            ui,
            buffers,
            &key("fault-from"),
            ("  from", ""),
            &mut fault.from,
        );
        time_row(
            ui,
            buffers,
            &key("fault-until"),
            ("  until", ""),
            &mut fault.until,
        );
    }
    problems_under(ui, problems, &here.field("fault"));
}

fn retry_rows(ui: &mut Ui, retry: &mut Retry, buffers: &mut Buffers, key: &dyn Fn(&str) -> String) {
    count_row(
        ui,
        ("  max retries", "after the first try"),
        &mut retry.max_retries,
        0..=limits::RETRIES,
    );
    time_row(
        ui,
        buffers,
        &key("backoff"),
        ("  backoff", "doubles each retry"),
        &mut retry.backoff,
    );
    time_row(
        ui,
        buffers,
        &key("max-backoff"),
        ("  max backoff", ""),
        &mut retry.max_backoff,
    );
    row(ui, "  jitter", "", |ui| {
        if let Some(j) = choice(ui, &key("jitter"), retry.jitter) {
            retry.jitter = j;
        }
    });
    toggle(ui, "  budget", "cap retries", &mut retry.budget, || {
        RetryBudget {
            ratio: 0.1,
            min_per_second: 10.0,
        }
    });
    if let Some(budget) = &mut retry.budget {
        row(ui, "    ratio", "retries per first try", |ui| {
            if let Some(v) = drag_f64(ui, budget.ratio, 0.0..=10.0) {
                budget.ratio = v;
            }
        });
        row(ui, "    floor", "retries per second", |ui| {
            if let Some(v) = drag_f64(ui, budget.min_per_second, 0.0..=limits::RATE_RPS) {
                budget.min_per_second = v;
            }
        });
    }
}

fn breaker_rows(
    ui: &mut Ui,
    breaker: &mut Breaker,
    buffers: &mut Buffers,
    key: &dyn Fn(&str) -> String,
) {
    percent_row(
        ui,
        ("  opens at", "% failed"),
        &mut breaker.failure_ratio,
        0.1..=100.0,
    );
    time_row(
        ui,
        buffers,
        &key("window"),
        ("  window", "sliding"),
        &mut breaker.window,
    );
    count_row(
        ui,
        ("  min calls", "in the window"),
        &mut breaker.min_calls,
        1..=1_000_000,
    );
    time_row(
        ui,
        buffers,
        &key("open-for"),
        ("  open for", ""),
        &mut breaker.open_for,
    );
    count_row(
        ui,
        ("  probes", "trial calls when half-open"),
        &mut breaker.probes,
        1..=1_000,
    );
}

/// The rows of a service's rate limit.
pub fn rate_limit_rows(ui: &mut Ui, rows: &mut Rows<'_>, value: &mut Option<RateLimit>) {
    let Rows { problems, here, .. } = *rows;
    toggle(ui, "rate limit", "token bucket", value, || RateLimit {
        rate: 100.0,
        burst: 10,
    });
    if let Some(limit) = value {
        row(ui, "  rate", "requests/s", |ui| {
            if let Some(v) = drag_f64(ui, limit.rate, 0.001..=limits::RATE_RPS) {
                limit.rate = v;
            }
        });
        count_row(ui, ("  burst", "requests"), &mut limit.burst, 1..=1_000_000);
    }
    problems_under(ui, problems, &here.field("rate_limit"));
}

/// The rows of a model server's dynamic batching.
pub fn batching_rows(ui: &mut Ui, rows: &mut Rows<'_>, value: &mut Option<Batching>) {
    let (problems, here, buffers, key) = rows.parts();
    toggle(ui, "batching", "run requests in batches", value, || {
        Batching {
            max_batch: 8,
            max_wait: ms(5.0),
            per_item: ms(1.0),
        }
    });
    if let Some(batching) = value {
        count_row(
            ui,
            ("  max batch", "requests"),
            &mut batching.max_batch,
            1..=limits::BATCH,
        );
        time_row(
            ui,
            buffers,
            &key("max-wait"),
            ("  max wait", "for the batch to fill"),
            &mut batching.max_wait,
        );
        time_row(
            ui,
            buffers,
            &key("per-item"),
            ("  per item", "service time is per batch"),
            &mut batching.per_item,
        );
    }
    problems_under(ui, problems, &here.field("batching"));
}

/// The rows of a service's autoscaler.
pub fn autoscale_rows(
    ui: &mut Ui,
    rows: &mut Rows<'_>,
    value: &mut Option<Autoscale>,
    replicas: u32,
) {
    let (problems, here, buffers, key) = rows.parts();
    toggle(ui, "autoscale", "add replicas under load", value, || {
        Autoscale {
            target_utilization: 0.6,
            min_replicas: 1,
            max_replicas: replicas.max(10),
            interval: ms(15_000.0),
            cold_start: ms(30_000.0),
        }
    });
    if let Some(scale) = value {
        percent_row(
            ui,
            ("  target", "% busy"),
            &mut scale.target_utilization,
            1.0..=100.0,
        );
        count_row(
            ui,
            ("  min replicas", ""),
            &mut scale.min_replicas,
            1..=limits::REPLICAS,
        );
        count_row(
            ui,
            ("  max replicas", ""),
            &mut scale.max_replicas,
            1..=limits::REPLICAS,
        );
        time_row(
            ui,
            buffers,
            &key("scale-interval"),
            ("  every", "decision interval"),
            &mut scale.interval,
        );
        time_row(
            ui,
            buffers,
            &key("cold-start"),
            ("  cold start", "before a new replica serves"),
            &mut scale.cold_start,
        );
    }
    problems_under(ui, problems, &here.field("autoscale"));
}

/// The rows of a service's crashes: one line each, and a button to add one.
pub fn crash_rows(ui: &mut Ui, rows: &mut Rows<'_>, crashes: &mut Vec<Crash>) {
    let (problems, here, buffers, key) = rows.parts();
    let mut remove = None;
    for (i, crash) in crashes.iter_mut().enumerate() {
        row(ui, &format!("crash {}", i + 1), "", |ui| {
            if ui.small_button("remove").clicked() {
                remove = Some(i);
            }
        });
        count_row(
            ui,
            ("  replica", "from 0"),
            &mut crash.replica,
            0..=limits::REPLICAS - 1,
        );
        time_row(
            ui,
            buffers,
            &key(&format!("crash-at-{i}")),
            ("  at", ""),
            &mut crash.at,
        );
        time_row(
            ui,
            buffers,
            &key(&format!("crash-restart-{i}")),
            ("  restarts after", ""),
            &mut crash.restart_after,
        );
    }
    if let Some(i) = remove {
        crashes.remove(i);
    }
    row(ui, "crashes", "", |ui| {
        if ui
            .small_button("+ crash")
            .on_hover_text("a replica that crashes and restarts")
            .clicked()
        {
            crashes.push(Crash {
                at: ms(10_000.0),
                replica: 0,
                restart_after: ms(5_000.0),
            });
        }
    });
    problems_under(ui, problems, &here.field("crashes"));
}
