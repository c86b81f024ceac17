//! The emulator's LLM servers: each replica is a thread running continuous
//! batching on the wall clock with the simulator's own rules and step
//! times (the target's LLM mode, [`Replicas`]). A request's prompt and
//! output lengths are drawn from its class's token lengths, as the
//! simulator draws them; it is answered when its last token is out, then
//! makes the server's calls like any service's. Split over two pools, a
//! prefill-only server computes the prompt and first token, then calls its
//! decode-only server with the lengths ([`super::LLM_HEADER`]), which takes
//! the sequence as prefilled and generates the rest.

use std::sync::Arc;
use std::time::Instant;

use super::request::{Context, Served, calls, refused};
use super::station::{Outcome, lock};
use super::{Emulated, LoadError};
use crate::loadgen::target::llm::Replicas;
use crate::model::{LlmPhase, TokenCount};
use crate::sim::plan::Plan;

#[expect(clippy::disallowed_methods, reason = "the emulator runs in real time")]
fn now() -> Instant {
    Instant::now()
}

/// The replicas of each LLM server run here (`only`: the one service run
/// in one-service mode); `None` for other services.
pub(super) fn start(plan: &Plan, only: Option<usize>) -> Result<Vec<Option<Replicas>>, LoadError> {
    (0..)
        .zip(&plan.stations)
        .map(|(index, station)| {
            let Some(llm) = &station.llm else {
                return Ok(None);
            };
            if only.is_some_and(|one| one != index) {
                return Ok(None);
            }
            Replicas::start(llm, station.replicas)
                .map(Some)
                .map_err(|cause| LoadError::Io {
                    what: format!("cannot start LLM server {:?}'s replicas", station.name),
                    cause,
                })
        })
        .collect()
}

/// Serves one request at `replica` of LLM server `station`, arrived at
/// `arrived`: its sequence through the replica's batcher, then its calls.
/// A class without token lengths, a sequence that could never fit the
/// replica, or one arriving when its bounded queue is full, is rejected as
/// the simulator rejects it.
pub(super) async fn serve(
    shared: &Arc<Emulated>,
    (station, replica): (usize, usize),
    context: &Context,
    arrived: Instant,
    replicas: &Replicas,
) -> Served {
    let here = &shared.services[station].replicas[replica];
    let phase = replicas.plan().phase;
    // A decode-only server takes the lengths its prefill server sent; the
    // others draw them from the request's class.
    let lengths = if phase == LlmPhase::Decode {
        context.prefilled
    } else {
        shared
            .plan
            .classes
            .iter()
            .find(|class| class.name == context.class)
            .and_then(|class| class.tokens.as_ref())
            .map(|(prompt, output)| {
                let mut rng = lock(&here.rng);
                (
                    u64::from(TokenCount::tokens_of(prompt.sample(&mut rng))),
                    u64::from(TokenCount::tokens_of(output.sample(&mut rng))),
                )
            })
    };
    let waiting_room = shared.plan.stations[station]
        .queue_capacity
        .map(|room| room as usize);
    // A prefill-only server keeps a sequence for its first token.
    let kept = |(prompt, output): (u64, u64)| match phase {
        LlmPhase::Prefill => (prompt, 1),
        LlmPhase::Both | LlmPhase::Decode => (prompt, output),
    };
    let queued = lengths
        .map(kept)
        .filter(|&(prompt, output)| !replicas.plan().never_fits(prompt, output))
        .and_then(|lengths| {
            replicas.submit(replica, lengths, phase == LlmPhase::Decode, waiting_room)
        });
    let Some(mut tokens) = queued else {
        return refused(here, arrived, Outcome::Rejected);
    };
    // Busy, for the replica's counters, while its sequence is in the
    // server: their mean over the workers (max sequences) is the share of
    // the batch used.
    here.busy(arrived, 1);
    let mut produced = 0_u64;
    while tokens.recv().await.is_some() {
        produced += 1;
    }
    let done = now();
    here.busy(done, -1);
    if produced == 0 {
        // The waiting room was full.
        return refused(here, arrived, Outcome::Rejected);
    }
    // A prefill-only server's calls (to its decode server) carry the
    // sequence's lengths.
    let context = Context {
        prefilled: lengths.filter(|_| phase == LlmPhase::Prefill),
        ..context.clone()
    };
    let called = calls(shared, station, replica, &context, done).await;
    let outcome = if called.ok {
        Outcome::Ok
    } else {
        Outcome::Downstream
    };
    here.answered(arrived, now(), outcome);
    Served {
        outcome,
        arrived,
        granted: Some(arrived),
        finished: called.answered.unwrap_or(done),
    }
}
