//! The listeners: each service's balancer and each replica on its own port
//! of 127.0.0.1, HTTP/1.1 with keep-alive through hyper, and the counters
//! at [`super::STATS_PATH`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use crate::sim::plan::Plan;

use super::super::client::HANDLED_HEADER;
use super::super::error::LoadError;
use super::llm;
use super::request::{self, Context};
use super::station::{Outcome, lock};
use super::{CLASS_HEADER, Emulated, LLM_HEADER, REQUEST_HEADER, STATS_PATH, SYNC_HEADER, trace};

/// One service's bound listeners. In one-service mode the service run
/// here has its balancer's listener only (its replicas' addresses are that
/// one), and the services run elsewhere have none.
pub(super) struct Bound {
    pub front: Option<(std::net::TcpListener, SocketAddr)>,
    pub replicas: Vec<(Option<std::net::TcpListener>, SocketAddr)>,
}

impl Bound {
    pub(super) fn addresses(&self) -> Vec<SocketAddr> {
        self.replicas.iter().map(|(_, a)| *a).collect()
    }
}

/// Binds every listener, or none: on any failure the ones bound so far
/// close as they are dropped, and the error names the port and its owner.
pub(super) fn bind(plan: &Plan, base_port: Option<u16>) -> Result<Vec<Bound>, LoadError> {
    let mut next = base_port;
    let mut open = |service: &str, replica: Option<u32>| {
        let port = next.unwrap_or(0);
        if let Some(p) = next {
            next = p.checked_add(1);
            if p == 0 || next.is_none() && replica.is_none() {
                return Err(LoadError::Plan(format!(
                    "--port {}: the range runs past 65535",
                    base_port.unwrap_or(0)
                )));
            }
        }
        let who = match replica {
            Some(r) => format!("service {service:?} replica {r}"),
            None => format!("service {service:?}"),
        };
        let listener =
            std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|source| LoadError::Io {
                what: format!("cannot listen on 127.0.0.1:{port} for {who}"),
                cause: source,
            })?;
        let io = |source| LoadError::Io {
            what: format!("cannot set up the listener of {who}"),
            cause: source,
        };
        listener.set_nonblocking(true).map_err(io)?;
        let address = listener.local_addr().map_err(io)?;
        Ok((listener, address))
    };
    plan.stations
        .iter()
        .map(|station| {
            let front = open(&station.name, None)?;
            let replicas = (0..station.replicas)
                .map(|r| open(&station.name, Some(r)).map(|(l, a)| (Some(l), a)))
                .collect::<Result<_, _>>()?;
            Ok(Bound {
                front: Some(front),
                replicas,
            })
        })
        .collect()
}

/// Binds the one listener of station `only` at `listen` (one-service mode).
pub(super) fn bind_one(
    plan: &Plan,
    only: usize,
    listen: SocketAddr,
) -> Result<Vec<Bound>, LoadError> {
    let name = &plan.stations[only].name;
    let io = |what: String| {
        move |source| LoadError::Io {
            what: what.clone(),
            cause: source,
        }
    };
    let listener = std::net::TcpListener::bind(listen).map_err(io(format!(
        "cannot listen on {listen} for service {name:?}"
    )))?;
    listener.set_nonblocking(true).map_err(io(format!(
        "cannot set up the listener of service {name:?}"
    )))?;
    let address = listener.local_addr().map_err(io(format!(
        "cannot set up the listener of service {name:?}"
    )))?;
    let mut listener = Some(listener);
    Ok(plan
        .stations
        .iter()
        .enumerate()
        .map(|(i, station)| Bound {
            front: if i == only {
                listener.take().map(|l| (l, address))
            } else {
                None
            },
            replicas: if i == only {
                (0..station.replicas).map(|_| (None, address)).collect()
            } else {
                Vec::new()
            },
        })
        .collect())
}

/// Starts an accept loop per listener on `runtime`.
pub(super) fn serve(runtime: &tokio::runtime::Runtime, shared: &Arc<Emulated>, bound: Vec<Bound>) {
    for (station, b) in bound.into_iter().enumerate() {
        if let Some((front, _)) = b.front {
            runtime.spawn(accept(Arc::clone(shared), front, station, None));
        }
        for (replica, (listener, _)) in b.replicas.into_iter().enumerate() {
            if let Some(listener) = listener {
                runtime.spawn(accept(Arc::clone(shared), listener, station, Some(replica)));
            }
        }
    }
}

async fn accept(
    shared: Arc<Emulated>,
    listener: std::net::TcpListener,
    station: usize,
    replica: Option<usize>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors, say: wait rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                handle(Arc::clone(&shared), station, replica, request)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    shared: Arc<Emulated>,
    station: usize,
    replica: Option<usize>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.uri().path() == STATS_PATH {
        return Ok(stats(&shared, station, replica));
    }
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    #[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
    let arrived = Instant::now();
    let class = header(CLASS_HEADER).unwrap_or_default();
    let sync = header(SYNC_HEADER).is_some();
    let prefilled = prefilled_lengths(header(LLM_HEADER).as_deref());
    let id = header(REQUEST_HEADER)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| shared.next_request.fetch_add(1, Ordering::Relaxed));
    // This handling's span: a child of the caller's, or a new trace.
    let traced = shared.tracer.as_ref().map(|tracer| {
        let caller = header(trace::TRACEPARENT).and_then(|v| trace::Parent::parse(&v));
        let this = trace::Parent {
            trace: caller.map_or_else(|| tracer.trace_id(), |c| c.trace),
            span: tracer.span_id(),
        };
        let kind = if header(trace::ASYNC_HEADER).is_some() {
            trace::Kind::Consumer
        } else {
            trace::Kind::Server
        };
        (this, caller.map(|c| c.span), kind)
    });
    // Read the body to its end, keeping none of it.
    let mut body = request.into_body();
    while let Some(frame) = body.frame().await {
        if frame.is_err() {
            break;
        }
    }
    let replica = replica.unwrap_or_else(|| shared.services[station].choose());
    // A request from outside names no class: it is one of the classes that
    // enter here, drawn by their weights, as the simulator draws it.
    let class = if shared.plan.classes.iter().any(|c| c.name == class) {
        class
    } else {
        entering_class(&shared, station, replica)
    };
    // The work runs on its own task: a caller that gives up (a timeout)
    // closes its connection, but the service finishes the request, holding
    // its worker, as the model says.
    let context = Context {
        id,
        class,
        parent: traced.map(|(this, ..)| this),
        prefilled,
    };
    let work = {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let arrived = match request::arrive(&shared, station, replica) {
                Ok(arrived) => arrived,
                Err(refused) => return refused,
            };
            match &shared.llm[station] {
                Some(replicas) => {
                    llm::serve(&shared, (station, replica), &context, arrived, replicas).await
                }
                None => {
                    request::serve(Arc::clone(&shared), (station, replica), arrived, context).await
                }
            }
        })
    };
    let served = work.await.unwrap_or(request::Served {
        outcome: Outcome::Error,
        arrived,
        granted: None,
        finished: arrived,
    });
    let outcome = served.outcome;
    if let (Some(tracer), Some((this, parent, kind))) = (&shared.tracer, traced) {
        tracer.record(trace::Span {
            trace: this.trace,
            id: this.span,
            parent,
            kind,
            station,
            replica,
            name: "GET /".into(),
            // The handling, from when the request had been read to when
            // its answer was ready (as a handler's span would be): the
            // wait for a worker (an attribute) is part of it.
            start: served.arrived,
            end: served.finished,
            error: outcome != Outcome::Ok,
            queue_wait: served
                .granted
                .map(|at| at.saturating_duration_since(served.arrived)),
        });
    }
    let mut response = respond(outcome.status(), "");
    if sync {
        let handled = served.finished.saturating_duration_since(served.arrived);
        if let Ok(value) = hyper::header::HeaderValue::from_str(&handled.as_nanos().to_string()) {
            response.headers_mut().insert(HANDLED_HEADER, value);
        }
    }
    Ok(response)
}

fn stats(shared: &Emulated, station: usize, replica: Option<usize>) -> Response<Full<Bytes>> {
    #[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
    let now = Instant::now();
    let json = match replica {
        None => serde_json::to_vec(&shared.service_stats(station, now)),
        Some(r) => {
            let workers = shared.plan.stations[station].workers;
            let index = u32::try_from(r).unwrap_or(u32::MAX);
            serde_json::to_vec(&shared.services[station].replicas[r].stats(index, workers, now))
        }
    };
    match json {
        Ok(body) => {
            let mut response = Response::new(Full::new(Bytes::from(body)));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(_) => respond(500, "cannot write the counters"),
    }
}

fn respond(status: u16, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
}

/// One of the classes entering at `station`, drawn by weight with
/// `replica`'s random stream; empty when none enters there.
fn entering_class(shared: &Emulated, station: usize, replica: usize) -> String {
    let mut previous = 0.0;
    let mut entering = Vec::new();
    for class in &shared.plan.classes {
        let weight = class.cumulative_weight - previous;
        previous = class.cumulative_weight;
        if class.entry.index() == station {
            let total = entering.last().map_or(0.0, |&(_, c)| c) + weight;
            entering.push((class.name.as_str(), total));
        }
    }
    let Some(&(_, total)) = entering.last() else {
        return String::new();
    };
    if entering.len() == 1 {
        return entering[0].0.to_owned();
    }
    let rng = &shared.services[station].replicas[replica].rng;
    let index = lock(rng).weighted(&entering, |&(_, c)| c / total);
    entering[index].0.to_owned()
}

/// The `prompt,output` lengths of [`LLM_HEADER`], when well formed.
fn prefilled_lengths(value: Option<&str>) -> Option<(u64, u64)> {
    let (prompt, output) = value?.split_once(',')?;
    Some((prompt.trim().parse().ok()?, output.trim().parse().ok()?))
}
