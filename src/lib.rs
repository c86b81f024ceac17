//! archbench: design a system of services, simulate it, measure it, compare.
//!
//! ```text
//!   cli ──────────────┐
//!    │                ▼
//!    ├──────────►   sim  ──► stats
//!    │                │
//!    └──────────► model ◄─────┘
//! ```
//!
//! - [`model`]: the document (projects, scenarios, services, links, workload),
//!   its `.ron` format and validation. Plain data.
//! - [`stats`]: fixed-memory latency histograms, summaries and report writers.
//! - [`sim`]: the deterministic discrete-event simulator. Pure: no wall clock,
//!   no I/O, no threads.
//! - `loadgen` (feature `loadgen`): the live load generator and a target
//!   server, on tokio. It reads the wall clock and the network.
//! - [`cli`]: the headless front end, `archbench check | simulate | sweep |
//!   load | target`.
//! - `gui` (feature `gui`): the desktop app, on eframe. It depends on
//!   everything above; nothing depends on it.

pub mod cli;
#[cfg(feature = "gui")]
pub mod gui;
#[cfg(feature = "loadgen")]
pub mod loadgen;
pub mod model;
pub mod sim;
pub mod stats;
