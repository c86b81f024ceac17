//! Simulations and sweeps on a background thread, with progress, an ETA and
//! cancelling. The UI thread polls [`Job::poll`] once per frame; the worker
//! asks for a repaint as it progresses, so the window stays live.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use eframe::egui;

use crate::model::Project;
use crate::sim::{
    Budget, SimError, Simulation, SweepAxis, SweepProgress, SweepSpec, sweep_with_progress,
};
use crate::stats::{SimulationReport, SweepReport};

/// What a job produces.
pub enum Outcome {
    /// Every scenario simulated.
    Simulation(SimulationReport),
    /// The sweep finished.
    Sweep(SweepReport),
}

/// Which kind of run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// `archbench simulate`.
    Simulate,
    /// `archbench sweep --rate auto`.
    Sweep,
}

/// A run in progress.
pub struct Job {
    kind: JobKind,
    started: Instant,
    cancel: Arc<AtomicBool>,
    progress: Arc<Progress>,
    done: Receiver<Result<Outcome, SimError>>,
    /// The document revision the run started from.
    revision: u64,
}

/// Shared between the worker and the UI.
#[derive(Default)]
struct Progress {
    /// The finished fraction, as `f64` bits.
    fraction: AtomicU64,
    sweep: SweepProgress,
}

impl Progress {
    fn set(&self, fraction: f64) {
        self.fraction
            .store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }
}

/// Points per scenario in the app's sweep.
const SWEEP_STEPS: u32 = 12;

/// How often the worker asks the UI to redraw.
const REPAINT_EVERY: Duration = Duration::from_millis(50);

impl Job {
    /// Starts `kind` on `project` in a named thread.
    pub fn start(
        kind: JobKind,
        project: Project,
        revision: u64,
        ctx: egui::Context,
    ) -> std::io::Result<Self> {
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Progress::default());
        let (tx, done) = std::sync::mpsc::sync_channel(1);
        let (c, p) = (Arc::clone(&cancel), Arc::clone(&progress));
        std::thread::Builder::new()
            .name(format!("{kind:?}").to_lowercase())
            .spawn(move || work(kind, &project, &c, &p, &tx, &ctx))?;
        Ok(Self {
            kind,
            #[expect(clippy::disallowed_methods, reason = "the GUI shows wall-clock ETA")]
            started: Instant::now(),
            cancel,
            progress,
            done,
            revision,
        })
    }

    /// Which kind of run.
    pub fn kind(&self) -> JobKind {
        self.kind
    }

    /// The document revision the run started from.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Asks the worker to stop; [`Self::poll`] then reports `Cancelled`.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The finished fraction, 0 to 1.
    pub fn fraction(&self) -> f64 {
        match self.kind {
            JobKind::Simulate => f64::from_bits(self.progress.fraction.load(Ordering::Relaxed)),
            JobKind::Sweep => self.progress.sweep.fraction(),
        }
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The time left, extrapolated from progress so far; none at first.
    pub fn eta(&self) -> Option<Duration> {
        let fraction = self.fraction();
        let elapsed = self.elapsed().as_secs_f64();
        (fraction > 0.02 && elapsed > 0.2)
            .then(|| Duration::from_secs_f64(elapsed * (1.0 - fraction) / fraction))
    }

    /// The result, once there is one.
    pub fn poll(&self) -> Option<Result<Outcome, SimError>> {
        match self.done.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(SimError::Cancelled)),
        }
    }
}

fn work(
    kind: JobKind,
    project: &Project,
    cancel: &AtomicBool,
    progress: &Progress,
    tx: &SyncSender<Result<Outcome, SimError>>,
    ctx: &egui::Context,
) {
    let result = match kind {
        JobKind::Simulate => simulate(project, cancel, progress, ctx).map(Outcome::Simulation),
        JobKind::Sweep => {
            let spec = SweepSpec {
                axis: SweepAxis::RateAuto { steps: SWEEP_STEPS },
                scenario: None,
                threads: 0,
                shard: None,
            };
            // The sweep's own threads count points; redraw while they run.
            let finished = AtomicBool::new(false);
            std::thread::scope(|scope| {
                let ticker = std::thread::Builder::new()
                    .name("sweep-progress".into())
                    .spawn_scoped(scope, || {
                        while !finished.load(Ordering::Relaxed) {
                            ctx.request_repaint();
                            std::thread::sleep(REPAINT_EVERY);
                        }
                    });
                let result = sweep_with_progress(project, &spec, cancel, &progress.sweep);
                finished.store(true, Ordering::Relaxed);
                drop(ticker);
                result
            })
            .map(Outcome::Sweep)
        }
    };
    let _ = tx.send(result);
    ctx.request_repaint();
}

/// `sim::simulate`, one slice at a time, reporting progress between slices.
fn simulate(
    project: &Project,
    cancel: &AtomicBool,
    progress: &Progress,
    ctx: &egui::Context,
) -> Result<SimulationReport, SimError> {
    let valid = crate::model::Validated::new(project).map_err(SimError::Invalid)?;
    let count = project.scenarios.len();
    let mut scenarios = Vec::with_capacity(count);
    #[expect(clippy::disallowed_methods, reason = "paces repaints, not results")]
    let mut last_repaint = Instant::now();
    for index in 0..count {
        let mut simulation = Simulation::of(valid, index)?;
        while !simulation.step(Budget::Events(1 << 16)) {
            if cancel.load(Ordering::Relaxed) {
                return Err(SimError::Cancelled);
            }
            progress.set((index as f64 + simulation.progress()) / count as f64);
            if last_repaint.elapsed() >= REPAINT_EVERY {
                ctx.request_repaint();
                last_repaint += last_repaint.elapsed();
            }
        }
        scenarios.push(simulation.outcome()?);
    }
    progress.set(1.0);
    Ok(crate::sim::assemble(project, scenarios))
}
