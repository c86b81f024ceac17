//! The desktop app (feature `gui`): draw the architecture, run it, and see
//! the results side by side.
//!
//! It depends on [`crate::model`], [`crate::stats`] and [`crate::sim`];
//! nothing depends on it. Panels read the project and push
//! [`Command`](command::Command)s, which [`App`] applies in one place after
//! drawing, so undo and the dirty flag see every change. The node graph is a
//! view rebuilt from the project, never the saved model.

mod app;
pub mod command;
pub mod document;
pub mod edit;
mod editor;
pub mod files;
mod jobs;
mod panels;
pub mod plots;
mod png;
mod selection;
mod theme;

use std::path::PathBuf;

pub use app::{App, AppOptions, Panels};
pub use editor::{Canvas, DEFAULT_NODE};
pub use selection::Selection;

/// The example the app opens with, built into the binary so that it works
/// from any folder.
pub const EXAMPLE: &str = include_str!("../../projects/monolith-vs-microservices.ron");

/// Every bundled example project, by file name, embedded in the binary so
/// File → Examples works from any folder.
pub const EXAMPLES: [(&str, &str); 8] = [
    (
        "monolith-vs-microservices.ron",
        include_str!("../../projects/monolith-vs-microservices.ron"),
    ),
    (
        "recommendation.ron",
        include_str!("../../projects/recommendation.ron"),
    ),
    (
        "three-tier.ron",
        include_str!("../../projects/three-tier.ron"),
    ),
    (
        "llm-serving.ron",
        include_str!("../../projects/llm-serving.ron"),
    ),
    (
        "ml-inference.ron",
        include_str!("../../projects/ml-inference.ron"),
    ),
    (
        "ml-platform.ron",
        include_str!("../../projects/ml-platform.ron"),
    ),
    (
        "retry-storm.ron",
        include_str!("../../projects/retry-storm.ron"),
    ),
    (
        "autoscaling.ron",
        include_str!("../../projects/autoscaling.ron"),
    ),
];

/// The name errors in the bundled example would carry.
pub const EXAMPLE_NAME: &str = "monolith-vs-microservices.ron";

/// Opens the window, with `open` or the bundled example, and runs until it
/// is closed.
pub fn run(
    open: Option<PathBuf>,
    simulate_at_start: bool,
    figures: Vec<plots::Figure>,
) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("archbench")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let app_options = AppOptions {
        open,
        simulate_at_start,
        figures,
        ..AppOptions::default()
    };
    eframe::run_native(
        "archbench",
        options,
        Box::new(|cc| Ok(Box::new(App::new(cc, app_options)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
