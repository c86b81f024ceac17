//! What a load test does, validated before anything is sent: targets,
//! pacing, limits and thresholds. Nothing here touches the network.

use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use hyper::header::{HeaderName, HeaderValue};

use crate::model::{ArrivalProcess, Distribution, LatencyStatistic, RateSegment};

use super::error::LoadError;

/// The most requests per second a plan may ask for: what one machine can
/// send, and the one cap on live load (the app's Live window uses it too).
/// Simulated rates have their own, higher bound
/// ([`crate::model::validate::limits::RATE_RPS`]): a model is not a machine.
pub const MAX_RATE_RPS: f64 = 1_000_000.0;
/// The longest a run may last.
pub const MAX_DURATION: Duration = Duration::from_hours(24);
/// The most connections (open loop) or users (closed loop).
pub const MAX_CONNECTIONS: u32 = 10_000;

/// One URL to drive, with its request.
#[derive(Clone, Debug)]
pub struct Target {
    /// The URL as given.
    pub url: String,
    /// `https`.
    pub tls: bool,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// `host:port` as sent in `Host` and `:authority`.
    pub authority: String,
    /// Path and query, at least `/`.
    pub path: String,
    /// Method.
    pub method: Method,
    /// Headers, environment variables already expanded.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Body (empty for none).
    pub body: Bytes,
    /// Relative share of requests.
    pub weight: f64,
    /// The request URI in origin form (`/path`), for HTTP/1.1.
    pub origin_uri: hyper::Uri,
    /// The request URI in absolute form, for HTTP/2.
    pub absolute_uri: hyper::Uri,
    /// The whole HTTP/1.1 request, serialised once and written as is.
    pub http1_request: Bytes,
}

/// Raw request settings, before validation.
#[derive(Clone, Debug, Default)]
pub struct RequestSpec {
    /// `http://` or `https://` URL.
    pub url: String,
    /// Method name.
    pub method: String,
    /// `(name, value)` pairs; values may contain `${NAME}`.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: Vec<u8>,
    /// Relative share.
    pub weight: f64,
}

impl Target {
    /// Whether its path asks for chat completions (`…/chat/completions`).
    pub fn is_chat(&self) -> bool {
        self.path
            .split('?')
            .next()
            .is_some_and(|p| p.trim_end_matches('/').ends_with("chat/completions"))
    }

    /// Whether the target is on this machine (a loopback address or
    /// `localhost`).
    pub fn is_local(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// Validates a request spec, expanding `${NAME}` in header values from
    /// the environment.
    pub fn new(spec: &RequestSpec) -> Result<Self, LoadError> {
        let bad = |message: String| LoadError::Plan(format!("{}: {message}", spec.url));
        let (tls, rest) = if let Some(rest) = spec.url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = spec.url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(bad("the URL must start with http:// or https://".into()));
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("the URL needs a host (and no user info)".into()));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port))
                if !host.ends_with(']') || authority.starts_with('[') && !port.contains(']') =>
            {
                let port: u16 = port
                    .parse()
                    .map_err(|_| bad(format!("{port:?} is not a port")))?;
                (
                    host.trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_owned(),
                    port,
                )
            }
            _ => (
                authority
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
                if tls { 443 } else { 80 },
            ),
        };
        if host.is_empty() {
            return Err(bad("the URL needs a host".into()));
        }
        let path = if path.is_empty() {
            "/".to_owned()
        } else if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        let method = Method::from_bytes(spec.method.as_bytes())
            .map_err(|_| bad(format!("{:?} is not an HTTP method", spec.method)))?;
        let mut headers = Vec::new();
        for (name, value) in &spec.headers {
            let expanded = expand_env(value).map_err(|var| {
                bad(format!(
                    "header {name:?} names ${{{var}}}, which is not set in the environment"
                ))
            })?;
            let name = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| bad(format!("{name:?} is not a header name")))?;
            let value = HeaderValue::from_str(expanded.trim())
                .map_err(|_| bad(format!("the value of header {name} is not valid")))?;
            headers.push((name, value));
        }
        if !(spec.weight.is_finite() && spec.weight >= 0.0) {
            return Err(bad(format!(
                "the weight {} must be a finite number ≥ 0",
                spec.weight
            )));
        }
        let origin_uri = path
            .parse()
            .map_err(|_| bad(format!("{path:?} is not a valid path")))?;
        let scheme = if tls { "https" } else { "http" };
        let absolute_uri = format!("{scheme}://{authority}{path}")
            .parse()
            .map_err(|_| bad("the URL is not valid".into()))?;
        let http1_request = http1_request(&method, &path, authority, &headers, &spec.body);
        Ok(Self {
            origin_uri,
            absolute_uri,
            http1_request,
            url: spec.url.clone(),
            tls,
            authority: authority.to_owned(),
            host,
            port,
            path,
            method,
            headers,
            body: Bytes::from(spec.body.clone()),
            weight: spec.weight,
        })
    }
}

/// An HTTP/1.1 request as bytes on the wire: request line, `Host`, the
/// headers, `Content-Length` when there is a body (or the method expects
/// one), and the body.
pub(super) fn http1_request(
    method: &Method,
    path: &str,
    authority: &str,
    headers: &[(HeaderName, HeaderValue)],
    body: &[u8],
) -> Bytes {
    let mut out = Vec::with_capacity(64 + path.len() + body.len());
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    // A Host header given by the user wins over the URL's.
    let host = headers
        .iter()
        .find(|(name, _)| name == hyper::header::HOST)
        .map_or(authority.as_bytes(), |(_, value)| value.as_bytes());
    out.extend_from_slice(host);
    out.extend_from_slice(b"\r\n");
    let mut has_length = false;
    for (name, value) in headers {
        if name == hyper::header::HOST {
            continue;
        }
        has_length |= name == hyper::header::CONTENT_LENGTH;
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let expects_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if !has_length && (!body.is_empty() || expects_body) {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Bytes::from(out)
}

/// Replaces each `${NAME}` with the environment variable NAME; the error is
/// the first name that is not set.
pub fn expand_env(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &rest[start + 2..start + end];
        out.push_str(&std::env::var(name).map_err(|_| name.to_owned())?);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The targets of scenario `scenario`: each request class's entry service's
/// endpoint, weighted by the class's share of the traffic.
pub fn project_targets(
    project: &crate::model::Project,
    scenario: usize,
) -> Result<Vec<Target>, LoadError> {
    let Some(s) = project.scenarios.get(scenario) else {
        return Err(LoadError::Plan(format!(
            "the project has no scenario {scenario}"
        )));
    };
    let mut targets = Vec::new();
    for class in &project.workload.classes {
        let Some(service) = s.services.iter().find(|x| x.name == class.entry) else {
            return Err(LoadError::Plan(format!(
                "class {:?} enters at {:?}, which scenario {:?} lacks",
                class.name, class.entry, s.name
            )));
        };
        let place = format!("scenario {:?} / service {:?}", s.name, service.name);
        let Some(endpoint) = &service.endpoint else {
            return Err(LoadError::Plan(format!(
                "{place}: no endpoint to load; add endpoint: (url: \"http://…\") to it"
            )));
        };
        let target = Target::new(&RequestSpec {
            url: endpoint.url.clone(),
            method: endpoint.method.clone(),
            headers: endpoint
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            body: endpoint.body.clone().unwrap_or_default().into_bytes(),
            weight: class.weight,
        })
        .map_err(|e| LoadError::Plan(format!("{place} / endpoint: {e}")))?;
        targets.push(target);
    }
    Ok(targets)
}

/// How requests are paced.
#[derive(Clone, Debug)]
pub enum Pacing {
    /// A schedule fixed in advance (like wrk2): request k is due at its own
    /// time whatever happens to earlier ones, and its latency counts from then.
    Open {
        /// Evenly spaced (the usual) or Poisson.
        process: ArrivalProcess,
        /// The rate over time, as pieces from time zero.
        segments: Vec<RateSegment>,
        /// How many connections send the scheduled requests.
        connections: u32,
        /// Seed of a Poisson schedule.
        seed: u64,
    },
    /// Users that each wait for their answer, think, and ask again.
    Closed {
        /// How many users (one connection each).
        users: u32,
        /// The pause between an answer and the next request.
        think: Distribution,
    },
}

/// A threshold that decides a run's exit code: `p99<200ms`, `errors<1%`.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// As written.
    pub text: String,
    /// What is bounded.
    pub metric: ThresholdMetric,
    /// The bound: milliseconds, or a fraction for errors.
    pub limit: f64,
    /// `<=` rather than `<`.
    pub inclusive: bool,
}

/// What a threshold bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ThresholdMetric {
    /// A statistic of the (corrected) latency.
    Latency(LatencyStatistic),
    /// Failed requests over all requests.
    Errors,
}

impl std::str::FromStr for Threshold {
    type Err = LoadError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            LoadError::Plan(format!(
                "threshold {text:?}: write a statistic, < or <=, and a limit, like p99<200ms or errors<1%"
            ))
        };
        let (name, inclusive, limit) = if let Some((n, l)) = text.split_once("<=") {
            (n, true, l)
        } else {
            let (n, l) = text.split_once('<').ok_or_else(bad)?;
            (n, false, l)
        };
        let (name, limit) = (name.trim(), limit.trim());
        if name == "errors" {
            let fraction = match limit.strip_suffix('%') {
                Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
                None => limit.parse::<f64>(),
            }
            .map_err(|_| bad())?;
            if !(0.0..=1.0).contains(&fraction) {
                return Err(bad());
            }
            return Ok(Self {
                text: text.trim().to_owned(),
                metric: ThresholdMetric::Errors,
                limit: fraction,
                inclusive,
            });
        }
        let target: crate::model::LatencyTarget =
            format!("{name} <= {limit}").parse().map_err(|_| bad())?;
        if target.measure != crate::model::LatencyMeasure::EndToEnd {
            // A load test measures whole responses; streamed tokens are not
            // timed yet.
            return Err(bad());
        }
        Ok(Self {
            text: text.trim().to_owned(),
            metric: ThresholdMetric::Latency(target.statistic),
            limit: target.limit.as_millis_f64(),
            inclusive,
        })
    }
}

impl Threshold {
    /// Whether `value` meets it.
    pub fn holds(&self, value: f64) -> bool {
        if self.inclusive {
            value <= self.limit
        } else {
            value < self.limit
        }
    }
}

pub use crate::model::{MAX_SHARDS, Shard};

/// A whole load test, validated.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    /// Where requests go.
    pub targets: Vec<Target>,
    /// How they are paced.
    pub pacing: Pacing,
    /// How long the schedule runs, warm-up included.
    pub duration: Duration,
    /// Send on time to the microsecond (on a timer thread of its own)
    /// rather than to tokio's millisecond, which sends requests due within
    /// the same millisecond together: a burstier arrival process than the
    /// one asked for, which a server with sub-millisecond work notices.
    pub precise: bool,
    /// The first part of the run, whose requests are sent but not measured
    /// (the report covers the rest); zero measures everything.
    pub warmup: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Speak HTTP/2 (ALPN over TLS, prior knowledge over plain TCP).
    pub http2: bool,
    /// Accept any TLS certificate (self-signed test servers).
    pub insecure: bool,
    /// Checks on the result.
    pub thresholds: Vec<Threshold>,
    /// Threads sending requests, each with its own event loop; `None`
    /// chooses ([`LoadPlan::threads`]).
    pub threads: Option<u32>,
    /// This run's share of a sharded one.
    pub shard: Option<Shard>,
    /// When the schedule starts (every shard at the same instant); `None`:
    /// at once.
    pub start_at: Option<std::time::SystemTime>,
    /// Streamed completions from an OpenAI-compatible LLM endpoint, each
    /// request's lengths drawn, its tokens timed; `None`: the targets'
    /// own requests.
    pub llm: Option<LlmRequests>,
}

/// What each request to an OpenAI-compatible completions endpoint
/// (`/v1/completions`, or `/v1/chat/completions` when the URL's path ends
/// in `chat/completions`) asks for: `POST` with a JSON body, `"stream":
/// true`, a prompt of a drawn number of words, and a drawn `max_tokens`
/// with `ignore_eos` (so the answer has that many tokens on servers that
/// honour it, as vLLM does).
#[derive(Clone, Debug)]
pub struct LlmRequests {
    /// Prompt lengths, in tokens: the prompt is that many words that
    /// common tokenizers take as one token each.
    pub prompt: crate::model::TokenCount,
    /// Output lengths, sent as `max_tokens`.
    pub max_tokens: crate::model::TokenCount,
    /// The `model` field.
    pub model: String,
}

impl LlmRequests {
    /// The JSON body asking for a completion of `prompt` words and
    /// `max_tokens` tokens, in the chat form or not.
    pub fn body(&self, chat: bool, prompt: u32, max_tokens: u32) -> Bytes {
        let mut text = String::with_capacity(prompt as usize * 6);
        for i in 0..prompt {
            text.push_str(if i == 0 { "hello" } else { " hello" });
        }
        let mut body = serde_json::json!({
            "model": self.model,
            "max_tokens": max_tokens,
            "stream": true,
            "stream_options": {"include_usage": true},
            "ignore_eos": true,
            "temperature": 0,
        });
        if chat {
            body["messages"] = serde_json::json!([{"role": "user", "content": text}]);
        } else {
            body["prompt"] = serde_json::Value::String(text);
        }
        Bytes::from(body.to_string())
    }
}

/// The most sending threads a plan may ask for.
pub const MAX_THREADS: u32 = 256;

impl LoadPlan {
    /// A plan of `targets` paced by `pacing` for `duration`, with the
    /// command line's defaults for the rest: no warm-up, a 10 s timeout,
    /// HTTP/1.1, certificates checked, no thresholds, whole, at once.
    pub fn new(targets: Vec<Target>, pacing: Pacing, duration: Duration) -> Self {
        Self {
            targets,
            pacing,
            duration,
            precise: false,
            warmup: Duration::ZERO,
            timeout: Duration::from_secs(10),
            http2: false,
            insecure: false,
            thresholds: Vec::new(),
            threads: None,
            shard: None,
            start_at: None,
            llm: None,
        }
    }

    /// The threads the run uses: as asked, or else one per core, but only
    /// half the cores when every target is on this machine, so the server
    /// keeps the rest (two event loops on two cores beside a local server
    /// send less than one: they take turns with it on the same cores).
    pub fn threads(&self) -> u32 {
        if let Some(threads) = self.threads {
            return threads;
        }
        let cores = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .try_into()
            .unwrap_or(u32::MAX);
        if self.targets.iter().all(Target::is_local) {
            (cores / 2).max(1)
        } else {
            cores
        }
    }

    /// Checks every bound; the message names the offending setting.
    pub fn validate(&self) -> Result<(), LoadError> {
        let bad = |m: String| Err(LoadError::Plan(m));
        if let Some(threads) = self.threads
            && !(1..=MAX_THREADS).contains(&threads)
        {
            return bad(format!(
                "threads must be between 1 and {MAX_THREADS}, got {threads}"
            ));
        }
        if self.targets.is_empty() {
            return bad("there is nothing to load: no target".into());
        }
        if self.targets.iter().all(|t| t.weight <= 0.0) {
            return bad("at least one target needs a weight above 0".into());
        }
        if self.duration.is_zero() || self.duration > MAX_DURATION {
            return bad(format!(
                "the duration must be above zero and at most 24h, got {:?}",
                self.duration
            ));
        }
        if self.warmup >= self.duration {
            return bad(format!(
                "the warm-up ({:?}) must be shorter than the whole run ({:?})",
                self.warmup, self.duration
            ));
        }
        if self.timeout.is_zero() || self.timeout > Duration::from_mins(10) {
            return bad(format!(
                "the timeout must be above zero and at most 10m, got {:?}",
                self.timeout
            ));
        }
        match &self.pacing {
            Pacing::Open {
                segments,
                connections,
                ..
            } => {
                let peak = segments
                    .iter()
                    .map(|s| s.start_rps.max(s.end_rps))
                    .fold(0.0, f64::max);
                if !(peak.is_finite() && peak > 0.0 && peak <= MAX_RATE_RPS) {
                    return bad(format!(
                        "the rate must be above 0 and at most {MAX_RATE_RPS} rps, got {peak}"
                    ));
                }
                if *connections == 0 || *connections > MAX_CONNECTIONS {
                    return bad(format!(
                        "connections must be between 1 and {MAX_CONNECTIONS}, got {connections}"
                    ));
                }
            }
            Pacing::Closed { users, think } => {
                if *users == 0 || *users > MAX_CONNECTIONS {
                    return bad(format!(
                        "users must be between 1 and {MAX_CONNECTIONS}, got {users}"
                    ));
                }
                think
                    .check()
                    .map_err(|m| LoadError::Plan(format!("think time: {m}")))?;
            }
        }
        Ok(())
    }

    /// How the mode reads in a report: `open 2000 rps` or `closed 50 users`.
    pub fn describe(&self) -> String {
        let shard = self.shard.map_or_else(String::new, |s| match self.pacing {
            Pacing::Open { .. } => format!(", shard {s}: 1 in {} of the requests", s.count),
            Pacing::Closed { .. } => format!(", shard {s} of the users"),
        });
        let pacing = match &self.pacing {
            Pacing::Open {
                segments,
                connections,
                ..
            } => {
                let rate = segments.first().map_or(0.0, |s| s.start_rps);
                let shape = if segments.len() > 1 {
                    " (with a profile)"
                } else {
                    ""
                };
                format!("open {rate} rps{shape} over {connections} connections")
            }
            Pacing::Closed { users, think } => format!("closed {users} users thinking {think}"),
        };
        let llm = self.llm.as_ref().map_or_else(String::new, |llm| {
            format!(
                ", LLM streaming: prompts {} tokens, max_tokens {}",
                llm.prompt, llm.max_tokens
            )
        });
        pacing + &shard + &llm
    }
}

#[cfg(test)]
mod tests {
    use super::{RequestSpec, Target, Threshold, ThresholdMetric};

    fn target(url: &str) -> Result<Target, super::LoadError> {
        Target::new(&RequestSpec {
            url: url.into(),
            method: "GET".into(),
            weight: 1.0,
            ..RequestSpec::default()
        })
    }

    #[test]
    fn urls_are_split_into_their_parts() {
        let t = target("http://127.0.0.1:8080/api/v1?x=1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str(), t.tls),
            ("127.0.0.1", 8080, "/api/v1?x=1", false)
        );
        let t = target("https://example.test").unwrap();
        assert_eq!(
            (t.port, t.path.as_str(), t.tls, t.authority.as_str()),
            (443, "/", true, "example.test")
        );
        let t = target("http://[::1]:9000/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9000));
        for bad in ["ftp://x", "http://", "http://host:99999/", "localhost:80"] {
            assert!(target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn header_values_read_the_environment() {
        // A name no environment sets: setting variables is unsafe in tests.
        let name = "ARCHBENCH_TEST_TOKEN_PLAN";
        let spec = |value: &str| RequestSpec {
            url: "http://127.0.0.1/".into(),
            method: "GET".into(),
            headers: vec![("authorization".into(), value.into())],
            weight: 1.0,
            ..RequestSpec::default()
        };
        assert!(
            Target::new(&spec(&format!("Bearer ${{{name}}}"))).is_err(),
            "unset variables are refused"
        );
        assert_eq!(super::expand_env("a${}b").unwrap_err(), "");
        assert_eq!(super::expand_env("plain").unwrap(), "plain");
    }

    #[test]
    fn thresholds_parse() {
        let t: Threshold = "p99<200ms".parse().unwrap();
        assert!((t.limit - 200.0).abs() < 1e-12);
        assert!(t.holds(199.9) && !t.holds(200.0));
        let t: Threshold = "errors<=1%".parse().unwrap();
        assert_eq!(t.metric, ThresholdMetric::Errors);
        assert!(t.holds(0.01));
        for bad in ["p99>200ms", "errors<200%", "p42<1ms", "latency"] {
            assert!(bad.parse::<Threshold>().is_err(), "{bad}");
        }
    }
}
