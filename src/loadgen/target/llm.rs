//! The target's LLM mode: an OpenAI-compatible completions server
//! (`/v1/completions` and `/v1/chat/completions`, streamed as server-sent
//! events or not) whose replicas run continuous batching on the wall clock
//! with the simulator's own rules ([`crate::sim::batch::Batcher`]) and
//! step times, so a load test of it measures what the simulation of the
//! same model predicts.
//!
//! A request's prompt counts a token per whitespace-separated word (or per
//! element of a token-id list); it asks for `max_tokens` (or
//! `max_completion_tokens`; 16 by default) and gets exactly that many, one
//! event per token, each sent when the step that produced it ends. Requests
//! go to the replicas in turn. A replica is a thread that sleeps through
//! each step; the response headers (and a chat stream's role event) go out
//! at once, before the first token.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use tokio::sync::mpsc;

use crate::sim::LlmPlan;
use crate::sim::batch::Batcher;

use super::PreciseSleep;

/// Requests a replica may have waiting to be taken in before it refuses
/// more (503): far more than any cache admits.
const MAX_QUEUED: usize = 65_536;

/// The largest request body read, in bytes.
const MAX_BODY: usize = 16 << 20;

/// `max_tokens` when a request gives none (as the `OpenAI` API does).
const DEFAULT_MAX_TOKENS: u64 = 16;

/// The replicas of an LLM server, each a thread running one batcher: the
/// target's LLM mode, and the emulator's LLM servers.
pub(crate) struct Replicas {
    queues: Vec<std_mpsc::SyncSender<Job>>,
    next: AtomicU64,
    plan: LlmPlan,
}

/// A request handed to a replica.
struct Job {
    prompt: u64,
    output: u64,
    /// The most sequences that may wait for admission when it arrives; it
    /// is refused (its stream closed without a token) past that.
    waiting_room: Option<usize>,
    /// Its prompt's KV cache and first token came from a prefill server:
    /// it takes blocks but no prefill, and generates the rest.
    prefilled: bool,
    stream: Stream,
}

/// Where a sequence's tokens go.
struct Stream {
    frames: mpsc::UnboundedSender<Bytes>,
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Server-sent events of `text_completion` chunks.
    Completion,
    /// Server-sent events of `chat.completion.chunk` chunks.
    Chat,
    /// One frame per token (its text); the handler writes the JSON.
    Whole,
}

impl Replicas {
    /// Starts `replicas` replica threads running `plan`.
    pub(crate) fn start(plan: &LlmPlan, replicas: u32) -> std::io::Result<Self> {
        let mut queues = Vec::new();
        for index in 0..replicas.max(1) {
            let (jobs, queue) = std_mpsc::sync_channel(MAX_QUEUED);
            let plan = plan.clone();
            std::thread::Builder::new()
                .name(format!("target-llm-{index}"))
                .spawn(move || serve(plan, &queue))?;
            queues.push(jobs);
        }
        Ok(Self {
            queues,
            next: AtomicU64::new(0),
            plan: plan.clone(),
        })
    }

    /// The plan the replicas run.
    pub(crate) fn plan(&self) -> &LlmPlan {
        &self.plan
    }

    /// Queues a sequence of `prompt` and `output` tokens at `replica`
    /// (`prefilled`: its prompt and first token already computed); the
    /// receiver gets each of its tokens when the step that produced it
    /// ends, and closes after the last, or at once, without a token, when
    /// `waiting_room` sequences already wait for admission. `None` when the
    /// replica's queue is full or the replica has stopped.
    pub(crate) fn submit(
        &self,
        replica: usize,
        (prompt, output): (u64, u64),
        prefilled: bool,
        waiting_room: Option<usize>,
    ) -> Option<mpsc::UnboundedReceiver<Bytes>> {
        let (frames, tokens) = mpsc::unbounded_channel();
        let stream = Stream {
            frames,
            format: Format::Whole,
        };
        self.queue(
            replica % self.queues.len(),
            Job {
                prompt,
                output,
                waiting_room,
                prefilled,
                stream,
            },
        )
        .then_some(tokens)
    }

    fn queue(&self, replica: usize, job: Job) -> bool {
        self.queues[replica].try_send(job).is_ok()
    }

    /// Answers one request.
    pub(super) async fn handle(
        &self,
        request: Request<Incoming>,
    ) -> Response<http_body_util::Either<Full<Bytes>, TokenBody>> {
        let chat = request
            .uri()
            .path()
            .trim_end_matches('/')
            .ends_with("chat/completions");
        let mut body = Vec::new();
        let mut incoming = request.into_body();
        while let Some(frame) = incoming.frame().await {
            let Ok(frame) = frame else {
                return error(400, "the request body broke off");
            };
            if let Some(data) = frame.data_ref() {
                if body.len() + data.len() > MAX_BODY {
                    return error(413, "the request body is over 16 MiB");
                }
                body.extend_from_slice(data);
            }
        }
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return error(400, "the request body is not JSON");
        };
        let prompt = prompt_tokens(&json, chat).max(1);
        let output = ["max_tokens", "max_completion_tokens"]
            .iter()
            .find_map(|k| json.get(k).and_then(serde_json::Value::as_u64))
            .unwrap_or(DEFAULT_MAX_TOKENS)
            .max(1);
        if self.plan.never_fits(prompt, output) {
            return error(
                400,
                &format!(
                    "{prompt} prompt tokens and {output} to generate do not fit this server's \
                     KV cache (or, without chunked prefill, one step's token budget)"
                ),
            );
        }
        let streaming = json
            .get("stream")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let usage = json
            .pointer("/stream_options/include_usage")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let format = match (streaming, chat) {
            (false, _) => Format::Whole,
            (true, false) => Format::Completion,
            (true, true) => Format::Chat,
        };
        let (frames, mut tokens) = mpsc::unbounded_channel();
        if format == Format::Chat {
            let _ = frames.send(event(&serde_json::json!({
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}],
            })));
        }
        #[expect(clippy::cast_possible_truncation, reason = "below the replica count")]
        let replica =
            (self.next.fetch_add(1, Ordering::Relaxed) % self.queues.len() as u64) as usize;
        let job = Job {
            prompt,
            output,
            waiting_room: None,
            prefilled: false,
            stream: Stream { frames, format },
        };
        if !self.queue(replica, job) {
            return error(
                503,
                "the server is shutting down, or has 65,536 requests waiting",
            );
        }
        if streaming {
            let mut response = Response::new(http_body_util::Either::Right(TokenBody {
                tokens,
                usage: usage.then_some((prompt, output, chat)),
                finished: false,
            }));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/event-stream"),
            );
            return response;
        }
        let mut text = String::new();
        let mut produced = 0_u64;
        while let Some(token) = tokens.recv().await {
            text.push_str(&String::from_utf8_lossy(&token));
            produced += 1;
        }
        let answer = if chat {
            serde_json::json!({
                "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "length"}],
                "usage": usage_of(prompt, produced),
            })
        } else {
            serde_json::json!({
                "object": "text_completion",
                "choices": [{"index": 0, "text": text, "finish_reason": "length"}],
                "usage": usage_of(prompt, produced),
            })
        };
        json_response(200, &answer)
    }
}

/// A prompt's tokens: a word each, or the length of a list of token ids.
fn prompt_tokens(json: &serde_json::Value, chat: bool) -> u64 {
    let words = |text: &str| text.split_whitespace().count() as u64;
    if chat {
        return json
            .get("messages")
            .and_then(serde_json::Value::as_array)
            .map_or(0, |messages| {
                messages
                    .iter()
                    .filter_map(|m| m.get("content").and_then(serde_json::Value::as_str))
                    .map(words)
                    .sum()
            });
    }
    match json.get("prompt") {
        Some(serde_json::Value::String(text)) => words(text),
        Some(serde_json::Value::Array(items)) => match items.first() {
            Some(serde_json::Value::String(text)) => words(text),
            Some(serde_json::Value::Array(ids)) => ids.len() as u64,
            _ => items.len() as u64,
        },
        _ => 0,
    }
}

fn usage_of(prompt: u64, output: u64) -> serde_json::Value {
    serde_json::json!({
        "prompt_tokens": prompt,
        "completion_tokens": output,
        "total_tokens": prompt + output,
    })
}

/// One server-sent event carrying `json`.
fn event(json: &serde_json::Value) -> Bytes {
    Bytes::from(format!("data: {json}\n\n"))
}

fn json_response(
    status: u16,
    json: &serde_json::Value,
) -> Response<http_body_util::Either<Full<Bytes>, TokenBody>> {
    let mut response = Response::new(http_body_util::Either::Left(Full::new(Bytes::from(
        json.to_string(),
    ))));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn error(status: u16, message: &str) -> Response<http_body_util::Either<Full<Bytes>, TokenBody>> {
    json_response(
        status,
        &serde_json::json!({"error": {"message": message, "type": "invalid_request_error"}}),
    )
}

/// A streamed answer's body: the token events as the replica sends them,
/// then the usage event (when asked for) and `[DONE]`.
pub(super) struct TokenBody {
    tokens: mpsc::UnboundedReceiver<Bytes>,
    /// Prompt and output tokens, and whether chat, for the usage event.
    usage: Option<(u64, u64, bool)>,
    finished: bool,
}

impl hyper::body::Body for TokenBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        match self.tokens.poll_recv(cx) {
            Poll::Ready(Some(frame)) => Poll::Ready(Some(Ok(Frame::data(frame)))),
            Poll::Ready(None) => {
                self.finished = true;
                let mut tail = String::new();
                if let Some((prompt, output, chat)) = self.usage {
                    let object = if chat {
                        "chat.completion.chunk"
                    } else {
                        "text_completion"
                    };
                    let usage = serde_json::json!({
                        "object": object, "choices": [], "usage": usage_of(prompt, output),
                    });
                    let _ = write!(tail, "data: {usage}\n\n");
                }
                tail.push_str("data: [DONE]\n\n");
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(tail)))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A replica: takes arrivals, runs steps back to back while there is
/// work, and sends each token when its step ends.
fn serve(plan: LlmPlan, queue: &std_mpsc::Receiver<Job>) {
    let mut batch: Batcher<Stream> = Batcher::new(plan);
    let mut sleep = PreciseSleep::default();
    // When the step under way ends; none when idle.
    let mut step_end: Option<Instant> = None;
    loop {
        if step_end.is_none() {
            // Idle: wait for a request.
            let Ok(job) = queue.recv() else { return };
            take(&mut batch, job);
        }
        loop {
            match queue.try_recv() {
                Ok(job) => take(&mut batch, job),
                Err(std_mpsc::TryRecvError::Empty) => break,
                Err(std_mpsc::TryRecvError::Disconnected) => return,
            }
        }
        let step = batch.plan_step();
        if step.time_ns == 0 {
            step_end = None;
            continue;
        }
        // Back to back: a step starts when the last one was due to end, so
        // the timer's small errors do not add up over a busy period: not
        // when the thread woke, which is early about as often as late (an
        // early start each time ran the server about 5% fast).
        #[expect(
            clippy::disallowed_methods,
            reason = "the target runs on the wall clock"
        )]
        let now = Instant::now();
        let start = step_end.unwrap_or(now);
        let end = start + Duration::from_nanos(step.time_ns);
        sleep.sleep_for(end.saturating_duration_since(now));
        step_end = Some(end);
        let finished = batch.finish_step(|seq| {
            let _ = seq.tag.frames.send(token(&seq.tag, seq.generated));
        });
        drop(finished);
    }
}

/// Puts an arrived job in the batcher's queue, or refuses it when its
/// waiting room is full (as the simulator checks a bounded queue).
fn take(batch: &mut Batcher<Stream>, job: Job) {
    if job.waiting_room.is_some_and(|room| batch.waiting() >= room) {
        return;
    }
    if job.prefilled {
        batch.push_prefilled(job.stream, job.prompt, job.output, 1);
    } else {
        batch.push(job.stream, job.prompt, job.output);
    }
}

/// The event (or, unstreamed, the text) of a sequence's `n`-th token.
fn token(stream: &Stream, n: u64) -> Bytes {
    let text = if n == 1 { "tok" } else { " tok" };
    match stream.format {
        Format::Whole => Bytes::from_static(text.as_bytes()),
        Format::Completion => event(&serde_json::json!({
            "object": "text_completion",
            "choices": [{"index": 0, "text": text, "finish_reason": null}],
        })),
        Format::Chat => event(&serde_json::json!({
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}],
        })),
    }
}
