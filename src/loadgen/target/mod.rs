//! A target server to aim the load generator at: a real HTTP server on
//! 127.0.0.1 whose every request takes a service time drawn from a
//! distribution, on N workers, so measurement can be checked against
//! simulation (it is an M/G/N queue) on one machine.
//!
//! Workers are OS threads that sleep for the service time: thread sleeps are
//! precise to tens of microseconds, where tokio's timer rounds up to whole
//! milliseconds. Requests wait for a free worker in arrival order. The server
//! can also stall completely (no worker answers) for `stall` at the end of
//! every `every`, and fail a fraction of requests with status 500.
//!
//! It stays up for normal clients whatever others do: request bodies are
//! read and discarded as they arrive (memory does not grow with a body), a
//! connection idle for [`IDLE_TIMEOUT`] is closed, a failed accept (out of
//! descriptors) backs off instead of spinning, and at [`max_connections`]
//! open the connection idle the longest is closed to make room.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::model::Distribution;
use crate::sim::{Rng, Sampler};

use super::error::LoadError;

pub(crate) mod llm;

/// A response of the target: whole, or an LLM answer streamed.
type Answer = Response<http_body_util::Either<Full<Bytes>, llm::TokenBody>>;

/// The most worker threads a target may have.
pub const MAX_WORKERS: u32 = 1024;

/// A connection with no request for this long (or a request head that takes
/// this long to arrive) is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections kept open: the process's limit on open files less
/// room for everything else, and at most 16,384.
pub fn max_connections() -> usize {
    // Linux says it in /proc; elsewhere assume the common default of 1,024.
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse::<usize>().ok()
        })
        .unwrap_or(1024);
    limit.saturating_sub(128).clamp(16, 16_384)
}

/// How the target behaves.
#[derive(Clone, Debug)]
pub struct TargetConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Time each request takes on its worker.
    pub service_time: Distribution,
    /// Requests served at once.
    pub workers: u32,
    /// Stall for the first duration at the end of every period of the second.
    pub stall: Option<(Duration, Duration)>,
    /// Fraction of requests answered with status 500.
    pub error_rate: f64,
    /// Seed of the service-time and error draws.
    pub seed: u64,
    /// Serve OpenAI-compatible completions from LLM replicas instead
    /// (`target/llm.rs`); the other settings then do not apply.
    pub llm: Option<LlmTarget>,
}

/// The LLM server the target's LLM mode runs.
#[derive(Clone, Debug)]
pub struct LlmTarget {
    /// Its batching and step times.
    pub serving: crate::model::LlmServing,
    /// Replicas, each running its own batch; requests go to them in turn.
    pub replicas: u32,
}

impl Default for TargetConfig {
    fn default() -> Self {
        Self {
            port: 0,
            service_time: Distribution::default(),
            workers: 64,
            stall: None,
            error_rate: 0.0,
            seed: 1,
            llm: None,
        }
    }
}

impl TargetConfig {
    /// Checks every bound; the message names the offending option.
    pub fn validate(&self) -> Result<(), LoadError> {
        let bad = |m: String| Err(LoadError::Plan(m));
        self.service_time
            .check()
            .map_err(|m| LoadError::Plan(format!("--service-time: {m}")))?;
        if self.workers == 0 || self.workers > MAX_WORKERS {
            return bad(format!(
                "--workers must be between 1 and {MAX_WORKERS}, got {}",
                self.workers
            ));
        }
        if !(0.0..=1.0).contains(&self.error_rate) {
            return bad(format!(
                "--error-rate must be between 0 and 1, got {}",
                self.error_rate
            ));
        }
        if let Some((stall, every)) = self.stall
            && (every.is_zero() || stall > every)
        {
            return bad(format!(
                "--stall {stall:?} must fit inside --every {every:?}"
            ));
        }
        Ok(())
    }
}

struct Job {
    service: Duration,
    reply: oneshot::Sender<()>,
}

/// A running target server; it stops when dropped.
pub struct TargetServer {
    address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TargetServer {
    /// Binds 127.0.0.1:`port` and starts serving.
    pub fn start(config: &TargetConfig) -> Result<Self, LoadError> {
        config.validate()?;
        let io = |what: &str| {
            let what = what.to_owned();
            move |source| LoadError::Io {
                what,
                cause: source,
            }
        };
        let listener = std::net::TcpListener::bind(("127.0.0.1", config.port))
            .map_err(io(&format!("cannot listen on 127.0.0.1:{}", config.port)))?;
        listener
            .set_nonblocking(true)
            .map_err(io("cannot set up the listener"))?;
        let address = listener
            .local_addr()
            .map_err(io("cannot read the listening address"))?;
        let (jobs, queue) = mpsc::unbounded_channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        #[expect(clippy::disallowed_methods, reason = "stall windows are in real time")]
        let epoch = Instant::now();
        for index in 0..config.workers {
            let queue = Arc::clone(&queue);
            let stall = config.stall;
            std::thread::Builder::new()
                .name(format!("target-worker-{index}"))
                .spawn(move || serve_jobs(&queue, stall, epoch))
                .map_err(io("cannot start a target worker thread"))?;
        }
        let llm = config
            .llm
            .as_ref()
            .map(|l| llm::Replicas::start(&crate::sim::LlmPlan::new(&l.serving), l.replicas))
            .transpose()
            .map_err(io("cannot start the target's LLM replicas"))?
            .map(Arc::new);
        let (shutdown, stopped) = oneshot::channel();
        let draws = Arc::new(Mutex::new(RequestDraws {
            service_time: Sampler::new(&config.service_time),
            rng: Rng::stream(config.seed, 0, "target"),
            error_rate: config.error_rate,
            stalls: config.stall.is_some(),
        }));
        let thread = std::thread::Builder::new()
            .name("target".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("target-io")
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(accept(listener, jobs, draws, llm, stopped));
            })
            .map_err(io("cannot start the target's thread"))?;
        Ok(Self {
            address,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its base URL, like `http://127.0.0.1:8080/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TargetServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The random draws every request makes, and whether stalls are configured.
struct RequestDraws {
    service_time: Sampler,
    rng: Rng,
    error_rate: f64,
    stalls: bool,
}

type Draws = Arc<Mutex<RequestDraws>>;

/// What the accept loop knows of an open connection.
struct Open {
    /// Requests being handled.
    busy: Arc<AtomicU32>,
    /// When it last finished a request (or opened), in ms from `epoch`.
    last_active: Arc<AtomicU64>,
    abort: tokio::task::AbortHandle,
}

async fn accept(
    listener: std::net::TcpListener,
    jobs: mpsc::UnboundedSender<Job>,
    draws: Draws,
    llm: Option<Arc<llm::Replicas>>,
    mut stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = TcpListener::from_std(listener) else {
        return;
    };
    let limit = max_connections();
    #[expect(clippy::disallowed_methods, reason = "idle times are real time")]
    let epoch = Instant::now();
    let mut connections = tokio::task::JoinSet::new();
    let mut open: HashMap<tokio::task::Id, Open> = HashMap::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(IDLE_TIMEOUT);
    let builder = Arc::new(builder);
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            Some(done) = connections.join_next_with_id() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(error) => error.id(),
                };
                open.remove(&id);
            }
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors (or a connection reset before it
                    // was accepted): make room and wait a little rather
                    // than spin on the same error.
                    close_longest_idle(&mut open);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                if open.len() >= limit && !close_longest_idle(&mut open) {
                    // Every connection is busy: this one waits no answer.
                    drop(stream);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                let busy = Arc::new(AtomicU32::new(0));
                let last_active = Arc::new(AtomicU64::new(millis_since(epoch)));
                let (jobs, draws, builder, llm) =
                    (jobs.clone(), Arc::clone(&draws), Arc::clone(&builder), llm.clone());
                let (busy_here, active_here) = (Arc::clone(&busy), Arc::clone(&last_active));
                let abort = connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let (busy, active) = (Arc::clone(&busy_here), Arc::clone(&active_here));
                        let (jobs, draws, llm) = (jobs.clone(), Arc::clone(&draws), llm.clone());
                        async move {
                            busy.fetch_add(1, Ordering::Relaxed);
                            let response = match llm {
                                Some(llm) => Ok(llm.handle(request).await),
                                None => handle(request, jobs, draws).await,
                            };
                            active.store(millis_since(epoch), Ordering::Relaxed);
                            busy.fetch_sub(1, Ordering::Relaxed);
                            response
                        }
                    });
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                open.insert(abort.id(), Open { busy, last_active, abort });
            }
        }
    }
    // Dropping the set closes every connection: the server is gone.
    connections.abort_all();
}

/// Closes the open connection idle the longest; false when none is idle.
fn close_longest_idle(open: &mut HashMap<tokio::task::Id, Open>) -> bool {
    let idlest = open
        .iter()
        .filter(|(_, c)| c.busy.load(Ordering::Relaxed) == 0)
        .min_by_key(|(_, c)| c.last_active.load(Ordering::Relaxed))
        .map(|(id, _)| *id);
    match idlest.and_then(|id| open.remove(&id)) {
        Some(connection) => {
            connection.abort.abort();
            true
        }
        None => false,
    }
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

async fn handle(
    request: Request<Incoming>,
    jobs: mpsc::UnboundedSender<Job>,
    draws: Draws,
) -> Result<Answer, Infallible> {
    // Read the request body to its end, as a real service would, but keep
    // none of it: memory stays flat however large the body.
    let mut body = request.into_body();
    while let Some(frame) = body.frame().await {
        if frame.is_err() {
            break;
        }
    }
    let (service, fail, stalls) = {
        let mut guard = draws.lock().unwrap_or_else(PoisonError::into_inner);
        let draws = &mut *guard;
        let service = Duration::from_nanos(draws.service_time.sample(&mut draws.rng));
        let fail = draws.error_rate > 0.0 && draws.rng.chance(draws.error_rate);
        (service, fail, draws.stalls)
    };
    // Zero-time work needs no worker unless a stall may hold it.
    if !service.is_zero() || stalls {
        let (reply, done) = oneshot::channel();
        if jobs.send(Job { service, reply }).is_err() || done.await.is_err() {
            return Ok(respond(503, "shutting down"));
        }
    }
    Ok(if fail {
        respond(500, "injected error")
    } else {
        respond(200, "ok")
    })
}

fn respond(status: u16, body: &'static str) -> Answer {
    let mut response = Response::new(http_body_util::Either::Left(Full::new(Bytes::from_static(
        body.as_bytes(),
    ))));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    response
}

/// A worker thread: take the oldest job, sleep its service time, wait out
/// any stall, answer.
fn serve_jobs(
    queue: &Mutex<mpsc::UnboundedReceiver<Job>>,
    stall: Option<(Duration, Duration)>,
    epoch: Instant,
) {
    let mut sleep = PreciseSleep::default();
    loop {
        let job = {
            let mut queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.blocking_recv()
        };
        let Some(job) = job else { return };
        if !job.service.is_zero() {
            sleep.sleep_for(job.service);
        }
        if let Some((stall, every)) = stall {
            let into = epoch.elapsed().as_nanos() % every.as_nanos();
            let stall_starts = every.as_nanos() - stall.as_nanos();
            if into >= stall_starts {
                let remaining = every.as_nanos() - into;
                std::thread::sleep(Duration::from_nanos(
                    u64::try_from(remaining).unwrap_or(u64::MAX),
                ));
            }
        }
        let _ = job.reply.send(());
    }
}

/// Sleeps for a service time, right on average. The OS oversleeps by a
/// fairly steady amount (0.1–0.3 ms on virtual machines), so this sleeps for
/// the time less its running estimate of that overshoot, and updates the
/// estimate from each wake-up. (Spinning to the exact deadline would be more
/// precise, but steals the CPU that the load generator and server need.)
struct PreciseSleep {
    overshoot: Duration,
}

impl Default for PreciseSleep {
    fn default() -> Self {
        Self {
            overshoot: Duration::from_micros(100),
        }
    }
}

impl PreciseSleep {
    #[expect(
        clippy::disallowed_methods,
        reason = "the target server works in real time"
    )]
    fn sleep_for(&mut self, duration: Duration) {
        let start = Instant::now();
        let asked = duration.saturating_sub(self.overshoot);
        std::thread::sleep(asked);
        let overshoot = Instant::now()
            .saturating_duration_since(start + asked)
            .min(Duration::from_millis(2));
        // An exponential average: steady, yet quick to follow the machine.
        self.overshoot = (self.overshoot * 7 + overshoot) / 8;
    }
}
