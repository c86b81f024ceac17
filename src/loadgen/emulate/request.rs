//! One request at one replica, as the model says: the rate limit, the wait
//! for a worker in arrival order, the service time, an injected error or a
//! cache hit, then the calls step by step over real HTTP, then the answer.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::loadgen::Failure;
use crate::sim::guard::{self, Refusal};
use crate::sim::plan::{CachePlan, Call, LinkPlan};

use super::super::client::Plain;
use super::station::{Outcome, Replica, lock};
use super::{CLASS_HEADER, Emulated, LLM_HEADER, REQUEST_HEADER, SYNC_HEADER, header_value, trace};

/// What travels with a request from hop to hop.
#[derive(Clone, Debug)]
pub(super) struct Context {
    pub id: u64,
    pub class: String,
    /// The span of this request's handling, when traces are written: its
    /// calls are its children.
    pub parent: Option<trace::Parent>,
    /// For a decode-only LLM server: the prompt and output lengths of the
    /// sequence its caller prefilled.
    pub prefilled: Option<(u64, u64)>,
}

#[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
fn now() -> Instant {
    Instant::now()
}

/// How a request was served.
#[derive(Clone, Copy, Debug)]
pub(super) struct Served {
    pub outcome: Outcome,
    /// When its handling began (the request read).
    pub arrived: Instant,
    /// When it got a worker; `None` when it got none.
    pub granted: Option<Instant>,
    /// When its handling ended (its answer ready to send).
    pub finished: Instant,
}

/// A request arriving at `replica` of `station`: counted, and let through
/// the service's rate limit (its arrival instant) or refused by it.
pub(super) fn arrive(shared: &Emulated, station: usize, replica: usize) -> Result<Instant, Served> {
    let service = &shared.services[station];
    let here = &service.replicas[replica];
    let arrived = now();
    here.arrived();
    if service.admit_rate(arrived) {
        return Ok(arrived);
    }
    Err(refused(here, arrived, Outcome::RateLimited))
}

/// A request `here` refused with `outcome` (it got no worker), counted.
pub(super) fn refused(here: &Replica, arrived: Instant, outcome: Outcome) -> Served {
    let finished = now();
    here.answered(arrived, finished, outcome);
    Served {
        outcome,
        arrived,
        granted: None,
        finished,
    }
}

/// Serves one request at `replica` of `station`, which `arrive` let in
/// at `arrived`.
pub(super) async fn serve(
    shared: Arc<Emulated>,
    (station, replica): (usize, usize),
    arrived: Instant,
    context: Context,
) -> Served {
    let spec = &shared.plan.stations[station];
    let service = &shared.services[station];
    let here = &service.replicas[replica];
    let admission = service.admission(replica);
    let Ok(grant) = admission
        .worker(arrived, |at, delta| here.queued(at, delta))
        .await
    else {
        return refused(here, arrived, Outcome::Rejected);
    };
    here.busy(grant, 1);
    // The worker is freed at the end of the work as timed, not when this
    // task next runs: lateness of the event loop never idles a worker.
    let mut held = true;
    let mut release = |at: Instant| {
        if std::mem::take(&mut held) {
            here.busy(at, -1);
            admission.release(at);
        }
    };
    let (work, fails, hits) = {
        let mut rng = lock(&here.rng);
        let work = spec.service_time.sample(&mut rng);
        let fails = spec.error_rate > 0.0 && rng.chance(spec.error_rate);
        let hits = !fails
            && spec.cache.is_some_and(
                |CachePlan {
                     hit_ratio,
                     warmup_ns,
                 }| {
                    let warmth = if warmup_ns == 0 {
                        1.0
                    } else {
                        (shared.now_ns(now()).0 as f64 / warmup_ns as f64).min(1.0)
                    };
                    rng.chance(hit_ratio * warmth)
                },
            );
        (work, fails, hits)
    };
    let done = grant + Duration::from_nanos(work);
    shared.timer.sleep_until(done).await;
    // The timer wakes tasks a little early on average (it leads by their
    // usual lateness): the work must not end, nor its calls leave, before
    // its time, so that a callee's span lies within its call's.
    while now() < done {
        tokio::task::yield_now().await;
    }
    let mut answered = None;
    let outcome = if fails {
        Outcome::Error
    } else if hits {
        here.cache_hit();
        Outcome::Ok
    } else {
        if !spec.blocking {
            release(done);
        }
        let called = calls(&shared, station, replica, &context, done).await;
        answered = called.answered;
        if called.ok {
            Outcome::Ok
        } else {
            Outcome::Downstream
        }
    };
    // A blocking service holds its worker through its calls, so it is freed
    // when they have answered; otherwise at the end of the work as timed.
    let called = !fails && !hits && !spec.steps.is_empty();
    release(if spec.blocking && called { now() } else { done });
    // As timed: the end of the work, or the answer of the last call waited for.
    let finished = answered.unwrap_or(done);
    here.answered(arrived, now(), outcome);
    Served {
        outcome,
        arrived,
        granted: Some(grant),
        finished,
    }
}

/// What the calls of a request came to.
pub(super) struct Called {
    /// None failed.
    pub ok: bool,
    /// When the last step the request waited for answered; `None` when it
    /// waited for none.
    pub answered: Option<Instant>,
}

/// Makes the calls of a request at `replica` of `station`, step by step;
/// stops after a step where one failed (the step still finishes first).
/// `from` is when the work ended: the first step's calls leave from then.
pub(super) async fn calls(
    shared: &Arc<Emulated>,
    station: usize,
    replica: usize,
    context: &Context,
    from: Instant,
) -> Called {
    let steps = &shared.plan.stations[station].steps;
    let mut made_previous = false;
    let mut answered = None;
    for (index, step) in steps.iter().enumerate() {
        // Later steps leave when the one before has answered.
        let start = if index == 0 { from } else { now() };
        let mut pending = JoinSet::new();
        let mut made_any = false;
        let mut waited = false;
        // When the step's last call ended, as its span says.
        let mut step_end: Option<Instant> = None;
        let mut ok = true;
        for call in step {
            let make = if call.repeats_previous {
                made_previous
            } else {
                lock(&shared.link_rngs[call.link.index()]).chance(call.probability)
            };
            if !make {
                continue;
            }
            made_any = true;
            waited |= call.sync;
            for _ in 0..call.count {
                let (shared, context, call) = (Arc::clone(shared), context.clone(), call.clone());
                if !call.sync {
                    tokio::spawn(async move {
                        let _ = one_call(&shared, &call, (station, replica), &context, start).await;
                    });
                } else if step.len() == 1 && call.count == 1 {
                    let (answered, at) =
                        one_call(&shared, &call, (station, replica), &context, start).await;
                    ok &= answered;
                    step_end = step_end.max(Some(at));
                } else {
                    pending.spawn(async move {
                        one_call(&shared, &call, (station, replica), &context, start).await
                    });
                }
            }
        }
        while let Some(done) = pending.join_next().await {
            let (answered, at) = done.unwrap_or_else(|_| (false, now()));
            ok &= answered;
            step_end = step_end.max(Some(at));
        }
        made_previous = made_any;
        if waited {
            answered = step_end;
        }
        if !ok {
            return Called { ok, answered };
        }
    }
    Called { ok: true, answered }
}

/// One call over a link, leaving at `start`: plain, or as attempts when
/// the link is guarded. Returns whether it succeeded, and when its last
/// attempt ended.
async fn one_call(
    shared: &Emulated,
    call: &Call,
    caller: (usize, usize),
    context: &Context,
    start: Instant,
) -> (bool, Instant) {
    let link = &shared.plan.links[call.link.index()];
    if !call.guarded {
        let span = Traced::begin(shared, context, start);
        let result = attempt(shared, call, link, context, start, span.child()).await;
        let ended = now();
        span.end(shared, call, caller, result.is_err(), ended);
        return (result.is_ok(), ended);
    }
    let replica = u32::try_from(caller.1).unwrap_or(u32::MAX);
    let mut number = 0;
    let mut start = start;
    loop {
        let permit = {
            let mut guard = lock(&shared.guards[call.link.index()]);
            match guard.admit(link, shared.now_ns(now()), replica) {
                Ok(permit) => {
                    if number == 0 {
                        guard.first_attempt(shared.now_ns(now()));
                    }
                    guard.tally.attempts += 1;
                    if number > 0 {
                        guard.tally.retries += 1;
                    }
                    permit
                }
                Err(refusal) => {
                    match refusal {
                        Refusal::Breaker => guard.tally.breaker_rejections += 1,
                        Refusal::Bulkhead => guard.tally.bulkhead_rejections += 1,
                    }
                    return (false, now());
                }
            }
        };
        let span = Traced::begin(shared, context, start);
        let result = match link.timeout_ns {
            Some(timeout) => {
                let deadline = start + Duration::from_nanos(timeout);
                tokio::select! {
                    answer = attempt(shared, call, link, context, start, span.child()) => answer,
                    () = shared.timer.sleep_until(deadline) => Err(Failure::Timeout),
                }
            }
            None => attempt(shared, call, link, context, start, span.child()).await,
        };
        let ended = now();
        span.end(shared, call, caller, result.is_err(), ended);
        let ok = result.is_ok();
        let wait = {
            let mut guard = lock(&shared.guards[call.link.index()]);
            let at = shared.now_ns(now());
            if result == Err(Failure::Timeout) {
                guard.tally.timeouts += 1;
            }
            if guard.settle(at, replica, permit, ok) {
                guard.tally.breaker_opened += 1;
            }
            if ok {
                return (true, ended);
            }
            let Some(retry) = &link.retry else {
                guard.tally.failures += 1;
                return (false, ended);
            };
            if number >= retry.max_retries {
                guard.tally.failures += 1;
                return (false, ended);
            }
            if !guard.spend_retry(at, retry) {
                guard.tally.budget_denials += 1;
                guard.tally.failures += 1;
                return (false, ended);
            }
            guard::backoff(
                retry,
                number + 1,
                &mut lock(&shared.link_rngs[call.link.index()]),
            )
        };
        start = now() + Duration::from_nanos(wait);
        shared.timer.sleep_until(start).await;
        number += 1;
    }
}

/// One attempt leaving at `start`: half the round trip's network time on
/// the way there, the request to a replica the callee's balancer chose, the
/// other half on the way back. `Ok` when the callee answered successfully.
async fn attempt(
    shared: &Emulated,
    call: &Call,
    link: &LinkPlan,
    context: &Context,
    start: Instant,
    span: Option<trace::Parent>,
) -> Result<(), Failure> {
    let rtt = {
        let mut rng = lock(&shared.link_rngs[call.link.index()]);
        let mut rtt = link.latency.sample(&mut rng);
        if let Some(fault) = &link.fault
            && fault.active(shared.now_ns(now()).0)
        {
            rtt = rtt.saturating_add(fault.extra.sample(&mut rng));
        }
        rtt
    };
    let there = rtt / 2;
    shared
        .timer
        .sleep_until(start + Duration::from_nanos(there))
        .await;
    let target = call.target.index();
    // A service run elsewhere has one address, its own balancer behind it.
    let replica = if shared.peers[target].is_some() {
        0
    } else {
        shared.services[target].choose()
    };
    let answer = exchange(shared, target, replica, context, span, call.sync).await?;
    // The answer is back a round trip of network time after it left, plus
    // the callee's handling: the loopback's own time (connecting, writing,
    // reading, scheduling) is taken out of the link's latency rather than
    // added to it, so the call takes what the model says unless the
    // loopback alone takes longer than half the latency.
    match answer.handled_ns.filter(|_| call.sync) {
        Some(handled) => {
            let back = start + Duration::from_nanos(rtt.saturating_add(handled));
            shared.timer.sleep_until(back).await;
        }
        None => shared.timer.sleep(Duration::from_nanos(rtt - there)).await,
    }
    if answer.status < 400 {
        Ok(())
    } else {
        Err(Failure::Other)
    }
}

/// Sends one request to `replica` of service `target` (or to the service's
/// address, when it runs elsewhere) over a pooled connection; returns the
/// answer.
async fn exchange(
    shared: &Emulated,
    target: usize,
    replica: usize,
    context: &Context,
    span: Option<trace::Parent>,
    sync: bool,
) -> Result<crate::loadgen::Answer, Failure> {
    let peer = shared.peers[target].as_deref();
    let address = match peer {
        Some(peer) => Address::Named(peer),
        None => Address::Here(shared.services[target].replicas[replica].address),
    };
    let pool = &shared.pools[target][replica];
    let mut request = format!(
        "GET / HTTP/1.1\r\nhost: {address}\r\n{REQUEST_HEADER}: {}\r\n{CLASS_HEADER}: {}\r\n",
        context.id,
        header_value(&context.class),
    );
    if sync {
        let _ = write!(request, "{SYNC_HEADER}: 1\r\n");
    }
    if let Some((prompt, output)) = context.prefilled {
        let _ = write!(request, "{LLM_HEADER}: {prompt},{output}\r\n");
    }
    if let Some(span) = span {
        let _ = write!(request, "{}: {}\r\n", trace::TRACEPARENT, span.header());
        if !sync {
            let _ = write!(request, "{}: 1\r\n", trace::ASYNC_HEADER);
        }
    }
    request.push_str("\r\n");
    // An idle connection the server may have closed meanwhile: on failure,
    // once more on a new one.
    let idle = lock(pool).pop();
    let reused = match idle {
        Some(mut connection) => connection
            .exchange(request.as_bytes())
            .await
            .ok()
            .map(|answer| (connection, answer)),
        None => None,
    };
    let (connection, answer) = if let Some(done) = reused {
        done
    } else {
        let mut connection = match address {
            Address::Here(address) => Plain::connect(address).await?,
            Address::Named(peer) => Plain::connect_named(peer).await?,
        };
        let answer = connection.exchange(request.as_bytes()).await?;
        (connection, answer)
    };
    if !connection.is_closed() {
        lock(pool).push(connection);
    }
    Ok(answer)
}

/// Where a call goes: a replica in this process, or a service elsewhere by
/// its `host:port` (resolved at each new connection, so a cluster's DNS
/// that comes up after the caller is followed).
#[derive(Clone, Copy)]
enum Address<'a> {
    Here(std::net::SocketAddr),
    Named(&'a str),
}

impl std::fmt::Display for Address<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Here(address) => address.fmt(f),
            Self::Named(peer) => f.write_str(peer),
        }
    }
}

/// The span of one attempt of a call, when traces are written: begun
/// before the attempt (its id is the callee's parent), recorded after it,
/// from when it left to when its answer came back or it timed out.
/// Holds the attempt's own context, its parent (the caller's handling) and
/// when it began as timed: when it was due to leave (never before; see
/// [`serve`]), so the callee's span lies within it.
struct Traced(Option<(trace::Parent, u64, Instant)>);

impl Traced {
    fn begin(shared: &Emulated, context: &Context, start: Instant) -> Self {
        Self(
            shared
                .tracer
                .as_ref()
                .zip(context.parent)
                .map(|(tracer, parent)| {
                    let this = trace::Parent {
                        trace: parent.trace,
                        span: tracer.span_id(),
                    };
                    (this, parent.span, start)
                }),
        )
    }

    /// The context the callee's span is a child of.
    fn child(&self) -> Option<trace::Parent> {
        self.0.map(|(this, ..)| this)
    }

    fn end(
        &self,
        shared: &Emulated,
        call: &Call,
        (station, replica): (usize, usize),
        error: bool,
        end: Instant,
    ) {
        let (Some(tracer), Some((this, parent, start))) = (&shared.tracer, self.0) else {
            return;
        };
        tracer.record(trace::Span {
            trace: this.trace,
            id: this.span,
            parent: Some(parent),
            kind: if call.sync {
                trace::Kind::Client
            } else {
                trace::Kind::Producer
            },
            station,
            replica,
            name: format!(
                "{} -> {}",
                shared.plan.stations[station].name,
                shared.plan.stations[call.target.index()].name
            ),
            start,
            end,
            error,
            queue_wait: None,
        });
    }
}
